// `embed`: the built-in offline text embedder (tfidf-svd, 256 dimensions) on Amazon Beauty's item texts.
import { join } from 'node:path';
import { embedTexts, generateData, type TextEmbeddingInfo } from '../pipelines/index.js';
import { beautyAbsent, beautyFiles, loadBeauty } from './datasets.js';
import { summarize, timeRepeated } from './measure.js';
import type { Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

const FULL = { warmup: 1, runs: 2, dim: 256 };
const QUICK = { warmup: 0, runs: 2, dim: 16 };

export const embedSuite: Suite = {
  name: 'embed',
  describe: 'tfidf-svd text embeddings, 256 dimensions, of Amazon Beauty\'s 12,101 item texts',
  usesBackend: false,
  threadsVariant: false,
  webgpuVariant: false,
  async run(options: SuiteOptions, _variant: Variant): Promise<VariantOutput> {
    const c = options.quick ? QUICK : FULL;
    let texts: string[];
    let source: string;
    if (options.quick) {
      texts = generateData({ users: 200, items: 120 }).items.texts;
      source = 'generated items';
    } else {
      const files = beautyFiles(options.dataDir);
      if (!files) return { figures: [], notes: [beautyAbsent(options.dataDir)] };
      texts = (await loadBeauty(files, join(options.workDir, 'beauty'))).items.texts;
      source = 'Amazon Beauty items';
    }
    let info: TextEmbeddingInfo | null = null;
    const seconds = await timeRepeated(() => { info = embedTexts(texts, { dim: c.dim }).info; }, { warmup: c.warmup, runs: c.runs });
    const samples = summarize(seconds);
    const i = info! as TextEmbeddingInfo;
    return {
      figures: [{
        key: 'embed.tfidfSvd.seconds', label: `tfidf-svd ${c.dim}-d, ${texts.length.toLocaleString('en-US')} ${source}`,
        value: samples.median, unit: 's', higherIsBetter: false, samples,
        detail: { items: texts.length, dim: i.dim, vocabulary: i.vocabulary, nonZeros: i.nonZeros, explainedVariance: i.explainedVariance, tokenizer: i.tokenizer },
      }, {
        key: 'embed.tfidfSvd.itemsPerSec', label: 'tfidf-svd items/s', value: texts.length / samples.median, unit: 'items/s', higherIsBetter: true,
      }],
      notes: [],
    };
  },
};

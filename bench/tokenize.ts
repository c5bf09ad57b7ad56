// `tokenize`: fit time of every tokenizer method (RQ-KMeans, RQ-VAE, FSQ, residual FSQ) through the
// pipeline users run (`fitTokenizer`: fit, encode, disambiguate, write), on 12,101 x 768 item embeddings:
// Beauty's tfidf-svd text embeddings at 768 dimensions when the data is present, else a random matrix.
// Each method's default config (3 x 256 for the residual methods); codebook health comes with the time.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { embedTexts, fitTokenizer } from '../pipelines/index.js';
import { tokenizerMethods, type EmbeddingMatrix, type TokenizerReport } from '../tokenizer/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../tokenizer/io/index.js';
import { beautyAbsent, beautyFiles, loadBeauty } from './datasets.js';
import { gaussianMatrix } from './kmeans.js';
import { summarize, timeRepeated } from './measure.js';
import type { Figure, Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

export const TOKENIZER_METHODS = ['rqkmeans', 'rqvae', 'fsq', 'rfsq'] as const;
/** The part that only prepares (embeds) the input matrix for the methods' parts. */
const INPUT_PART = 'input';

/** Timed fits per method: RQ-KMeans is quick (target < 20 s); the trained methods run once. */
const FULL_RUNS: Record<string, { warmup: number; runs: number }> = {
  rqkmeans: { warmup: 0, runs: 3 }, rqvae: { warmup: 0, runs: 1 }, fsq: { warmup: 0, runs: 1 }, rfsq: { warmup: 0, runs: 1 },
};

/** Small configs for --quick (seconds): keys each method accepts. */
const QUICK_CONFIGS: Record<string, Record<string, unknown>> = {
  rqkmeans: { levels: 2, codebookSize: 16, iterations: 3 },
  rqvae: { levels: 2, codebookSize: 16, hidden: [16], latentDim: 4, epochs: 1, batchSize: 128 },
  fsq: { levels: 2, fsqLevels: [4, 4], hidden: [16], epochs: 1, batchSize: 128 },
  rfsq: { levels: 2, fsqLevels: [4, 4], hidden: [16], epochs: 1, batchSize: 128 },
};
/** --quick fits 400 items into few codes: a disambiguation range that always fits them. */
const QUICK_DEDUP = 400;

type Input = { x: EmbeddingMatrix; source: string; notes: string[] };

async function inputMatrix(options: SuiteOptions): Promise<Input> {
  if (options.quick) return { x: gaussianMatrix(400, 16, 3), source: 'random 400 x 16', notes: [] };
  const files = beautyFiles(options.dataDir);
  if (!files) {
    return { x: gaussianMatrix(12_101, 768, 3), source: 'random normal 12,101 x 768', notes: [`${beautyAbsent(options.dataDir)}; fitted a random 12,101 x 768 matrix instead`] };
  }
  // Embedded once per suite run and shared by the methods' child processes through the cache folder.
  const cache = options.cacheDir ? join(options.cacheDir, 'beauty-tfidf-svd-768') : null;
  if (cache) {
    try {
      const meta = JSON.parse(await readFile(`${cache}.json`, 'utf8')) as Omit<Input, 'x'> & { rows: number; dim: number };
      const bytes = await readFile(`${cache}.f32`);
      const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
      return { x: { rows: meta.rows, dim: meta.dim, data }, source: meta.source, notes: meta.notes };
    } catch {
      // not prepared yet
    }
  }
  const beauty = await loadBeauty(files, join(options.workDir, 'beauty'));
  const t0 = performance.now();
  const { matrix } = embedTexts(beauty.items.texts, { dim: 768 });
  const seconds = (performance.now() - t0) / 1000;
  const input: Input = {
    x: matrix, source: `Amazon Beauty tfidf-svd ${matrix.rows.toLocaleString('en-US')} x ${matrix.dim}`,
    notes: [`input: Beauty item texts embedded by tfidf-svd at ${matrix.dim} dimensions in ${seconds.toFixed(1)} s (not timed as a figure)`],
  };
  if (cache) {
    await writeFileAtomic(`${cache}.f32`, new Uint8Array(matrix.data.buffer, matrix.data.byteOffset, matrix.data.byteLength));
    await writeJsonAtomic(`${cache}.json`, { rows: matrix.rows, dim: matrix.dim, source: input.source, notes: input.notes });
  }
  return input;
}

export const tokenizeSuite: Suite = {
  name: 'tokenize',
  describe: 'tokenizer fit time (rqkmeans, rqvae, fsq, rfsq; default configs, 3 x 256) on 12,101 x 768 Beauty embeddings',
  usesBackend: true,
  threadsVariant: false,
  webgpuVariant: false,
  /**
   * One child per method: a long or crashing fit keeps the other methods' figures, and each method's
   * --timeout covers its own fits only: the input is embedded first, in its own child (--quick: one child).
   */
  parts(options: { quick: boolean }): string[] {
    return options.quick ? [] : [INPUT_PART, ...TOKENIZER_METHODS];
  },
  async run(options: SuiteOptions, _variant: Variant): Promise<VariantOutput> {
    const { x, source, notes } = await inputMatrix(options);
    if (options.part === INPUT_PART) return { figures: [], notes };
    const registered = new Set(tokenizerMethods());
    const figures: Figure[] = [];
    const methods = options.part ? [options.part] : TOKENIZER_METHODS;
    for (const method of methods) {
      if (!registered.has(method)) {
        notes.push(`${method}: not registered in this build (tokenizer methods: ${[...registered].join(', ')}): skipped`);
        continue;
      }
      const config = options.quick ? QUICK_CONFIGS[method] : {};
      const reps = options.quick ? { warmup: 0, runs: 1 } : FULL_RUNS[method];
      let report: TokenizerReport | null = null;
      let seconds: number[];
      try {
        seconds = await timeRepeated(async () => {
          report = (await fitTokenizer({ matrix: x, method, config, out: join(options.workDir, `tok-${method}`), silent: true, seed: 0,
            dedupSize: options.quick ? QUICK_DEDUP : undefined })).report;
        }, reps);
      } catch (err) {
        notes.push(`${method}: fit failed: ${(err as Error).message}`);
        continue;
      }
      const samples = summarize(seconds);
      const r = report! as TokenizerReport;
      figures.push({
        key: `tokenize.${method}.fitSeconds`, label: `fit ${method}, ${source}`, value: samples.median, unit: 's', higherIsBetter: false, samples,
        detail: {
          method, config, rows: x.rows, dim: x.dim,
          levels: r.levels.map((l) => ({ size: l.size, used: l.used, usage: l.usage, perplexity: l.perplexity })),
          distinctIds: r.distinctIds, collisionRate: r.collisionRate, maxBucket: r.maxBucket,
          reconstruction: r.reconstruction, relativeReconstruction: r.relativeReconstruction, methodFitSeconds: r.fitSeconds,
        },
      });
    }
    return { figures, notes };
  },
};

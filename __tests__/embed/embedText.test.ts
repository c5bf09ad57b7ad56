// `embed text`, `embed report`, `embed train-spm` on a small fixture data set, and a quick real-data check.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { embeddingsPath, readDataset, readEmbeddings } from '../../pipelines/data/index.js';
import {
  computeEmbeddingReport, embedText, embedTexts, embeddingReport, findSpmTrain, formatEmbeddingReport, nearestNeighbours,
  resolveEmbedTextConfig, trainSentencePiece,
} from '../../pipelines/embed/index.js';
import { sentencePieceTerms } from '../../pipelines/embed/sentencePiece.js';
import { writeFixtureDataset } from './fixtures.js';

const SPM_MISSING = 'spm_train is not installed (Debian/Ubuntu: apt-get install sentencepiece)';
const spmTrain = await findSpmTrain();
if (!spmTrain) console.warn(`skipped: ${SPM_MISSING}`);
/** A test that runs spm_train: skipped, with the reason in its name, where it is not installed. */
function itWithSpmTrain(name: string, fn: () => Promise<unknown>): void {
  if (spmTrain) it(name, fn);
  else it.skip(`${name} (skipped: ${SPM_MISSING})`, fn);
}

let data: string;
beforeAll(async () => {
  data = await writeFixtureDataset();
});
afterAll(async () => {
  await rm(dirname(data), { recursive: true, force: true });
});

function unitNorms(data: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.length / dim; i++) out.push(Math.hypot(...data.subarray(i * dim, (i + 1) * dim)));
  return out;
}

describe('embedText (n-gram tokenizer)', () => {
  it('writes unit-length embeddings, metadata and a report where same-category pairs are closer', async () => {
    const r = await embedText({ data, config: { dim: 8, seed: 3 }, silent: true });
    expect(r.path).toBe(embeddingsPath(data, 'default'));
    const m = await readEmbeddings(data);
    expect([m.rows, m.dim]).toEqual([36, 8]);
    unitNorms(m.data, 8).forEach((x) => expect(x).toBeCloseTo(1, 5));
    expect(r.info.tokenizer).toMatch(/^ngram/);
    expect(r.info.explainedVariance).toBeGreaterThan(0);
    expect(r.info.explainedVariance).toBeLessThanOrEqual(1 + 1e-9);
    const report = JSON.parse(await readFile(r.reportPath, 'utf8'));
    expect(report.dim).toBe(8);
    expect(report.sameCategoryCosine).toBeGreaterThan(report.randomPairCosine + 0.3);
    expect(report.neighbourCategoryAgreement).toBeGreaterThan(0.9);
    expect(report.samples).toHaveLength(5);
    expect(report.samples[0].neighbours).toHaveLength(5);
    const text = formatEmbeddingReport(r.report);
    expect(text).toMatch(/mean cosine: same most-specific category 0\.\d{3} vs random pairs -?0\.\d{3}/);
    expect(text).toMatch(/embeddings "default": 36 items x 8 dimensions/);
  });

  it('is deterministic: the same seed gives identical bytes', async () => {
    await embedText({ data, name: 'a', config: { dim: 6, seed: 11 }, silent: true });
    await embedText({ data, name: 'b', config: { dim: 6, seed: 11 }, silent: true });
    const a = await readFile(embeddingsPath(data, 'a'));
    const b = await readFile(embeddingsPath(data, 'b'));
    expect(a.equals(b)).toBe(true);
  });

  it('clamps the dimension to the rank of the TF-IDF matrix and says so', async () => {
    const r = await embedText({ data, name: 'wide', config: { dim: 500 }, silent: true });
    expect(r.info.dim).toBeLessThanOrEqual(36);
    expect(r.info.dimClamped).toMatch(/^dim 500 > min\(items 36, terms \d+\) = 36; the TF-IDF matrix has rank \d+, so \d+ dimensions$/);
    expect((await readEmbeddings(data, 'wide')).dim).toBe(r.info.dim);
    expect(formatEmbeddingReport(r.report)).toMatch(/note: fewer dimensions than asked: dim 500 > min\(items 36/);
  });

  it('embeds in memory with words only, and validates its config', () => {
    const texts = (async () => (await readDataset(data)).items.texts)();
    return texts.then((t) => {
      const e = embedTexts(t, { dim: 4, charNgrams: null });
      expect(e.info.tokenizer).toBe('ngram words 1-2, chars none');
      // Words only, unique words pruned (minDf 2): the items of a category have equal rows, so rank 3.
      expect(e.matrix.dim).toBe(3);
      expect(e.info.dimClamped).toBe('the TF-IDF matrix has numerical rank 3 < dim 4, so 3 dimensions');
      expect(() => resolveEmbedTextConfig({ dim: 0 })).toThrow('`dim` must be an integer >= 1, got 0');
      expect(() => resolveEmbedTextConfig({ method: 'bert' as 'tfidf-svd' })).toThrow('`method` must be one of tfidf-svd, got "bert"');
      expect(() => embedTexts(['a b', 'c d'], { dim: 2 })).toThrow(/no term appears in at least minDf=2 items/);
    });
  });

  it('gives items without usable text the zero vector and reports them', () => {
    const e = embedTexts(['red nail polish', 'blue nail polish', '', 'zzz'], { dim: 2, charNgrams: null });
    expect(e.info.emptyItems).toBe(2);
    const { dim } = e.matrix;
    expect(Array.from(e.matrix.data.subarray(2 * dim, 4 * dim)).every((v) => v === 0)).toBe(true);
    expect(unitNorms(e.matrix.data.subarray(0, 2 * dim), dim).map((x) => Math.round(x * 1e5) / 1e5)).toEqual([1, 1]);
  });
});

describe('embeddingReport and nearestNeighbours', () => {
  it('recomputes the report from files, including the embeddings metadata', async () => {
    await embedText({ data, name: 'rep', config: { dim: 5 }, silent: true });
    const { report, reportPath } = await embeddingReport({ data, name: 'rep', samples: 2, neighbours: 3 });
    expect(reportPath).toBe(join(data, 'embeddings', 'rep.report.json'));
    expect(report.samples.map((s) => s.neighbours.length)).toEqual([3, 3]);
    expect(report.source.method).toBe('tfidf-svd');
    await expect(embeddingReport({ data, name: 'absent' })).rejects.toThrow(/no embeddings named "absent"/);
  });

  it('finds exact neighbours by cosine on a small matrix', () => {
    const m = { rows: 4, dim: 2, data: Float32Array.from([1, 0, 0.9, 0.1, 0, 1, -1, 0]) };
    const [n0, n3] = nearestNeighbours(m, [0, 3], 2);
    expect(n0.map((x) => x.item)).toEqual([1, 2]);
    expect(n0[0].similarity).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 5);
    expect(n3.map((x) => x.item)).toEqual([2, 1]);
    expect(n3[0].similarity).toBeCloseTo(0, 5);
  });

  it('works without categories (no same-category figure)', () => {
    const m = { rows: 3, dim: 2, data: Float32Array.from([1, 0, 0, 1, 1, 1]) };
    const r = computeEmbeddingReport(m, { keys: ['a', 'b', 'c'], texts: ['x', 'y', 'z'], categories: [[], [], []] }, 't');
    expect(r.sameCategoryCosine).toBeNull();
    expect(formatEmbeddingReport(r)).toMatch(/no item shares a category/);
  });
});

describe('SentencePiece', () => {
  it('says how to install spm_train when it is absent', async () => {
    const saved = process.env.SEMID_SPM_TRAIN;
    process.env.SEMID_SPM_TRAIN = '/nonexistent/spm_train';
    try {
      expect(await findSpmTrain()).toBeNull();
      await expect(trainSentencePiece({ data, vocabSize: 50, out: join(dirname(data), 'x.model') }))
        .rejects.toThrow(/needs the spm_train program, which is not installed: .*apt-get install sentencepiece/);
    } finally {
      if (saved === undefined) delete process.env.SEMID_SPM_TRAIN;
      else process.env.SEMID_SPM_TRAIN = saved;
    }
  });

  it('rejects a file that is not a model', async () => {
    await expect(sentencePieceTerms(join(data, 'manifest.json'))).rejects.toThrow(/not a SentencePiece model file/);
    await expect(sentencePieceTerms(join(data, 'absent.model'))).rejects.toThrow(/absent\.model: file not found/);
  });

  itWithSpmTrain('trains a model with spm_train and embeds with its pieces', async () => {
    const model = join(dirname(data), 'items.model');
    const trained = await trainSentencePiece({ data, vocabSize: 60, out: model });
    expect(existsSync(model)).toBe(true);
    expect(existsSync(join(dirname(data), 'items.vocab'))).toBe(true);
    expect(trained.pieces).toBeGreaterThan(10);
    const terms = await sentencePieceTerms(model);
    const pieces = terms('Essie nail polish');
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces.every((p) => p.startsWith('p:'))).toBe(true);
    const r = await embedText({ data, name: 'spm', spmModel: model, config: { dim: 6 }, silent: true });
    expect(r.info.tokenizer).toBe(`sentencepiece ${model}`);
    expect(r.report.sameCategoryCosine!).toBeGreaterThan(r.report.randomPairCosine + 0.3);
  });
});

const BEAUTY = join(process.cwd(), '..', 'shared', 'data', 'beauty', 'Beauty.items.jsonl');
const describeReal = existsSync(BEAUTY) ? describe : describe.skip;
if (!existsSync(BEAUTY)) console.warn(`skipped: ${BEAUTY} is absent (real-data embedding check)`);

describeReal('real data (first 1,500 Beauty items)', () => {
  it('puts same-category items clearly closer than random pairs', async () => {
    const lines = (await readFile(BEAUTY, 'utf8')).trim().split('\n').slice(0, 1500).map((l) => JSON.parse(l));
    // Title and brand only: the category is not in the text, so the figure is not a text match.
    const texts = lines.map((o) => [o.title_words, o.brand].filter((x) => x && x !== 'Unknown').join(' | '));
    const e = embedTexts(texts, { dim: 64 });
    const items = { keys: lines.map((o) => String(o.id)), texts, categories: lines.map((o) => o.categories ?? []) };
    const r = computeEmbeddingReport(e.matrix, items, 'beauty', { pairs: 5000, samples: 1 });
    expect(r.categoriesInText).toBeLessThan(0.2);
    expect(r.sameCategoryCosine!).toBeGreaterThan(r.randomPairCosine + 0.1);
  });
});

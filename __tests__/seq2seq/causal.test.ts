// The causal semantic-ID model and the SASRec baseline: windows cover every target once, the causal mask (no
// position sees its own or a later item), the loss counts exactly the real positions, the parallel head's exact
// ranking equals brute-force scoring of every item, the autoregressive head's beam scores equal the summed
// per-level log-probabilities, resume is bit for bit, and nothing leaks.
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beamSearch, PrefixTrie, sumLevelScores } from '../../decoding/index.js';
import {
  Batcher, CausalModel, createModel, initBackend, resolveModelConfig, resolveTrainConfig, sequenceWindows, train, Vocab, windowBatch,
  type ModelConfig, type SequenceModel, type TrainingData,
} from '../../seq2seq/index.js';
import { tinyCatalog } from './helpers.js';

const cat = tinyCatalog();
const ITEMS = 24;
let dir: string;

beforeAll(async () => {
  await initBackend({ quiet: true });
  dir = await mkdtemp(join(tmpdir(), 'semid-causal-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Users walk the catalog (item t+1 = 5 item t + 1 mod 24), lengths 3..12. */
function sequences(users = 16): { user: number; items: Int32Array }[] {
  return Array.from({ length: users }, (_, u) => {
    const n = 3 + (u % 10);
    const items = new Int32Array(n);
    items[0] = (u * 7) % ITEMS;
    for (let t = 1; t < n; t++) items[t] = (items[t - 1] * 5 + 1) % ITEMS;
    return { user: u, items };
  });
}

function data(): TrainingData {
  return { sequences: sequences(), examples: () => { throw new Error('causal models train on sequences'); }, itemCodes: cat };
}

function model(overrides: Partial<ModelConfig>): SequenceModel {
  const c = resolveModelConfig({ arch: 'causal', decoderLayers: 1, dModel: 16, heads: 2, headDim: 8, dFF: 32, dropout: 0, userBuckets: 0, maxHistory: 4, ...overrides });
  return createModel(c, new Vocab({ levels: cat.levels, userBuckets: c.userBuckets, items: ITEMS }));
}

test('windows of maxHistory + 1 items cover every target of every sequence exactly once', () => {
  const seqs = sequences();
  const windows = sequenceWindows(seqs, 5);
  for (const { user, items } of seqs) {
    const covered: number[] = [];
    for (const w of windows.filter((x) => x.user === user)) {
      expect(w.history.length).toBeLessThanOrEqual(5);
      const start = w.history.byteOffset / 4 - items.byteOffset / 4;
      for (let h = 1; h < w.history.length; h++) covered.push(start + h);
    }
    expect(covered.sort((a, b) => a - b)).toEqual(Array.from({ length: items.length - 1 }, (_, i) => i + 1));
  }
  expect(() => sequenceWindows(seqs, 1)).toThrow(/window size must be an integer >= 2, got 1/);
});

test('the loss counts exactly the real positions, each with its next item as the target', () => {
  const batcher = new Batcher(new Vocab({ levels: cat.levels, userBuckets: 0 }), cat, 4, 'item');
  const windows = sequenceWindows(sequences(), 5).slice(0, 6);
  const b = windowBatch(batcher, windows);
  expect(b.targetPos.length).toBe(windows.reduce((n, w) => n + w.history.length - 1, 0));
  const S = b.ctx.srcLen;
  b.targetPos.forEach((pos, t) => {
    const row = Math.floor(pos / S);
    const at = b.items[pos];
    const w = windows[row].history;
    const h = w.indexOf(at);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(b.targetItem[t]).toBe(w[h + 1]);
  });
});

test.each(['autoregressive', 'parallel'] as const)('causal mask: a position\'s state depends on no later item (%s head), cell by cell', (head) => {
  const m = model({ head, idEmbedding: true }) as CausalModel;
  const before = tf.memory().numTensors;
  const batcher = new Batcher(m.vocab, cat, 4, 'item');
  const base = Int32Array.from([3, 8, 17, 14]);
  // One pass over the whole history: row i of the states is the position of item i (right-aligned, S = 1 + 4).
  const state = (history: Int32Array): number[][] => tf.tidy(() => {
    const h = m.contextStates([{ user: 0, history }], batcher).arraySync() as number[][][];
    return h[0].slice(1);
  });
  const ref = state(base);
  for (let j = 0; j < base.length; j++) {
    const changed = base.slice();
    changed[j] = (changed[j] + 5) % ITEMS;
    const got = state(changed);
    for (let i = 0; i < base.length; i++) {
      const diff = Math.max(...got[i].map((v, k) => Math.abs(v - ref[i][k])));
      if (j > i) expect(diff).toBeLessThan(1e-5); // a later item: invisible
      else expect(diff).toBeGreaterThan(1e-4); // its own or an earlier item: seen
    }
  }
  expect(tf.memory().numTensors).toBe(before);
  m.dispose();
});

test('parallel head: exact catalog ranking equals brute-force scoring of every item', async () => {
  const m = model({ head: 'parallel' });
  const scorer = m.scorer(cat);
  if (scorer.kind !== 'catalog') throw new Error('expected a catalog scorer');
  const users = [{ user: 1, history: Int32Array.from([2, 11]) }, { user: 2, history: Int32Array.from([5]) }];
  const scores = await scorer.catalog.scoreCatalog(users);
  // Brute force over a known matrix: each item's score is its codes' per-level values, summed by hand.
  const L = cat.levels.length;
  const width = cat.levels.reduce((a, b) => a + b, 0);
  const fake = Float32Array.from({ length: 2 * width }, (_, i) => Math.sin(i));
  const summed = sumLevelScores(fake, cat.levels, cat.codes);
  for (let u = 0; u < 2; u++) {
    for (let i = 0; i < ITEMS; i++) {
      let expected = 0;
      let off = 0;
      for (let l = 0; l < L; l++) {
        expected += fake[u * width + off + cat.codes[i * L + l]];
        off += cat.levels[l];
      }
      expect(summed[u * ITEMS + i]).toBeCloseTo(expected, 5);
    }
  }
  // The model's scores are log-probabilities of a distribution over all code tuples: the catalog's sum is <= 1.
  for (let u = 0; u < 2; u++) {
    const total = Array.from(scores.subarray(u * ITEMS, (u + 1) * ITEMS)).reduce((a, s) => a + Math.exp(s), 0);
    expect(total).toBeLessThanOrEqual(1 + 1e-5);
    expect(total).toBeGreaterThan(0);
  }
  m.dispose();
});

test('parallel head, catalog loss: the training loss is the mean of -log p(target) under the scorer that ranks', async () => {
  const m = model({ head: 'parallel', headLoss: 'catalog', idEmbedding: true });
  const pairs = [[2, 11], [5, 0], [7, 7], [23, 4]];
  const windows = pairs.map(([a, b], u) => ({ user: u, history: Int32Array.from([a, b]) }));
  const data: TrainingData = { sequences: windows.map((w) => ({ user: w.user, items: w.history })), examples: () => [], itemCodes: cat };
  const set = m.trainingSet(data);
  const lossTensor = set.batch(Uint32Array.from(windows, (_, i) => i)).loss(null);
  const loss = (await lossTensor.data())[0];
  lossTensor.dispose();
  const scorer = m.scorer(cat);
  if (scorer.kind !== 'catalog') throw new Error('expected a catalog scorer');
  const scores = await scorer.catalog.scoreCatalog(pairs.map(([a], u) => ({ user: u, history: Int32Array.from([a]) })));
  const expected = -pairs.reduce((sum, [, b], u) => sum + scores[u * ITEMS + b], 0) / pairs.length;
  expect(loss).toBeCloseTo(expected, 4);
  // Log-probabilities over exactly the catalog: they sum to 1 per user.
  for (let u = 0; u < pairs.length; u++) expect(Array.from(scores.subarray(u * ITEMS, (u + 1) * ITEMS)).reduce((a, x) => a + Math.exp(x), 0)).toBeCloseTo(1, 4);
  m.dispose();
});

test('the catalog loss needs the parallel head', () => {
  expect(() => resolveModelConfig({ arch: 'causal', head: 'autoregressive', headLoss: 'catalog' })).toThrow(/headLoss "catalog" needs the parallel head/);
});

test('autoregressive head: beam search with a full beam returns every item, scored by the summed per-level log-probabilities', async () => {
  const m = model({ head: 'autoregressive' });
  const scorer = m.scorer(cat);
  if (scorer.kind !== 'beam') throw new Error('expected a step scorer');
  const trie = PrefixTrie.build(cat);
  const ctx = [{ user: 0, history: Int32Array.from([4, 9]) }];
  const { candidates } = await beamSearch(scorer.step, trie, ctx, { beamSize: ITEMS, topK: ITEMS });
  expect(candidates[0].length).toBe(ITEMS);
  const total = candidates[0].reduce((a, c) => a + Math.exp(c.score), 0);
  expect(total).toBeLessThanOrEqual(1 + 1e-5);
  for (let k = 1; k < candidates[0].length; k++) expect(candidates[0][k - 1].score).toBeGreaterThanOrEqual(candidates[0][k].score);
  m.dispose();
});

test.each([
  ['causal, autoregressive', { arch: 'causal', head: 'autoregressive' }],
  ['causal, parallel + ID embedding', { arch: 'causal', head: 'parallel', idEmbedding: true }],
  ['causal, parallel, catalog loss', { arch: 'causal', head: 'parallel', headLoss: 'catalog', idEmbedding: true }],
  ['sasrec', { arch: 'sasrec' }],
] as const)('%s: learns the walk, resumes bit for bit, leaks no tensors', async (name, overrides) => {
  const config = resolveTrainConfig({ steps: 6, batchSize: 8, lr: 0.01, warmupSteps: 1, evalEvery: 0, checkpointEvery: 3, seed: 2 });
  const before = tf.memory().numTensors;
  const straight: number[] = [];
  const a = model({ ...overrides, dropout: 0.1 });
  await train({ model: a, config, data: a.trainingSet(data()), outDir: join(dir, `${name}-a`), silent: true, onStep: (_, l) => straight.push(l) });
  a.dispose();
  const b = model({ ...overrides, dropout: 0.1 });
  await train({ model: b, config, data: b.trainingSet(data()), outDir: join(dir, `${name}-b`), silent: true, maxStepsThisRun: 3 });
  b.dispose();
  const c = model({ ...overrides, dropout: 0.1, seed: 9 });
  const resumed: number[] = [];
  await train({ model: c, config, data: c.trainingSet(data()), outDir: join(dir, `${name}-b`), silent: true, resume: true, onStep: (_, l) => resumed.push(l) });
  c.dispose();
  expect(resumed).toEqual(straight.slice(3));
  expect(tf.memory().numTensors).toBe(before);
});

test('the scorer refuses a history window longer than the model was trained with', () => {
  const m = model({});
  expect(() => m.scorer(cat, { maxHistory: 9 })).toThrow(/maxHistory must be an integer in \[1, 4\] \(the model was trained with 4\), got 9/);
  m.dispose();
});

test('the causal and sasrec presets resolve to their architectures', () => {
  expect(resolveModelConfig({}, 'causal')).toMatchObject({ arch: 'causal', encoderLayers: 0, head: 'parallel', headLoss: 'catalog', idEmbedding: true });
  expect(resolveModelConfig({}, 'sasrec')).toMatchObject({ arch: 'sasrec', encoderLayers: 0 });
  expect(() => resolveModelConfig({ arch: 'encdec', encoderLayers: 0 })).toThrow(/`encoderLayers` must be an integer >= 1 for the encdec architecture, got 0/);
});

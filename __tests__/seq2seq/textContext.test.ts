// Text in the context (textContext.ts): the layout (text markers right before the user token), the config checks,
// beam search with text equal to exhaustive scoring under the teacher-forced forward (incremental and plain paths),
// the text changing the output and a dropped text equal to none, preference dropout from the seeds, the causal model
// reading text, and no tensor leaks.
import * as tf from '@tensorflow/tfjs';
import { beamSearch, PrefixTrie } from '../../decoding/index.js';
import {
  Batcher, createModel, DropoutSeeds, initBackend, resolveModelConfig, Vocab, type ModelConfig, type TokenModel, type TrainingData, type TrainingExample,
} from '../../seq2seq/index.js';
import { levelLogits, withTextDropout } from '../../seq2seq/model.js';
import { stepDropoutSeeds } from '../../seq2seq/trainer.js';
import { dropTextMask, textMarker } from '../../seq2seq/textContext.js';
import { PAD } from '../../seq2seq/vocab.js';
import { beamScorer, tinyCatalog, walkExamples } from './helpers.js';

const cat = tinyCatalog(); // 24 items, levels [4, 3, 2]
const L = cat.levels.length;
const DIM = 6;

beforeAll(async () => {
  await initBackend({ quiet: true });
});

function unit(seed: number): Float32Array {
  const v = Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function setup(overrides: Partial<ModelConfig> = {}): { model: TokenModel; batcher: Batcher } {
  const cfg = resolveModelConfig({ dropout: 0, textTokens: 2, textDim: DIM, ...overrides }, 'tiny');
  const vocab = new Vocab({ levels: cat.levels, userBuckets: cfg.userBuckets, items: 24 });
  const model = createModel(cfg, vocab) as TokenModel;
  return { model, batcher: new Batcher(vocab, cat, cfg.maxHistory, cfg.historyTokens, cfg.textTokens, cfg.textDim) };
}

/** Users with histories of 1..5 items; every other one has a text; one is a query (no user, no history). */
function users(): TrainingExample[] {
  const us: TrainingExample[] = walkExamples(5, 24).map((e, u) => ({ ...e, text: u % 2 === 0 ? unit(u) : null }));
  us.push({ user: -1, history: new Int32Array(0), target: 0, text: unit(9) });
  return us;
}

test('config: text tokens need a text dimension and an architecture that reads text', () => {
  expect(() => resolveModelConfig({ textTokens: 2 })).toThrow(/`textDim` must be an integer >= 1 when textTokens is 2 \(train sets it from the text encoder\), got 0/);
  expect(() => resolveModelConfig({ arch: 'sasrec', textTokens: 1, textDim: 4 })).toThrow(/`textTokens` needs an architecture that reads text context \(encdec, causal\), got arch "sasrec"/);
  expect(() => resolveModelConfig({ textTokens: -1 })).toThrow(/`textTokens` must be an integer >= 0, got -1/);
  expect(() => resolveModelConfig({ textDropout: 1 })).toThrow(/`textDropout` must be a number in \[0, 1\), got 1/);
  expect(resolveModelConfig({}).textTokens).toBe(0);
});

test('layout: K text markers right before the user token, masked without text; a query has no user', () => {
  const vocab = new Vocab({ levels: cat.levels, userBuckets: 4 });
  const b = new Batcher(vocab, cat, 3, 'item', 2, DIM);
  const ctx = b.contexts([
    { user: 3, history: Int32Array.from([1, 2]), text: unit(1) },
    { user: 4, history: Int32Array.from([7]) },
    { user: -1, history: new Int32Array(0), text: unit(2) },
  ]);
  expect(ctx.srcLen).toBe(2 + 1 + 2); // K + user + longest history
  const slot0 = (row: number) => Array.from({ length: ctx.srcLen }, (_, p) => ctx.src[(row * ctx.srcLen + p) * ctx.slots]);
  expect(slot0(0)).toEqual([textMarker(0), textMarker(1), vocab.userToken(3), cat.codes[1 * L] + vocab.levelOffsets[0], cat.codes[2 * L] + vocab.levelOffsets[0]]);
  expect(Array.from(ctx.srcMask.subarray(0, 5))).toEqual([1, 1, 1, 1, 1]);
  // row 1: no text -> PAD and masked, still right before its user token
  expect(slot0(1).slice(0, 3)).toEqual([PAD, PAD, PAD]);
  expect(Array.from(ctx.srcMask.subarray(5, 10))).toEqual([0, 0, 0, 1, 1]);
  // row 2: a query: padding, its text, then a masked user position (no items)
  expect(slot0(2)).toEqual([PAD, PAD, textMarker(0), textMarker(1), PAD]);
  expect(Array.from(ctx.srcMask.subarray(10, 15))).toEqual([0, 0, 1, 1, 0]);
  expect(Array.from(ctx.text!.droppable)).toEqual([1, 0, 1]);
  expect(ctx.text!.values.subarray(0, DIM)).toEqual(unit(1));
  expect(() => b.contexts([{ user: 0, history: Int32Array.from([1]), text: new Float32Array(3) }])).toThrow(/the text vector has 3 values, the model reads 6/);
  expect(() => b.contexts([{ user: 0, history: Int32Array.from([1]), text: Float32Array.from([NaN, 0, 0, 0, 0, 0]) }])).toThrow(/the text vector has NaN at position 0/);
  const plain = new Batcher(vocab, cat, 3, 'item');
  expect(() => plain.contexts([{ user: 0, history: Int32Array.from([1]), text: unit(1) }])).toThrow(/has a text but the model reads no text \(textTokens 0\)/);
});

function teacherForced(model: TokenModel, batcher: Batcher, pairs: TrainingExample[], pad: TrainingExample[]): number[][][] {
  const all = tf.tidy(() => tf.logSoftmax(levelLogits(model.forward(batcher.batch([...pairs, ...pad]), null), model.vocab)).arraySync() as number[][][]);
  return all.slice(0, pairs.length);
}

test.each([['codes'], ['item']])('beam search with text equals exhaustive scoring (history %s), incremental and plain; no leaks', async (historyTokens) => {
  const { model, batcher } = setup({ historyTokens: historyTokens as 'codes' | 'item', arch: 'encdec' });
  const us = users();
  const trie = PrefixTrie.build(cat);
  const before = tf.memory().numTensors;
  const fast = await beamSearch(beamScorer(model, cat), trie, us, { beamSize: 24, topK: 5 });
  const plain = await beamSearch(beamScorer(model, cat, { incremental: false }), trie, us, { beamSize: 24, topK: 5 });
  expect(tf.memory().numTensors).toBe(before);
  us.forEach((user, u) => {
    const full = teacherForced(model, batcher, Array.from({ length: 24 }, (_, item) => ({ ...user, target: item })), us);
    const scored = Array.from({ length: 24 }, (_, item) => ({
      item, score: Array.from({ length: L }, (_, l) => full[item][l][model.vocab.levelOffsets[l] + cat.codes[item * L + l]]).reduce((a, b) => a + b, 0),
    })).sort((a, b) => b.score - a.score);
    expect(fast.candidates[u].map((c) => c.item)).toEqual(scored.slice(0, 5).map((s) => s.item));
    fast.candidates[u].forEach((c, k) => expect(c.score).toBeCloseTo(scored[k].score, 4));
    expect(plain.candidates[u].map((c) => c.item)).toEqual(scored.slice(0, 5).map((s) => s.item));
  });
  model.dispose();
});

test('the text changes the output; a fully dropped text equals no text; dropout follows the seeds', () => {
  const { model, batcher } = setup({ arch: 'encdec' });
  const base = { user: 2, history: Int32Array.from([3, 4]), target: 5 };
  const logits = (rows: TrainingExample[], mask?: (b: ReturnType<Batcher['batch']>) => ReturnType<Batcher['batch']>) => tf.tidy(() => {
    const b = batcher.batch(rows);
    return model.forward(mask ? mask(b) : b, null).arraySync() as number[][][];
  });
  const [a, b2, none] = logits([{ ...base, text: unit(1) }, { ...base, text: unit(2) }, { ...base }]);
  expect(Math.max(...a[0].map((x, i) => Math.abs(x - b2[0][i])))).toBeGreaterThan(1e-3);
  const dropped = logits([{ ...base, text: unit(1) }], (b) => ({ ...b, srcMask: dropTextMask(b.src, b.srcMask, b.size, b.srcLen, b.slots, b.text!.droppable, 0.999999, 1) }));
  // Same context length (K text positions, masked) as `none`: equal outputs.
  dropped[0].forEach((row, l) => row.forEach((x, v) => expect(x).toBeCloseTo(none[l][v], 4)));
  const batch = batcher.batch(Array.from({ length: 200 }, (_, i) => ({ ...base, text: unit(i), textDroppable: i % 4 !== 0 })));
  const m1 = withTextDropout(batch, model.config, new DropoutSeeds(11)).srcMask;
  const m2 = withTextDropout(batch, model.config, new DropoutSeeds(11)).srcMask;
  const m3 = withTextDropout(batch, model.config, new DropoutSeeds(12)).srcMask;
  expect(m1).toEqual(m2);
  expect(m1).not.toEqual(m3);
  const droppedRows = Array.from({ length: 200 }, (_, r) => m1[r * batch.srcLen + batch.srcLen - 4] === 0);
  expect(droppedRows.filter((d, r) => d && r % 4 === 0)).toEqual([]); // never a row marked not droppable
  const rate = droppedRows.filter((d) => d).length / 150;
  expect(model.config.textDropout).toBe(0.5);
  expect(rate).toBeGreaterThan(0.38);
  expect(rate).toBeLessThan(0.62); // textDropout .5, 150 droppable rows
  expect(withTextDropout(batch, model.config, null)).toBe(batch); // validation: no dropout
  // The trainer seeds preference dropout even where layer dropout is 0 (the tiny preset): else it never ran.
  expect(model.config.dropout).toBe(0);
  expect(withTextDropout(batch, model.config, stepDropoutSeeds(model.config, 0, 1)).srcMask).not.toEqual(batch.srcMask);
  expect(stepDropoutSeeds({ ...model.config, textTokens: 0 }, 0, 1).next()).toBeNull();
  model.dispose();
});

test('causal model: reads text before the history; the training windows carry the texts the data gives', async () => {
  const cfg = resolveModelConfig({ arch: 'causal', decoderLayers: 1, dModel: 16, heads: 2, headDim: 8, dFF: 32, dropout: 0, userBuckets: 0, maxHistory: 4, head: 'parallel', textTokens: 1, textDim: DIM });
  const model = createModel(cfg, new Vocab({ levels: cat.levels, userBuckets: 0, items: 24 }));
  const scorer = model.scorer(cat);
  if (scorer.kind !== 'catalog') throw new Error('parallel head ranks the catalog');
  const before = tf.memory().numTensors;
  const [a, b, none] = await Promise.all([unit(1), unit(2), null].map((text) => scorer.catalog.scoreCatalog([{ user: 0, history: Int32Array.from([1, 2]), text }])));
  expect(tf.memory().numTensors).toBe(before);
  expect(Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])))).toBeGreaterThan(1e-4);
  expect(Math.max(...Array.from(a, (x, i) => Math.abs(x - none[i])))).toBeGreaterThan(1e-4);
  const seqs = [{ user: 0, items: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }];
  const asked: [number, number, number][] = [];
  const data: TrainingData = {
    sequences: seqs, itemCodes: cat, examples: () => [],
    text: { example: () => null, window: (user, start, end) => { asked.push([user, start, end]); return start > 0 ? unit(start) : null; }, indexing: [] },
  };
  const set = model.trainingSet(data);
  expect(asked).toEqual([[0, 0, 4], [0, 3, 8]]);
  const loss = tf.tidy(() => set.batch(Uint32Array.from([0, 1])).loss(null).dataSync()[0]);
  expect(Number.isFinite(loss)).toBe(true);
  expect(() => model.trainingSet({ ...data, text: undefined })).toThrow(/reads text \(textTokens 1\) but the training data has no texts/);
  model.dispose();
});

import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  initBackend, resolveModelConfig, resolveTrainConfig, Vocab, Batcher, createModel, saveModel, loadModel, train,
  decoderOnlyPattern, learningRate, batchLoss, splitOverrides, PAD, BOS, type TokenModel, type TrainingData, type TrainingExample,
} from '../../seq2seq/index.js';
import { relativeBucket } from '../../seq2seq/layers.js';
import { groupRows, levelLogits, levelMask } from '../../seq2seq/model.js';
import { beamScorer, tinyCatalog, walkExamples } from './helpers.js';

const cat = tinyCatalog();
const examples = walkExamples(120, 24);
let dir: string;

beforeAll(async () => {
  await initBackend({ quiet: true });
  dir = await mkdtemp(join(tmpdir(), 'semid-seq2seq-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Training data of one-target examples (what the pipeline hands token models). */
function exampleData(ex: TrainingExample[]): TrainingData {
  return { sequences: [], examples: () => ex, itemCodes: cat };
}

function setup(overrides: Record<string, unknown> = {}) {
  const cfg = resolveModelConfig(overrides, 'tiny');
  const vocab = new Vocab({ levels: cat.levels, userBuckets: cfg.userBuckets });
  const batcher = new Batcher(vocab, cat, cfg.maxHistory, cfg.historyTokens);
  return { cfg, vocab, batcher, model: createModel(cfg, vocab) as TokenModel };
}

describe('vocabulary and config', () => {
  test('levels get disjoint offsets after the specials; users hash into buckets', () => {
    const v = new Vocab({ levels: [4, 3, 2], userBuckets: 10 });
    expect(v.levelOffsets).toEqual([3, 7, 10]);
    expect(v.userOffset).toBe(12);
    expect(v.size).toBe(22);
    expect(v.codeToken(1, 2)).toBe(9);
    for (let u = 0; u < 100; u++) expect(v.userToken(u)).toBeGreaterThanOrEqual(12);
    expect(new Set(Array.from({ length: 100 }, (_, u) => v.userToken(u))).size).toBeGreaterThan(5);
    expect(() => v.codeToken(0, 4)).toThrow(/code 4 is out of range for level 0/);
  });

  test('the loss is a softmax over each position\'s level: out-of-level logits are masked, in-level ones kept', () => {
    const v = new Vocab({ levels: [4, 3, 2], userBuckets: 10 });
    const mask = levelMask(v); // [L * vocab]
    const open = (l: number) => Array.from({ length: v.size }, (_, t) => t).filter((t) => mask[l * v.size + t] === 0);
    expect(open(0)).toEqual([3, 4, 5, 6]);
    expect(open(1)).toEqual([7, 8, 9]);
    expect(open(2)).toEqual([10, 11]);
    // Uniform in-level logits: -log(1/levels[l]) per position whatever the other tokens' logits are.
    const logits = tf.tidy(() => tf.add(tf.zeros([1, 3, v.size]), tf.tensor3d(Float32Array.from({ length: 3 * v.size }, (_, i) => (mask[i] === 0 ? 0 : 50)), [1, 3, v.size]))); // [1, L, vocab]
    const logp = tf.tidy(() => tf.logSoftmax(levelLogits(logits, v)).arraySync()) as number[][][];
    logits.dispose();
    expect(logp[0][0][3]).toBeCloseTo(Math.log(1 / 4), 5);
    expect(logp[0][1][8]).toBeCloseTo(Math.log(1 / 3), 5);
    expect(logp[0][2][11]).toBeCloseTo(Math.log(1 / 2), 5);
  });

  test('resolvers name the field and value', () => {
    expect(() => resolveModelConfig({ heads: 0 })).toThrow('`heads` must be an integer >= 1, got 0');
    expect(() => resolveModelConfig({ arch: 'rnn' as never })).toThrow(/`arch` must be one of encdec, decoder, causal, sasrec, got "rnn"/);
    expect(() => resolveModelConfig({}, 'huge')).toThrow(/unknown preset "huge"/);
    expect(() => resolveTrainConfig({ lr: -1 })).toThrow(/`lr` must be a number/);
    expect(() => splitOverrides({ bogus: 1 })).toThrow(/unknown config field "bogus"/);
    expect(resolveModelConfig({}, 'tiger')).toMatchObject({ encoderLayers: 4, decoderLayers: 4, dModel: 128, heads: 6, headDim: 64, dFF: 1024, dropout: 0.1 });
    expect(resolveModelConfig({ dModel: 48 }, 'small').dModel).toBe(48);
  });

  test('learning rate warms up linearly then decays as 1/sqrt(step)', () => {
    const c = { lr: 0.01, warmupSteps: 100, schedule: 'rsqrt' as const, steps: 1000 };
    expect(learningRate(50, c)).toBeCloseTo(0.005);
    expect(learningRate(100, c)).toBeCloseTo(0.01);
    expect(learningRate(400, c)).toBeCloseTo(0.005);
  });

  test('cosine schedule: same warm-up, half the peak midway, 0 at the last step', () => {
    const c = { lr: 0.01, warmupSteps: 100, schedule: 'cosine' as const, steps: 1100 };
    expect(learningRate(50, c)).toBeCloseTo(0.005);
    expect(learningRate(100, c)).toBeCloseTo(0.01);
    expect(learningRate(600, c)).toBeCloseTo(0.005);
    expect(learningRate(1100, c)).toBeCloseTo(0);
    for (let s = 101; s < 1100; s += 37) expect(learningRate(s + 1, c)).toBeLessThan(learningRate(s, c));
    expect(resolveTrainConfig({ schedule: 'cosine' }).schedule).toBe('cosine');
    expect(() => resolveTrainConfig({ schedule: 'step' as never })).toThrow(/`schedule` must be one of rsqrt, cosine, got "step"/);
  });

  test('T5 relative buckets match the reference formula on known cases', () => {
    expect(relativeBucket(0, true, 32, 128)).toBe(0);
    expect(relativeBucket(3, true, 32, 128)).toBe(19);
    expect(relativeBucket(-3, true, 32, 128)).toBe(3);
    expect(relativeBucket(-200, true, 32, 128)).toBe(15);
    expect(relativeBucket(5, false, 32, 128)).toBe(0);
    expect(relativeBucket(-20, false, 32, 128)).toBe(17); // 16 + trunc(log(20/16) / log(8) * 16)
  });
});

describe('batches', () => {
  test('histories are right-aligned, trimmed, masked; targets shift behind BOS', () => {
    const { vocab, batcher } = setup({ maxHistory: 2, historyTokens: 'codes' });
    const b = batcher.batch([{ user: 3, history: Int32Array.from([0, 1, 2]), target: 5 }, { user: 4, history: Int32Array.from([7]), target: 1 }]);
    expect(b.srcLen).toBe(1 + 2 * 3);
    const item = (i: number) => Array.from({ length: 3 }, (_, l) => vocab.levelOffsets[l] + cat.codes[i * 3 + l]);
    expect(Array.from(b.src.subarray(0, 7))).toEqual([vocab.userToken(3), ...item(1), ...item(2)]);
    // The user token sits right before the history, padding in front: its distance to the history does
    // not depend on the longest history in the batch.
    expect(Array.from(b.src.subarray(7, 14))).toEqual([PAD, PAD, PAD, vocab.userToken(4), ...item(7)]);
    expect(Array.from(b.srcMask.subarray(7, 14))).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(b.tgtOut.subarray(0, 3))).toEqual(item(5));
    expect(Array.from(b.tgtIn.subarray(0, 3))).toEqual([BOS, ...item(5).slice(0, 2)]);
    expect(Array.from(b.srcGroup)).toEqual([0, 1, 1, 1, 2, 2, 2]);
    expect(() => batcher.batch([{ user: 0, history: Int32Array.from([99]), target: 1 }])).toThrow(/history item id 99/);
  });

  test.each(['codes', 'item'] as const)('a user\'s real context tokens do not depend on its batch-mates (%s)', (historyTokens) => {
    const { batcher } = setup({ maxHistory: 4, historyTokens });
    const short = { user: 4, history: Int32Array.from([7]), target: 1 };
    const alone = batcher.batch([short]);
    const padded = batcher.batch([{ user: 3, history: Int32Array.from([0, 1, 2, 3]), target: 5 }, short]);
    const per = padded.srcLen * padded.slots;
    const tail = (src: Int32Array, n: number) => Array.from(src.subarray(src.length - n));
    // Same tokens at the same distance from the end (the target), whatever the padding in front.
    expect(tail(padded.src.subarray(per, 2 * per), alone.src.length)).toEqual(Array.from(alone.src));
  });
});

describe('decoder-only attention pattern', () => {
  test('bidirectional within a history item, causal across items and within the target (cell by cell)', () => {
    // context: user (group 0), item A (positions 1,2), item B (positions 3,4); target: 2 tokens (positions 5,6)
    const p = decoderOnlyPattern(Int32Array.from([0, 1, 1, 2, 2]), 2);
    const expected = [
      [1, 0, 0, 0, 0, 0, 0],
      [1, 1, 1, 0, 0, 0, 0],
      [1, 1, 1, 0, 0, 0, 0],
      [1, 1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1, 1, 0],
      [1, 1, 1, 1, 1, 1, 1],
    ];
    expect(Array.from({ length: 7 }, (_, i) => Array.from(p.subarray(i * 7, i * 7 + 7)))).toEqual(expected);
  });
});

describe.each(['encdec', 'decoder'] as const)('%s model', (arch) => {
  test('logit shapes; scorer log-probs equal teacher-forced log-probs, rows grouped by user in any order', async () => {
    const { model, batcher, vocab } = setup({ arch });
    const ex = examples.slice(0, 3);
    const b = batcher.batch(ex);
    const logits = model.forward(b, null);
    expect(logits.shape).toEqual([3, 3, vocab.size]);
    const full = tf.tidy(() => tf.logSoftmax(levelLogits(logits, vocab)).arraySync()) as number[][][];
    logits.dispose();
    const before = tf.memory().numTensors;
    const scorer = beamScorer(model, cat);
    expect(scorer.levels).toEqual([4, 3, 2]);
    const session = await scorer.start(ex);
    // rows: two beams for user 2, one for user 0, one for user 1, shuffled; every beam follows its user's target.
    const rowUser = Int32Array.from([2, 0, 2, 1]);
    for (let step = 0; step < 3; step++) {
      const prefixes = new Int32Array(rowUser.length * step);
      rowUser.forEach((u, r) => { for (let l = 0; l < step; l++) prefixes[r * step + l] = cat.codes[ex[u].target * 3 + l]; });
      const out = await session.next({ step, prefixes, rowUser, rowParent: step === 0 ? new Int32Array(4).fill(-1) : Int32Array.from([0, 1, 2, 3]) });
      const width = cat.levels[step];
      expect(out.length).toBe(rowUser.length * width);
      rowUser.forEach((u, r) => {
        for (let c = 0; c < width; c++) expect(out[r * width + c]).toBeCloseTo(full[u][step][vocab.levelOffsets[step] + c], 4);
      });
    }
    session.close();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  test('save/load gives identical logits', async () => {
    const { model, batcher } = setup({ arch, dropout: 0.1 });
    const b = batcher.batch(examples.slice(0, 5));
    const out = join(dir, `save-${arch}`);
    await saveModel(model, out);
    const loaded = (await loadModel(out)) as TokenModel;
    expect(loaded.config).toEqual(model.config);
    const a = model.forward(b, null);
    const c = loaded.forward(b, null);
    expect(Array.from(c.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, c]);
    model.dispose();
    loaded.dispose();
  });
});

test('item-per-position history (sum of code embeddings) trains and scores', async () => {
  const { model, batcher } = setup({ historyTokens: 'item' });
  const b = batcher.batch(examples.slice(0, 4));
  expect(b.slots).toBe(3);
  const l0 = tf.tidy(() => batchLoss(model, b, null).dataSync()[0]);
  expect(Number.isFinite(l0)).toBe(true);
  model.dispose();
});

test('a tiny model overfits a tiny data set; no tensor leaks over 50 steps', async () => {
  const { model } = setup();
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  const res = await train({
    model, data: model.trainingSet(exampleData(examples.slice(0, 64))), outDir: join(dir, 'overfit'), silent: true,
    config: resolveTrainConfig({ steps: 50, batchSize: 32, lr: 0.02, warmupSteps: 5, evalEvery: 0, checkpointEvery: 1000 }, 'tiny'),
    onStep: (_, loss) => losses.push(loss),
  });
  expect(tf.memory().numTensors).toBe(before);
  expect(res.step).toBe(50);
  // Chance under the per-level softmax is mean(log 4, log 3, log 2) = 1.06 nats.
  expect(losses[0]).toBeGreaterThan(0.9);
  expect(res.lastLoss).toBeLessThan(0.1);
  model.dispose();
});

test('resume from a checkpoint gives the same next loss as an uninterrupted run (dropout on)', async () => {
  const config = resolveTrainConfig({ steps: 7, batchSize: 16, evalEvery: 0, checkpointEvery: 4, seed: 3 }, 'tiny');
  const straight: number[] = [];
  const a = setup({ dropout: 0.2 });
  await train({ model: a.model, data: a.model.trainingSet(exampleData(examples)), outDir: join(dir, 'straight'), silent: true, config, onStep: (_, l) => straight.push(l) });
  a.model.dispose();
  // First run "killed" after 5 steps: its last checkpoint is at step 4 (checkpointEvery), so state is rewound to it.
  const b = setup({ dropout: 0.2 });
  await train({ model: b.model, data: b.model.trainingSet(exampleData(examples)), outDir: join(dir, 'resumed'), silent: true, config, maxStepsThisRun: 4 });
  b.model.dispose();
  const c = setup({ dropout: 0.2, seed: 99 }); // different init: everything must come from the checkpoint
  const resumed: number[] = [];
  const res = await train({ model: c.model, data: c.model.trainingSet(exampleData(examples)), outDir: join(dir, 'resumed'), silent: true, config, resume: true, onStep: (_, l) => resumed.push(l) });
  expect(res.step).toBe(7);
  expect(resumed).toEqual(straight.slice(4));
  c.model.dispose();
});

test('groupRows puts each user\'s rows in its own slots', () => {
  const g = groupRows(Int32Array.from([1, 0, 1, 1]), 3);
  expect(g.groups).toBe(3);
  expect(Array.from(g.slotRow)).toEqual([1, 4, 4, 0, 2, 3, 4, 4, 4]);
  expect(Array.from(g.rowSlot)).toEqual([3, 0, 4, 5]);
  expect(() => groupRows(Int32Array.from([5]), 3)).toThrow(/rowUser 5/);
});

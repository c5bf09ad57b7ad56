// The wasm backend's fused kernels (seq2seq/backend/wasmKernels.ts) against tfjs autodiff of the same maths composed
// from plain ops: attention outputs and gradients (padding, dropout, unequal query/key lengths, lengths that
// are not multiples of 4), the dropout mask, fused dropout and ReLU + dropout, RMSNorm, the weight-gradient matMul,
// the same-dtype Cast, and no tensor leaks. Fused-against-composed tests skip (with the reason) off wasm; the
// property tests (padded keys, dropout rate, Cast, dense gradients, a batch in parts) run on every backend.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../seq2seq/index.js';
import {
  codeScores, composedAttention, composedCodeScores, composedRmsNorm, dense, DropoutSeeds, dropout, gatherRows, logSumExpRows, multiHeadAttention, reluDropout, rmsNorm,
} from '../../seq2seq/layers.js';
import { composedCrossEntropy, crossEntropy } from '../../seq2seq/model.js';
import {
  DROPOUT_MASK_KERNEL, setWasmKernelsEnabled, hasKernel, ATTENTION_KERNEL, DROPOUT_KERNEL, CODE_SCORES_KERNEL, RMS_NORM_KERNEL, SOFTMAX_CE_KERNEL, GATHER_ROWS_KERNEL,
  LOG_SUM_EXP_KERNEL,
} from '../../seq2seq/backend/wasmKernels.js';

const backend = await initBackend({ quiet: true });
setWasmKernelsEnabled(true); // on by default (SEMID_WASM_KERNELS=0 turns them off); made sure of here
const onWasm = backend.name === 'wasm';
const SKIP_REASON = `needs the wasm backend's fused kernels, this run uses ${backend.name}`;
if (!onWasm) console.warn(`fused-kernel tests skipped: ${SKIP_REASON}`);

/**
 * A fused kernel against the composed ops: on another backend both sides are the composed ops, so the test
 * is skipped there (the reason in its name) instead of passing without checking anything.
 */
function wasmTest(name: string, fn: () => void): void {
  if (onWasm) test(name, fn);
  else test.skip(`${name} (skipped: ${SKIP_REASON})`, fn);
}

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const cases = [
  { name: 'self-attention with padding', B: 3, H: 2, D: 8, Tq: 7, Tk: 7, rate: 0 },
  { name: 'cross-attention, Tq != Tk, dropout', B: 2, H: 3, D: 4, Tq: 5, Tk: 9, rate: 0.3 },
  { name: 'lengths multiple of 4, dropout', B: 2, H: 2, D: 12, Tq: 8, Tk: 8, rate: 0.1 },
];

test('fused attention: padded keys get exactly zero probability and gradient, and no gradient is subnormal', () => {
  // Regression: the kernel's exp once clamped at -87.3, giving masked keys ~1e-38 instead of 0; the backward pass then
  // filled padded rows with subnormal floats, and every later matMul over them ran ~70x slower.
  const before = tf.memory().numTensors;
  const [B, H, D, T] = [2, 2, 8, 6];
  const s = { heads: H, headDim: D };
  const inits = [rand([B, T, H * D], 11), rand([B, T, H * D], 12), rand([B, T, H * D], 13)];
  const vars = inits.map((t) => tf.variable(t));
  const bias = tf.zeros([1, H, T, T]);
  const mask = new Float32Array(B * T).fill(1);
  mask.fill(0, T - 3, T); // user 0: the last 3 keys are padding
  const keyMask = tf.tensor2d(mask, [B, T]);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(multiHeadAttention(vars[0], vars[1], vars[2], bias, keyMask, s, 0, new DropoutSeeds(null)))) as tf.Scalar, vars);
  const [dk, dv] = [grads[vars[1].name], grads[vars[2].name]].map((g) => g.arraySync() as number[][][]);
  for (let t = T - 3; t < T; t++) {
    expect(dk[0][t].every((x) => x === 0)).toBe(true);
    expect(dv[0][t].every((x) => x === 0)).toBe(true);
  }
  for (const g of Object.values(grads)) {
    const subnormal = Array.from(g.dataSync()).filter((x) => x !== 0 && Math.abs(x) < 1.1754944e-38);
    expect(subnormal).toEqual([]);
  }
  tf.dispose([...inits, ...vars, value, bias, keyMask, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
});

describe.each(cases)('fused attention: $name', ({ B, H, D, Tq, Tk, rate }) => {
  wasmTest('output and gradients equal tfjs autodiff of the composed ops', () => {
    expect(hasKernel(ATTENTION_KERNEL)).toBe(true);
    const before = tf.memory().numTensors;
    const s = { heads: H, headDim: D };
    const q = rand([B, Tq, H * D], 1);
    const k = rand([B, Tk, H * D], 2);
    const v = rand([B, Tk, H * D], 3);
    const bias = rand([1, H, Tq, Tk], 4);
    const mask = new Float32Array(B * Tk).fill(1);
    mask[0] = 0; // first key of user 0 is padding
    mask[Tk + 1] = 0;
    const keyMask = tf.tensor2d(mask, [B, Tk]);
    const w = rand([B, Tq, H * D], 5); // a random linear read-out so every output element has its own gradient

    // Autodiff needs variables; run both paths over the same variables.
    const vars = [q, k, v, bias].map((t) => tf.variable(t));
    const grads = (f: typeof multiHeadAttention) => tf.tidy(() => {
      const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(f(vars[0], vars[1], vars[2], vars[3], keyMask, s, rate, new DropoutSeeds(rate > 0 ? 77 : null)), w)) as tf.Scalar, vars);
      return [value, ...vars.map((x) => g[x.name])];
    });

    const fused = grads(multiHeadAttention);
    const composed = grads(composedAttention);
    for (let i = 0; i < fused.length; i++) {
      expect(fused[i].shape).toEqual(composed[i].shape);
      expect(maxDiff(fused[i], composed[i])).toBeLessThan(2e-4 * Math.max(1, tf.tidy(() => tf.max(tf.abs(composed[i])).dataSync()[0])));
    }
    tf.dispose([...fused, ...composed, ...vars, q, k, v, bias, keyMask, w]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

test('dropout masks keep 1 - rate of the elements, scaled, and repeat for a seed', () => {
  const x = tf.ones([200, 100]);
  const a = dropout(x, 0.25, 5);
  const b = dropout(x, 0.25, 5);
  const c = dropout(x, 0.25, 6);
  const values = a.dataSync();
  const kept = values.filter((e) => e !== 0);
  expect(kept.every((e) => Math.abs(e - 1 / 0.75) < 1e-6)).toBe(true);
  expect(Math.abs(kept.length / values.length - 0.75)).toBeLessThan(0.02);
  expect(Array.from(b.dataSync())).toEqual(Array.from(values));
  expect(Array.from(c.dataSync())).not.toEqual(Array.from(values));
  tf.dispose([x, a, b, c]);
});

/** Value and gradients (w.r.t. `inputs`) of sum(f(...inputs) * r), by tfjs autodiff. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], r: tf.Tensor): tf.Tensor[] {
  const vars = inputs.map((t) => tf.variable(t));
  const out = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(...vars), r)) as tf.Scalar, vars);
    return [value, ...vars.map((x) => grads[x.name])];
  });
  tf.dispose(vars);
  return out;
}

wasmTest('RMSNorm: fused output and gradients equal tfjs autodiff of the composed ops', () => {
  expect(hasKernel(RMS_NORM_KERNEL)).toBe(true);
  const before = tf.memory().numTensors;
  for (const shape of [[3, 5, 8], [7, 64], [2, 1, 4]]) {
    const d = shape[shape.length - 1];
    const x = rand(shape, 11);
    const gain = tf.tidy(() => tf.add(1, rand([d], 12)));
    const r = rand(shape, 13);
    const fused = valueAndGrads((a, g) => rmsNorm(a, g), [x, gain], r);
    const composed = valueAndGrads((a, g) => composedRmsNorm(a, g), [x, gain], r);
    for (let i = 0; i < fused.length; i++) {
      expect(fused[i].shape).toEqual(composed[i].shape);
      expect(maxDiff(fused[i], composed[i])).toBeLessThan(1e-4 * Math.max(1, tf.tidy(() => tf.max(tf.abs(composed[i])).dataSync()[0])));
    }
    tf.dispose([x, gain, r, ...fused, ...composed]);
  }
  expect(tf.memory().numTensors).toBe(before);
});

wasmTest('softmax cross-entropy: fused loss and logit gradients equal tfjs autodiff of the composed ops', () => {
  expect(hasKernel(SOFTMAX_CE_KERNEL)).toBe(true);
  const before = tf.memory().numTensors;
  // Widths that are and are not multiples of 4, a catalog-sized row, logits far apart (exp underflows to 0).
  for (const [rows, V, scale] of [[5, 7, 1], [3, 256, 3], [2, 12101, 1], [4, 9, 60]]) {
    const x = tf.tidy(() => tf.mul(rand([rows, V], 21), scale));
    const targets = Int32Array.from({ length: rows }, (_, r) => (r * 5 + 1) % V);
    const run = (ce: (l: tf.Tensor2D, t: Int32Array) => tf.Scalar): tf.Tensor[] => {
      const v = tf.variable(x);
      const { value, grads } = tf.variableGrads(() => ce(v as unknown as tf.Tensor2D, targets), [v]);
      const out = [value, grads[v.name]];
      v.dispose();
      return out;
    };
    const fused = run(crossEntropy);
    const composed = run(composedCrossEntropy);
    expect(Math.abs(fused[0].dataSync()[0] - composed[0].dataSync()[0])).toBeLessThan(1e-4 * Math.max(1, Math.abs(composed[0].dataSync()[0])));
    expect(maxDiff(fused[1], composed[1])).toBeLessThan(1e-5);
    tf.dispose([x, ...fused, ...composed]);
  }
  expect(tf.memory().numTensors).toBe(before);
});

wasmTest('code scores: the gather-add and its scatter-add gradient equal tfjs autodiff of gather + sum', () => {
  expect(hasKernel(CODE_SCORES_KERNEL)).toBe(true);
  const before = tf.memory().numTensors;
  for (const [rows, levels, items] of [[3, [4, 5], 7], [2, [8, 8, 8, 3], 40]] as const) {
    const width = levels.reduce((a, b) => a + b, 0);
    const offsets = levels.map((_, l) => levels.slice(0, l).reduce((a, b) => a + b, 0));
    // Items share codes (i % levels[l]), so the gradient must add several items into one column.
    const codes = tf.tensor2d(Int32Array.from({ length: items * levels.length }, (_, k) => offsets[k % levels.length] + (Math.floor(k / levels.length) * (k % levels.length + 1)) % levels[k % levels.length]), [items, levels.length], 'int32');
    const x = rand([rows, width], 31);
    const r = rand([rows, items], 32);
    const fused = valueAndGrads((a) => codeScores(a as tf.Tensor2D, codes), [x], r);
    const composed = valueAndGrads((a) => composedCodeScores(a as tf.Tensor2D, codes), [x], r);
    for (let i = 0; i < fused.length; i++) expect(maxDiff(fused[i], composed[i])).toBeLessThan(1e-5);
    tf.dispose([codes, x, r, ...fused, ...composed]);
  }
  expect(tf.memory().numTensors).toBe(before);
});

wasmTest('gather rows: values equal tf.gather exactly, the gradient (repeated ids) equals tfjs autodiff; an id out of range is named', () => {
  expect(hasKernel(GATHER_ROWS_KERNEL)).toBe(true);
  const before = tf.memory().numTensors;
  for (const [rows, d, ids] of [[5, 3, [4, 0, 4, 2]], [40, 64, Array.from({ length: 300 }, (_, i) => (i * 7) % 40)]] as const) {
    const table = rand([rows, d], 41);
    const idx = tf.tensor1d(Int32Array.from(ids), 'int32');
    const r = rand([ids.length, d], 42);
    const fused = valueAndGrads((a) => gatherRows(a, idx), [table], r);
    const composed = valueAndGrads((a) => tf.gather(a, idx), [table], r);
    expect(tf.tidy(() => maxDiff(gatherRows(table, idx), tf.gather(table, idx)))).toBe(0); // a copy
    expect(maxDiff(fused[1], composed[1])).toBeLessThan(1e-5);
    tf.dispose([table, idx, r, ...fused, ...composed]);
  }
  const table = rand([3, 2], 43);
  const bad = tf.tensor1d([1, 3], 'int32');
  expect(() => gatherRows(table, bad)).toThrow(/index 3 at position 1 is outside \[0, 3\)/);
  tf.dispose([table, bad]);
  expect(tf.memory().numTensors).toBe(before);
});

wasmTest('log-sum-exp of rows equals tf.logSumExp (widths not multiples of 4, large and -80-below-max values)', () => {
  expect(hasKernel(LOG_SUM_EXP_KERNEL)).toBe(true);
  const before = tf.memory().numTensors;
  for (const [rows, V] of [[3, 7], [4, 12101], [1, 1]]) {
    const x = tf.tidy(() => tf.mul(rand([rows, V], 51), 30)); // spreads past exp's -80 flush
    const fused = logSumExpRows(x as tf.Tensor2D);
    const ref = tf.logSumExp(x, 1);
    expect(fused.shape).toEqual([rows]);
    expect(maxDiff(fused, ref)).toBeLessThan(1e-4);
    tf.dispose([x, fused, ref]);
  }
  expect(tf.memory().numTensors).toBe(before);
});

wasmTest('fused dropout and ReLU + dropout equal x * mask (the mask kernel, same seed), gradients too', () => {
  expect(hasKernel(DROPOUT_KERNEL)).toBe(true);
  const before = tf.memory().numTensors;
  for (const shape of [[6, 10], [3, 7, 13], [1, 3]]) {
    const rate = 0.3;
    const seed = 4242;
    const x = rand(shape, 14);
    const r = rand(shape, 15);
    const mask = () => tf.engine().runKernel(DROPOUT_MASK_KERNEL, {}, { shape, rate, seed } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const pairs: [(a: tf.Tensor) => tf.Tensor, (a: tf.Tensor) => tf.Tensor][] = [
      [(a) => dropout(a, rate, seed), (a) => tf.mul(a, mask())],
      [(a) => reluDropout(a, rate, seed), (a) => tf.mul(tf.relu(a), mask())],
    ];
    for (const [fusedF, refF] of pairs) {
      const fused = valueAndGrads(fusedF, [x], r);
      const ref = valueAndGrads(refF, [x], r);
      for (let i = 0; i < fused.length; i++) expect(maxDiff(fused[i], ref[i])).toBeLessThan(1e-5);
      tf.dispose([...fused, ...ref]);
    }
    tf.dispose([x, r]);
  }
  expect(tf.memory().numTensors).toBe(before);
});

test('Cast to the same dtype shares data safely; to another dtype converts', () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1.5, -2, 3]);
  const same = tf.cast(x, 'float32');
  const int = tf.cast(x, 'int32');
  x.dispose();
  expect(Array.from(same.dataSync())).toEqual([1.5, -2, 3]);
  expect(Array.from(int.dataSync())).toEqual([1, -2, 3]);
  tf.dispose([same, int]);
  expect(tf.memory().numTensors).toBe(before);
});

test('dense: gradients equal tfjs autodiff of matMul', () => {
  const before = tf.memory().numTensors;
  for (const [rows, inDim, outDim] of [[37, 6, 12], [700, 16, 8], [5, 3, 7], [3000, 5, 24]]) {
    const x0 = rand([rows, inDim], 8);
    const w0 = rand([inDim, outDim], 9);
    const x = tf.variable(x0);
    const wt = tf.variable(w0);
    const r = rand([rows, outDim], 10);
    const ours = tf.variableGrads(() => tf.sum(tf.mul(dense(x as tf.Tensor2D, wt as tf.Tensor2D), r)) as tf.Scalar, [x, wt]);
    const ref = tf.variableGrads(() => tf.sum(tf.mul(tf.matMul(x, wt), r)) as tf.Scalar, [x, wt]);
    expect(maxDiff(ours.grads[x.name], ref.grads[x.name])).toBeLessThan(1e-4);
    expect(maxDiff(ours.grads[wt.name], ref.grads[wt.name])).toBeLessThan(1e-3);
    tf.dispose([x0, w0, x, wt, r, ours.value, ref.value, ...Object.values(ours.grads), ...Object.values(ref.grads)]);
  }
  expect(tf.memory().numTensors).toBe(before);
});

test('a batch run in parts gives the loss and gradients of one pass (dropout off)', async () => {
  const { resolveModelConfig, Vocab, createModel } = await import('../../seq2seq/index.js');
  const trainer = await import('../../seq2seq/trainer.js');
  const { tinyCatalog, walkExamples } = await import('./helpers.js');
  const cat = tinyCatalog();
  const cfg = resolveModelConfig({ dropout: 0 }, 'tiny');
  const vocab = new Vocab({ levels: cat.levels, userBuckets: cfg.userBuckets });
  const model = createModel(cfg, vocab);
  const examples = walkExamples(10, 24);
  const batch = model.trainingSet({ sequences: [], examples: () => examples, itemCodes: cat }).batch(Uint32Array.from(examples.keys()));
  const before = tf.memory().numTensors;
  const whole = await trainer.lossAndGrads(model, batch, null, 0);
  const split = await trainer.lossAndGradsInParts(model, batch, null, 0, 3);
  expect(split.loss).toBeCloseTo(whole.loss, 5);
  for (const [name, g] of whole.grads) expect(maxDiff(g, split.grads.get(name)!)).toBeLessThan(1e-5);
  [...whole.grads.values(), ...split.grads.values()].forEach((g) => g.dispose());
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
});

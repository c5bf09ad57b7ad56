// Building blocks of the transformers, as functions of named weights (nanoGPT style): a parameter store,
// dense and batched matMul with hand-written gradients, RMSNorm, dropout, T5 relative position bias,
// multi-head attention and the ReLU feed-forward.
//
// Why custom gradients: on the wasm backend a matMul with a transpose flag is 10-20x slower than a plain one,
// and tfjs' own matMul gradient uses transpose flags. Our gradients transpose explicitly (a cheap copy) and
// then call plain matMuls. On other backends the result is identical, only the formulation differs.
// Where the backend has semid's fused kernels (wasm: see backend/wasmKernels.ts), attention and dropout use them;
// elsewhere the same maths is composed from plain tfjs ops.
import * as tf from '@tensorflow/tfjs';
import {
  ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, CODE_SCORES_GRAD_KERNEL, CODE_SCORES_KERNEL, GATHER_ROWS_KERNEL, LOG_SUM_EXP_KERNEL, DROPOUT_GRAD_KERNEL, DROPOUT_KERNEL, DROPOUT_MASK_KERNEL,
  hasKernel, MATMUL_TN_KERNEL, RMS_NORM_GRAD_KERNEL, RMS_NORM_KERNEL,
  type AttentionAttrs, type DropoutAttrs,
} from './backend/index.js';

/** Ordered, named trainable weights. Names are stable: they are the keys of the saved weights. */
export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  private rngState: number;

  constructor(seed: number) {
    this.rngState = seed >>> 0;
  }

  private nextSeed(): number {
    this.rngState = (Math.imul(this.rngState ^ (this.rngState >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return this.rngState;
  }

  /** PyTorch's nn.Linear init: uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
  linear(name: string, fanIn: number, fanOut: number): tf.Variable {
    const bound = 1 / Math.sqrt(fanIn);
    return this.add(name, tf.randomUniform([fanIn, fanOut], -bound, bound, 'float32', this.nextSeed())); // [fanIn, fanOut]
  }

  normal(name: string, shape: number[], std: number): tf.Variable {
    return this.add(name, tf.randomNormal(shape, 0, std, 'float32', this.nextSeed()));
  }

  ones(name: string, size: number): tf.Variable {
    return this.add(name, tf.ones([size])); // [size]
  }

  add(name: string, value: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate weight name ${name}`);
    const v = tf.variable(value, true, `${name}_${Math.random().toString(36).slice(2, 8)}`);
    value.dispose();
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no weight named ${name}`);
    return v;
  }

  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

type GradArgs = Array<tf.Tensor | tf.GradSaveFunc>;

/**
 * x^T dy, the weight gradient of a dense layer. Measured on wasm (1 thread, 4,131 rows, fresh inputs each call so
 * XNNPACK's packed-weight cache cannot help): the a^T b kernel is fastest (128x384: 17 ms vs 27 ms for a transpose
 * and a plain matMul; 64x64 at 5,376 rows: 2.0 vs 4.3 ms) except for a wide input and narrow output (1024x128:
 * 101 ms vs 58 ms), where XNNPACK's packing of the narrow dy is cheap and its GEMM better.
 */
function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const [inWidth, outWidth] = [x.shape[1], dy.shape[1]];
  const tnKernel = inWidth > 0 && outWidth % 4 === 0 && hasKernel(MATMUL_TN_KERNEL) && !(inWidth >= 512 && outWidth < inWidth);
  return tnKernel
    ? (tf.engine().runKernel(MATMUL_TN_KERNEL, { a: x, b: dy }) as tf.Tensor2D) // [in, out]
    : tf.matMul(tf.transpose(x), dy); // [in, out]
}

/** x @ w for 2-D x and w, with a gradient made of plain matMuls only. */
export const dense = tf.customGrad((...args: GradArgs) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w), // [rows, out]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)) /* [rows, in] */, weightGrad(xs, dy as tf.Tensor2D)];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** Batched a @ b ([n, p, q] x [n, q, r]) without transpose flags, gradient likewise. */
export const bmm = tf.customGrad((...args: GradArgs) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b), // [n, p, r]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [
        tf.matMul(dy as tf.Tensor3D, tf.transpose(bs, [0, 2, 1])), // [n, p, q]
        tf.matMul(tf.transpose(as, [0, 2, 1]), dy as tf.Tensor3D), // [n, q, r]
      ];
    },
  };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/**
 * Item scores [rows, items] from code scores [rows, width]: item i's score is the sum of the columns its codes name
 * (`codes` [items, L], column indices; the parallel head's per-level logits, side by side). Gradient: the scatter-add.
 */
export function codeScores(scores: tf.Tensor2D, codes: tf.Tensor2D): tf.Tensor2D {
  if (!hasKernel(CODE_SCORES_KERNEL)) return composedCodeScores(scores, codes);
  const width = scores.shape[1];
  const f = tf.customGrad((...args: GradArgs) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([codes]); // kept for the backward pass (the caller's tidy may end before it)
    return {
      value: tf.engine().runKernel(CODE_SCORES_KERNEL, { scores: x, codes }) as tf.Tensor2D, // [rows, items]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(CODE_SCORES_GRAD_KERNEL, { dy, codes: saved[0] }, { width } as unknown as tf.NamedAttrMap) as tf.Tensor, // [rows, width]
    };
  }) as (x: tf.Tensor2D) => tf.Tensor2D;
  return f(scores);
}

/** codeScores composed from plain tfjs ops (every backend; the reference the kernels are tested against). */
export function composedCodeScores(scores: tf.Tensor2D, codes: tf.Tensor2D): tf.Tensor2D {
  const [items, L] = codes.shape;
  const picked = tf.gather(scores, tf.reshape(codes, [items * L]), 1); // [rows, items*L]
  return tf.sum(tf.reshape(picked, [scores.shape[0], items, L]), 2) as tf.Tensor2D; // [rows, items]
}

/**
 * Rows `ids` [n] (int32) of a 2-D float table [rows, d] -> [n, d]: tf.gather on axis 0, one native row copy per id on
 * wasm (tfjs-wasm's GatherV2 costs ~60 ns an element: the largest op of exact catalog ranking). Gradient: the
 * scatter-add (unsortedSegmentSum), as tf.gather's.
 */
export function gatherRows(table: tf.Tensor, ids: tf.Tensor1D): tf.Tensor2D {
  if (!hasKernel(GATHER_ROWS_KERNEL) || table.rank !== 2 || table.dtype !== 'float32') return tf.gather(table, ids) as tf.Tensor2D; // [n, d]
  const rows = table.shape[0];
  const f = tf.customGrad((...args: GradArgs) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([ids]); // kept for the backward pass (the caller's tidy may end before it)
    return {
      value: tf.engine().runKernel(GATHER_ROWS_KERNEL, { x, indices: ids }) as tf.Tensor2D, // [n, d]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.unsortedSegmentSum(dy, saved[0] as tf.Tensor1D, rows), // [rows, d]
    };
  }) as (x: tf.Tensor) => tf.Tensor2D;
  return f(table);
}

/** log(sum(exp(x_r))) of every row of x [rows, V] (inference: a catalog's log-softmax normaliser, no [rows, V] result). */
export function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  if (!hasKernel(LOG_SUM_EXP_KERNEL)) return tf.logSumExp(x, 1) as tf.Tensor1D; // [rows]
  return tf.engine().runKernel(LOG_SUM_EXP_KERNEL, { x }) as tf.Tensor1D; // [rows]
}

/** Applies a [in, out] weight to the last axis of any-rank x. */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1];
  const y = dense(tf.reshape(x, [-1, inDim]) as tf.Tensor2D, w as tf.Tensor2D); // [rows, out]
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[1]!]); // [..., out]
}

/**
 * x @ each column block of a fused weight [in, parts*width]: the weight is sliced (tiny), not the
 * activations (tfjs' SplitV on a [rows, parts*width] activation costs more than the matMuls on wasm).
 */
export function linearParts(x: tf.Tensor, w: tf.Tensor, parts: number): tf.Tensor[] {
  const [inDim, total] = w.shape as [number, number];
  const width = total / parts;
  return Array.from({ length: parts }, (_, i) => linear(x, tf.slice(w, [0, i * width], [inDim, width]))); // parts x [..., width]
}

/** T5 LayerNorm: scale only, no mean subtraction, no bias. */
export function rmsNorm(x: tf.Tensor, gain: tf.Tensor, eps = 1e-6): tf.Tensor {
  if (hasKernel(RMS_NORM_KERNEL) && x.shape[x.shape.length - 1]! % 4 === 0) return fusedRmsNorm(eps)(x, gain); // [..., d]
  return composedRmsNorm(x, gain, eps); // [..., d]
}

/** rmsNorm composed from plain tfjs ops (every backend; the reference the fused kernels are tested against). */
export function composedRmsNorm(x: tf.Tensor, gain: tf.Tensor, eps = 1e-6): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true); // [..., 1]
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), gain); // [..., d]
}

const fusedRmsNormByEps = new Map<number, (x: tf.Tensor, gain: tf.Tensor) => tf.Tensor>();

/** RMSNorm as one op with a hand-written gradient, both run by the backend's fused kernels. */
function fusedRmsNorm(eps: number): (x: tf.Tensor, gain: tf.Tensor) => tf.Tensor {
  let f = fusedRmsNormByEps.get(eps);
  if (f) return f;
  f = tf.customGrad((...args: GradArgs) => {
    const [x, gain, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, rstd] = tf.engine().runKernel(RMS_NORM_KERNEL, { x, gain }, { eps }) as tf.Tensor[]; // [...x], [rows]
    save([x, gain, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs, rs] = saved;
        return tf.engine().runKernel(RMS_NORM_GRAD_KERNEL, { dy, x: xs, gain: gs, rstd: rs }) as tf.Tensor[]; // [...x], [d]
      },
    };
  }) as (x: tf.Tensor, gain: tf.Tensor) => tf.Tensor;
  fusedRmsNormByEps.set(eps, f);
  return f;
}

/** Dropout (after a ReLU when `relu`) as one op whose gradient regenerates the mask: the backend's fused kernels. */
function fusedDropout(x: tf.Tensor, attrs: DropoutAttrs): tf.Tensor {
  const named = attrs as unknown as tf.NamedAttrMap;
  return tf.customGrad((...args: GradArgs) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.engine().runKernel(DROPOUT_KERNEL, { x: input }, named) as tf.Tensor; // [...x]
    save(attrs.relu ? [y] : []);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(DROPOUT_GRAD_KERNEL, { dy, y: saved[0] ?? dy }, named) as tf.Tensor, // [...x]
    };
  })(x);
}

/** dropout(relu(x)), fused into one op where the backend has the kernels. */
export function reluDropout(x: tf.Tensor, rate: number, seed: number | null): tf.Tensor {
  if (rate > 0 && seed !== null && hasKernel(DROPOUT_KERNEL)) return fusedDropout(x, { rate, seed, relu: true }); // [...x]
  return dropout(tf.relu(x), rate, seed); // [...x]
}

/** Inverted dropout with an explicit seed (so a resumed run draws the same masks). */
export function dropout(x: tf.Tensor, rate: number, seed: number | null): tf.Tensor {
  if (rate <= 0 || seed === null) return x;
  if (hasKernel(DROPOUT_KERNEL)) return fusedDropout(x, { rate, seed, relu: false }); // [...x]
  if (hasKernel(DROPOUT_MASK_KERNEL)) {
    const mask = tf.engine().runKernel(DROPOUT_MASK_KERNEL, {}, { shape: x.shape, rate, seed } as unknown as tf.NamedAttrMap) as tf.Tensor; // [...x] 0 or 1/(1-rate)
    return tf.mul(x, mask); // [...x]
  }
  const keep = tf.step(tf.sub(tf.randomUniform(x.shape, 0, 1, 'float32', seed), rate)); // [...x] 1 where kept
  return tf.mul(x, tf.mul(keep, 1 / (1 - rate))); // [...x]
}

/** Derives the seed of one dropout call from the step seed and a call counter. */
export class DropoutSeeds {
  private counter = 0;
  constructor(private readonly base: number | null) {}
  /** Seeds of part `i` of a step split into parts (part 0 is this object's own sequence). */
  fork(i: number): DropoutSeeds {
    if (i === 0 || this.base === null) return i === 0 ? this : new DropoutSeeds(null);
    return new DropoutSeeds((Math.imul(this.base ^ 0x5bd1e995, i + 1) + Math.imul(i, 0x27d4eb2f)) >>> 0);
  }

  next(): number | null {
    if (this.base === null) return null;
    this.counter += 1;
    return (Math.imul(this.base ^ Math.imul(this.counter, 0x9e3779b1), 0x85ebca6b) >>> 0) % 2147483647;
  }
}

/** T5 relative-position bucket of key position minus query position (JS, computed once per shape). */
export function relativeBucket(rel: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let ret = 0;
  let n: number;
  let buckets = numBuckets;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (rel > 0) ret += buckets;
    n = Math.abs(rel);
  } else {
    n = Math.max(-rel, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (n < maxExact) return ret + n;
  const large = maxExact + Math.trunc((Math.log(Math.max(n, 1) / maxExact) / Math.log(maxDistance / maxExact)) * (buckets - maxExact));
  return ret + Math.min(large, buckets - 1);
}

/** Bucket ids [qLen * kLen] for queries at positions qPos and keys at kPos. */
export function bucketGrid(qPos: ArrayLike<number>, kPos: ArrayLike<number>, bidirectional: boolean, numBuckets: number, maxDistance: number): Int32Array {
  const out = new Int32Array(qPos.length * kPos.length);
  for (let i = 0; i < qPos.length; i++) {
    for (let j = 0; j < kPos.length; j++) out[i * kPos.length + j] = relativeBucket(kPos[j] - qPos[i], bidirectional, numBuckets, maxDistance);
  }
  return out;
}

/** Position bias [1, heads, qLen, kLen] from the bucket table [buckets, heads]. */
export function positionBias(table: tf.Tensor, grid: Int32Array, qLen: number, kLen: number): tf.Tensor {
  const heads = table.shape[1]!;
  const g = tf.gather(table, tf.tensor1d(grid, 'int32')); // [qLen*kLen, heads]
  return tf.reshape(tf.transpose(g), [1, heads, qLen, kLen]); // [1, heads, qLen, kLen]
}

/** Additive mask [batch, 1, 1, kLen]: 0 where the key is real, -1e9 where it is padding. */
export function paddingBias(keyMask: tf.Tensor): tf.Tensor {
  const [batch, kLen] = keyMask.shape as [number, number];
  return tf.reshape(tf.mul(tf.sub(1, keyMask), -1e9), [batch, 1, 1, kLen]); // [batch, 1, 1, kLen]
}

export interface AttentionShape {
  heads: number;
  headDim: number;
}

/** [batch, len, heads*headDim] -> [batch*heads, len, headDim] */
export function splitHeads(x: tf.Tensor, s: AttentionShape): tf.Tensor3D {
  const [batch, len] = x.shape;
  const t = tf.transpose(tf.reshape(x, [batch, len, s.heads, s.headDim]), [0, 2, 1, 3]); // [batch, heads, len, headDim]
  return tf.reshape(t, [batch * s.heads, len, s.headDim]) as tf.Tensor3D; // [batch*heads, len, headDim]
}

/** [batch, len, heads*headDim] -> [batch*heads, headDim, len] (keys, ready for a plain q @ kT). */
export function splitHeadsTransposed(x: tf.Tensor, s: AttentionShape): tf.Tensor3D {
  const [batch, len] = x.shape;
  const t = tf.transpose(tf.reshape(x, [batch, len, s.heads, s.headDim]), [0, 2, 3, 1]); // [batch, heads, headDim, len]
  return tf.reshape(t, [batch * s.heads, s.headDim, len]) as tf.Tensor3D; // [batch*heads, headDim, len]
}

/** [batch*heads, len, headDim] -> [batch, len, heads*headDim] */
export function mergeHeads(x: tf.Tensor, batch: number, s: AttentionShape): tf.Tensor {
  const len = x.shape[1]!;
  const t = tf.transpose(tf.reshape(x, [batch, s.heads, len, s.headDim]), [0, 2, 1, 3]); // [batch, len, heads, headDim]
  return tf.reshape(t, [batch, len, s.heads * s.headDim]); // [batch, len, inner]
}

/**
 * Scaled dot-product attention. q [batch*heads, qLen, headDim], kT [batch*heads, headDim, kLen],
 * v [batch*heads, kLen, headDim]; bias broadcastable to [batch, heads, qLen, kLen].
 */
export function attend(q: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor | null, batch: number, s: AttentionShape, dropRate: number, seeds: DropoutSeeds): tf.Tensor {
  const qLen = q.shape[1];
  const kLen = kT.shape[2];
  let scores = bmm(tf.mul(q, 1 / Math.sqrt(s.headDim)) as tf.Tensor3D, kT) as tf.Tensor; // [batch*heads, qLen, kLen]
  if (bias) {
    scores = tf.reshape(tf.add(tf.reshape(scores, [batch, s.heads, qLen, kLen]), bias), [batch * s.heads, qLen, kLen]); // [batch*heads, qLen, kLen]
  }
  const probs = dropout(tf.softmax(scores), dropRate, seeds.next()); // [batch*heads, qLen, kLen]
  return bmm(probs as tf.Tensor3D, v); // [batch*heads, qLen, headDim]
}

/**
 * Multi-head attention of projections q [batch, qLen, heads*headDim] over k, v [batch, kLen, heads*headDim]:
 * softmax(q k^T / sqrt(headDim) + posBias + padding) v, with dropout on the probabilities; returns
 * [batch, qLen, heads*headDim]. posBias [heads, qLen, kLen] (or [1, heads, qLen, kLen]) carries the relative positions and any structural
 * mask (causal: -1e9); keyMask [batch, kLen] is 1 for real keys, 0 for padding. Consumes one dropout seed.
 */
export function multiHeadAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, posBias: tf.Tensor, keyMask: tf.Tensor, s: AttentionShape, dropRate: number, seeds: DropoutSeeds): tf.Tensor {
  const [batch, qLen] = q.shape;
  const kLen = k.shape[1]!;
  if (hasKernel(ATTENTION_KERNEL) && s.headDim % 4 === 0) {
    const seed = seeds.next();
    const attrs: AttentionAttrs = { heads: s.heads, headDim: s.headDim, scale: 1 / Math.sqrt(s.headDim), rate: seed === null ? 0 : dropRate, seed: seed ?? 0 };
    const bias3 = tf.reshape(posBias, [s.heads, qLen!, kLen]) as tf.Tensor3D; // [heads, qLen, kLen]
    return fusedAttention(attrs)(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, bias3, keyMask as tf.Tensor2D); // [batch, qLen, inner]
  }
  return composedAttention(q, k, v, posBias, keyMask, s, dropRate, seeds); // [batch, qLen, inner]
}

/** multiHeadAttention composed from plain tfjs ops (every backend; the reference the fused kernels are tested against). */
export function composedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, posBias: tf.Tensor, keyMask: tf.Tensor, s: AttentionShape, dropRate: number, seeds: DropoutSeeds): tf.Tensor {
  const [batch, qLen] = q.shape;
  const kLen = k.shape[1]!;
  const bias = tf.add(tf.reshape(posBias, [1, s.heads, qLen!, kLen]), paddingBias(keyMask)); // [batch, heads, qLen, kLen]
  const out = attend(splitHeads(q, s), splitHeadsTransposed(k, s), splitHeads(v, s), bias, batch!, s, dropRate, seeds); // [batch*heads, qLen, headDim]
  return mergeHeads(out, batch!, s); // [batch, qLen, inner]
}

/** Attention as one op with a hand-written gradient, both run by the backend's fused kernels. */
function fusedAttention(attrs: AttentionAttrs): (q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor3D, keyMask: tf.Tensor2D) => tf.Tensor3D {
  const named = attrs as unknown as tf.NamedAttrMap;
  return tf.customGrad((...args: GradArgs) => {
    const [q, k, v, bias, keyMask, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.GradSaveFunc];
    const [out, probs] = tf.engine().runKernel(ATTENTION_KERNEL, { q, k, v, bias, keyMask }, named) as tf.Tensor[]; // [batch, qLen, inner], [batch*heads, qLen, kLen4]
    save([q, k, v, probs]);
    const maskShape = keyMask.shape;
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qs, ks, vs, ps] = saved;
        const [dq, dk, dv, dBias] = tf.engine().runKernel(ATTENTION_GRAD_KERNEL, { dy, q: qs, k: ks, v: vs, probs: ps }, named) as tf.Tensor[]; // dq/dk/dv like q/k/v, dBias [heads, qLen, kLen]
        return [dq, dk, dv, dBias, tf.zeros(maskShape)]; // the key mask is data: no gradient
      },
    };
  }) as (q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor3D, keyMask: tf.Tensor2D) => tf.Tensor3D;
}

/** ReLU feed-forward, no biases. */
export function feedForward(x: tf.Tensor, wi: tf.Tensor, wo: tf.Tensor, dropRate: number, seeds: DropoutSeeds): tf.Tensor {
  const h = reluDropout(linear(x, wi), dropRate, seeds.next()); // [..., dFF]
  return linear(h, wo); // [..., dModel]
}

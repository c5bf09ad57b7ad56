// Incremental decoding of a T5-style decoder stack for beam search: each step runs ONE new token per beam row
// through the stack, with the keys/values of the row's earlier tokens kept in a cache instead of recomputed.
// This file is the machinery the step-by-step models share (the cache, the step loop, the tied output head);
// a model subclasses `StackStepSession` with what is its own: its weights, its context pass (the prefill) and how
// its layers attend to the context (encoderDecoder.ts: cross-attention; decoderOnly.ts: the history prefix).
//
// Layout, chosen for the wasm backend (plain 2-D matMul fast; slice/gather of big tensors and batched matMul
// slow): the residual stream of the rows lives in JS (Float32Array [rows, d]); every dense layer is one plain
// 2-D matMul over all rows; the self-attention over the <= L cached tokens of a row is a few dot products done
// in JS. The cache is never reordered: step j's keys/values stay where step j wrote them and each row keeps the
// index of its ancestor at every earlier step (followed through `rowParent`). The context is run once per user
// in the prefill, in user chunks sized to a memory budget (the wasm heap is 4 GB at most), and shared by all of
// that user's beams.
//
// Semantics are exactly the model's: log-probs equal the teacher-forced full forward's log-softmax.
import * as tf from '@tensorflow/tfjs';
import type { DecodeStepInput } from '../decoding/index.js';
import { textRows } from './batches.js';
import type { ModelConfig } from './config.js';
import { relativeBucket, type AttentionShape } from './layers.js';
import { groupRows, type ContextBatch, type Grouping } from './model.js';
import { BOS, type Vocab } from './vocab.js';

const EPS = 1e-6;

export interface IncrementalOptions {
  /** Wasm-heap budget for the context pass (encoder / history prefix) run in user chunks, MiB. */
  contextBudgetMB: number;
  /** Rows per output-head chunk (the [rows, vocab] logits are the largest temporary of a step). */
  headChunkRows: number;
}

export const DEFAULT_INCREMENTAL: IncrementalOptions = { contextBudgetMB: 512, headChunkRows: 2048 };

/** One batch of users' decoding state: log-probs of the next code for every beam row, steps in order. */
export interface StepSession {
  next(input: DecodeStepInput): Float32Array;
  dispose(): void;
}

/** A model's incremental decoding, as the scorer (scorer.ts) uses it. */
export interface IncrementalDecoding {
  /** Prefill: runs the users' context (in chunks under the budget) and returns the session that steps it. */
  prefill(ctx: ContextBatch, options: IncrementalOptions): StepSession;
}

/** Bytes of wasm heap a session keeps per user between steps (every decoder layer's context keys/values). */
export function sessionBytesPerUser(c: ModelConfig, srcLen: number): number {
  return 2 * c.decoderLayers * srcLen * c.heads * c.headDim * 4 + 16 * srcLen;
}

/** Users per chunk of a context pass through `layers` layers: its temporaries (one tidy) stay under the budget. */
export function contextChunkUsers(c: ModelConfig, layers: number, srcLen: number, users: number, budgetMB: number): number {
  const inner = c.heads * c.headDim;
  const floatsPerUser = layers * srcLen * (6 * c.dModel + 8 * inner + 3 * c.dFF + 4 * c.heads * srcLen) + 2 * c.decoderLayers * srcLen * inner;
  return Math.max(1, Math.min(users, Math.floor((budgetMB * 2 ** 20) / (4 * floatsPerUser))));
}

/** x @ w for x [rows, in] held in JS; returns [rows, out] in JS. */
export function mm(x: Float32Array, rows: number, w: tf.Tensor): Float32Array {
  const y = tf.tidy(() => tf.matMul(tf.tensor2d(x, [rows, w.shape[0]!]), w as tf.Tensor2D)); // [rows, out]
  const data = y.dataSync() as Float32Array;
  y.dispose();
  return data;
}

/** T5 RMSNorm of each row of x [rows, d] (JS), times `scale`. */
export function rms(x: Float32Array, rows: number, d: number, gain: Float32Array, scale = 1): Float32Array {
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let ms = 0;
    for (let e = 0; e < d; e++) ms += x[o + e] * x[o + e];
    const inv = scale / Math.sqrt(ms / d + EPS);
    for (let e = 0; e < d; e++) out[o + e] = x[o + e] * inv * gain[e];
  }
  return out;
}

export function addInto(x: Float32Array, y: Float32Array): void {
  for (let k = 0; k < x.length; k++) x[k] += y[k];
}

/** A gain vector (or small table) copied to JS once per session. */
export function readVector(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/**
 * One chunk of users' context memory, per decoder layer, in the layout its model chose (k, v and mask: the
 * model's own attention inputs over the context).
 */
export interface ContextChunk {
  first: number;
  users: number;
  k: tf.Tensor[];
  v: tf.Tensor[];
  mask: tf.Tensor;
}

/** Users first .. first+n-1 of a context batch (views, no copy). */
function sliceContext(ctx: ContextBatch, first: number, n: number): ContextBatch {
  const per = ctx.srcLen * ctx.slots;
  return {
    size: n, srcLen: ctx.srcLen, slots: ctx.slots, srcGroup: ctx.srcGroup,
    src: ctx.src.subarray(first * per, (first + n) * per), srcMask: ctx.srcMask.subarray(first * ctx.srcLen, (first + n) * ctx.srcLen),
    ...(ctx.text ? { text: textRows(ctx.text, first, first + n) } : {}),
  };
}

/** Rows' vectors q [R, width] (JS) laid out in the grouping's slots of one chunk: [chunkUsers*groups, width]. */
export function toChunkSlots(q: Float32Array, width: number, grouping: Grouping, chunk: ContextChunk, R: number): Float32Array {
  const G = grouping.groups;
  const out = new Float32Array(chunk.users * G * width);
  const lo = chunk.first * G;
  const hi = (chunk.first + chunk.users) * G;
  for (let slot = lo; slot < hi; slot++) {
    const r = grouping.slotRow[slot];
    if (r < R) out.set(q.subarray(r * width, (r + 1) * width), (slot - lo) * width);
  }
  return out;
}

/** Adds slot rows ys [chunkUsers*groups, width] back to their rows of out [R, width]. */
export function addFromChunkSlots(ys: Float32Array, grouping: Grouping, chunk: ContextChunk, R: number, out: Float32Array, width: number): void {
  const G = grouping.groups;
  const lo = chunk.first * G;
  const hi = (chunk.first + chunk.users) * G;
  for (let slot = lo; slot < hi; slot++) {
    const r = grouping.slotRow[slot];
    if (r >= R) continue;
    const so = (slot - lo) * width;
    const ro = r * width;
    for (let e = 0; e < width; e++) out[ro + e] += ys[so + e];
  }
}

/** Weights of a decoder stack as the step loop reads them: gains and position table in JS, matrices as tensors. */
export interface StackWeights {
  ln1: Float32Array[];
  qkv: tf.Tensor[];
  o: tf.Tensor[];
  /** The feed-forward sub-layer's pre-norm. */
  ffNorm: Float32Array[];
  wi: tf.Tensor[];
  wo: tf.Tensor[];
  lnFinal: Float32Array;
  /** Relative position table [buckets, heads] of the stack's self-attention. */
  pos: Float32Array;
  /** The tied token embedding [vocab, d] (input and output head). */
  embedding: tf.Tensor;
}

/** Joint softmax with context scores (decoder-only): the row's context scores, updated in place to probabilities. */
export interface JointScores {
  scores: Float32Array;
  index: (r: number, h: number) => number;
  S: number;
}

/**
 * The step loop of a decoder stack over a batch of users. A model subclass runs its context pass in its
 * constructor (`addChunk` per user chunk) and says how a layer's new tokens attend (`attention`, and
 * `afterSelfAttention` for a further sub-layer such as cross-attention).
 */
export abstract class StackStepSession implements StepSession {
  protected readonly shape: AttentionShape;
  protected readonly inner: number;
  protected readonly d: number;
  protected readonly chunks: ContextChunk[] = [];
  private readonly owned: tf.Tensor[] = [];
  private readonly embedding: Float32Array; // [vocab, d]
  private readonly levelHeadT: tf.Tensor[]; // per level [d, levels[l]]
  private readonly layer0Row: Int32Array; // [vocab] row of the token in layer0, -1 if it is never fed
  private readonly layer0: Float32Array; // [feedable tokens, 3*inner]
  /** Per layer, per step: query/key/value of that step's rows [rows_j, 3*inner] (only k and v are read later). */
  private cacheQKV: Float32Array[][] = [];
  /** ancestors[j][r]: row of step j that current row r descends from (j < current step). */
  private ancestors: Int32Array[] = [];
  private prevRows = 0;
  private nextStep = 0;

  constructor(
    protected readonly config: ModelConfig,
    protected readonly vocab: Vocab,
    protected readonly w: StackWeights,
    /** T5 bucketing of the self-attention positions: bidirectional (decoder-only) or causal (encoder-decoder). */
    private readonly bidirectional: boolean,
    private readonly headChunkRows: number,
  ) {
    this.shape = { heads: config.heads, headDim: config.headDim };
    this.inner = config.heads * config.headDim;
    this.d = config.dModel;
    this.embedding = readVector(w.embedding);
    this.levelHeadT = vocab.levels.map((n, l) => tf.tidy(() => tf.transpose(tf.slice(w.embedding, [vocab.levelOffsets[l], 0], [n, this.d])))); // [d, n]
    this.owned.push(...this.levelHeadT);
    // Layer 0's query/key/value of a new token depend on the token alone: one table row per token that can
    // be fed (BOS and the codes of every level but the last) replaces a [rows, d] x [d, 3*inner] matMul a step.
    const feedable = [BOS];
    for (let l = 0; l < vocab.levels.length - 1; l++) for (let k = 0; k < vocab.levels[l]; k++) feedable.push(vocab.levelOffsets[l] + k);
    this.layer0Row = new Int32Array(vocab.size).fill(-1);
    const emb = new Float32Array(feedable.length * this.d);
    feedable.forEach((tok, k) => {
      this.layer0Row[tok] = k;
      emb.set(this.embedding.subarray(tok * this.d, (tok + 1) * this.d), k * this.d);
    });
    this.layer0 = mm(rms(emb, feedable.length, this.d, w.ln1[0]), feedable.length, w.qkv[0]); // [feedable, 3*inner]
  }

  /** Self-attention output [R, inner] (before the output projection) of layer i's new tokens. */
  protected abstract attention(i: number, step: number, qkv: Float32Array, R: number, grouping: Grouping): Float32Array;

  /** A further sub-layer between self-attention and feed-forward (cross-attention): adds into x [R, d]. */
  protected afterSelfAttention(_i: number, _x: Float32Array, _R: number, _grouping: Grouping): void {}

  /**
   * Runs the context pass over `ctx` in user chunks of `perChunk` users; `memory` returns, inside a tidy, every
   * decoder layer's k then v, then the mask. Disposes what it built if a chunk fails.
   */
  protected prefillChunks(ctx: ContextBatch, perChunk: number, memory: (chunk: ContextBatch) => tf.Tensor[]): void {
    const L = this.config.decoderLayers;
    try {
      for (let first = 0; first < ctx.size; first += perChunk) {
        const part = sliceContext(ctx, first, Math.min(perChunk, ctx.size - first));
        const tensors = tf.tidy(() => memory(part));
        this.owned.push(...tensors);
        this.chunks.push({ first, users: part.size, k: tensors.slice(0, L), v: tensors.slice(L, 2 * L), mask: tensors[2 * L] });
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Log-probs [rows, levels[step]] of the next code for every row. Steps must come in order 0, 1, ... */
  next(input: DecodeStepInput): Float32Array {
    const { step, rowUser } = input;
    if (step !== this.nextStep) throw new Error(`incremental decoding expects step ${this.nextStep}, got ${step} (steps must come in order, once each)`);
    const R = rowUser.length;
    if (R === 0) throw new Error('scoring step with no rows');
    const last = this.chunks[this.chunks.length - 1];
    const grouping = groupRows(rowUser, last ? last.first + last.users : 0);
    this.followParents(input);
    const { x, qkv0 } = this.newTokens(input);
    const d = this.d;
    const w = this.w;
    for (let i = 0; i < this.config.decoderLayers; i++) {
      const qkv = i === 0 ? qkv0 : mm(rms(x, R, d, w.ln1[i]), R, w.qkv[i]); // [R, 3*inner]
      (this.cacheQKV[i] ??= [])[step] = qkv; // keys and values are read in place: stride 3*inner
      addInto(x, mm(this.attention(i, step, qkv, R, grouping), R, w.o[i])); // [R, d]
      this.afterSelfAttention(i, x, R, grouping);
      const ffIn = rms(x, R, d, w.ffNorm[i]);
      const f = tf.tidy(() => tf.matMul(tf.relu(tf.matMul(tf.tensor2d(ffIn, [R, d]), w.wi[i] as tf.Tensor2D)), w.wo[i] as tf.Tensor2D)); // [R, d]
      addInto(x, f.dataSync() as Float32Array);
      f.dispose();
    }
    // After the last position nothing attends to its rows again: drop them (the earlier steps go at close).
    if (step === this.vocab.levels.length - 1) for (const layer of this.cacheQKV) layer.length = Math.min(layer.length, step);
    const out = this.logProbs(rms(x, R, d, w.lnFinal, d ** -0.5), R, step);
    this.prevRows = R;
    this.nextStep = step + 1;
    return out;
  }

  /** Ancestors of each row at every earlier step, through the parents. */
  private followParents({ step, rowUser, rowParent }: DecodeStepInput): void {
    const R = rowUser.length;
    if (rowParent.length !== R) throw new Error(`rowParent has ${rowParent.length} entries, expected one per row (${R})`);
    if (step === 0) return;
    const anc: Int32Array[] = [];
    for (let j = 0; j < step; j++) anc.push(new Int32Array(R));
    for (let r = 0; r < R; r++) {
      const parent = rowParent[r];
      if (!Number.isInteger(parent) || parent < 0 || parent >= this.prevRows) throw new Error(`rowParent[${r}] = ${parent} is not a row of step ${step - 1} (${this.prevRows} rows)`);
      anc[step - 1][r] = parent;
      for (let j = 0; j < step - 1; j++) anc[j][r] = this.ancestors[j][parent];
    }
    this.ancestors = anc;
  }

  /** The new token of each row (BOS, then the code chosen at the previous step): embeddings and layer 0's q/k/v. */
  private newTokens({ step, prefixes, rowUser }: DecodeStepInput): { x: Float32Array; qkv0: Float32Array } {
    const R = rowUser.length;
    const d = this.d;
    const x = new Float32Array(R * d); // [R, d]
    const width3 = 3 * this.inner;
    const qkv0 = new Float32Array(R * width3); // [R, 3*inner] layer 0's, from the table
    for (let r = 0; r < R; r++) {
      const tok = step === 0 ? BOS : this.vocab.codeToken(step - 1, prefixes[r * step + step - 1]);
      x.set(this.embedding.subarray(tok * d, (tok + 1) * d), r * d);
      const row = this.layer0Row[tok];
      qkv0.set(this.layer0.subarray(row * width3, (row + 1) * width3), r * width3);
    }
    return { x, qkv0 };
  }

  /** Position bias of query `step` on target key j (j <= step), per head: [step+1, heads]. */
  private selfBias(step: number): Float32Array {
    const c = this.config;
    const H = c.heads;
    const out = new Float32Array((step + 1) * H);
    for (let j = 0; j <= step; j++) {
      const b = relativeBucket(j - step, this.bidirectional, c.relBuckets, c.relMaxDistance);
      for (let h = 0; h < H; h++) out[j * H + h] = this.w.pos[b * H + h];
    }
    return out;
  }

  /**
   * Attention of each row's new token over its own tokens 0..step (from the cache). With `joint` (decoder-only),
   * the softmax is joint with the row's context scores and the context probabilities are written back into
   * them; returns [R, inner] (the target part of the attention output).
   */
  protected selfAttention(i: number, step: number, qkv: Float32Array, R: number, joint: JointScores | null): Float32Array {
    const { heads: H, headDim: Dh } = this.shape;
    const I = this.inner;
    const scale = 1 / Math.sqrt(Dh);
    const bias = this.selfBias(step);
    const C = this.cacheQKV[i];
    const W3 = 3 * I;
    const out = new Float32Array(R * I);
    const s = new Float64Array(step + 1);
    const krow = new Int32Array(step + 1);
    const anc = this.ancestors;
    const Dh4 = Dh - (Dh % 4);
    for (let r = 0; r < R; r++) {
      for (let j = 0; j < step; j++) krow[j] = anc[j][r];
      krow[step] = r;
      for (let h = 0; h < H; h++) {
        const qo = r * W3 + h * Dh;
        let max = -Infinity;
        for (let j = 0; j <= step; j++) {
          const Kj = C[j];
          const ko = krow[j] * W3 + I + h * Dh;
          let d0 = 0;
          let d1 = 0;
          let d2 = 0;
          let d3 = 0;
          let e = 0;
          for (; e < Dh4; e += 4) {
            d0 += qkv[qo + e] * Kj[ko + e];
            d1 += qkv[qo + e + 1] * Kj[ko + e + 1];
            d2 += qkv[qo + e + 2] * Kj[ko + e + 2];
            d3 += qkv[qo + e + 3] * Kj[ko + e + 3];
          }
          for (; e < Dh; e++) d0 += qkv[qo + e] * Kj[ko + e];
          const v = (d0 + d1 + d2 + d3) * scale + bias[j * H + h];
          s[j] = v;
          if (v > max) max = v;
        }
        let ctxBase = 0;
        if (joint) {
          ctxBase = joint.index(r, h);
          for (let k = 0; k < joint.S; k++) if (joint.scores[ctxBase + k] > max) max = joint.scores[ctxBase + k];
        }
        let sum = 0;
        for (let j = 0; j <= step; j++) {
          s[j] = Math.exp(s[j] - max);
          sum += s[j];
        }
        if (joint) {
          for (let k = 0; k < joint.S; k++) {
            const ek = Math.exp(joint.scores[ctxBase + k] - max);
            joint.scores[ctxBase + k] = ek;
            sum += ek;
          }
          const inv = 1 / sum;
          for (let k = 0; k < joint.S; k++) joint.scores[ctxBase + k] *= inv;
        }
        const oo = r * I + h * Dh;
        for (let j = 0; j <= step; j++) {
          const pj = s[j] / sum;
          const Vj = C[j];
          const vo = krow[j] * W3 + 2 * I + h * Dh;
          for (let e = 0; e < Dh; e++) out[oo + e] += pj * Vj[vo + e];
        }
      }
    }
    return out;
  }

  /** log-softmax over the codes of level `step` (the level the model was trained to predict there): [R, levels[step]]. */
  private logProbs(h: Float32Array, R: number, step: number): Float32Array {
    const d = this.d;
    const width = this.vocab.levels[step];
    const out = new Float32Array(R * width);
    for (let first = 0; first < R; first += this.headChunkRows) {
      const n = Math.min(this.headChunkRows, R - first);
      const [lse, lvl] = tf.tidy(() => {
        const x = tf.tensor2d(h.subarray(first * d, (first + n) * d), [n, d]); // [n, d]
        // A softmax over this level's codes, as in training (batchLoss).
        const level = tf.matMul(x, this.levelHeadT[step] as tf.Tensor2D); // [n, width]
        return [tf.logSumExp(level, 1), level]; // [n], [n, width]
      });
      const norm = lse.dataSync();
      const logits = lvl.dataSync();
      tf.dispose([lse, lvl]);
      for (let r = 0; r < n; r++) {
        for (let k = 0; k < width; k++) out[(first + r) * width + k] = logits[r * width + k] - norm[r];
      }
    }
    return out;
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
    this.chunks.length = 0;
    this.cacheQKV = [];
    this.ancestors = [];
  }
}

// Incremental decoding for beam search: each step runs ONE new token per beam row through the decoder,
// with the keys/values of the row's earlier tokens kept in a cache instead of recomputed.
//
// Layout, chosen for the wasm backend (plain 2-D matMul fast; slice/gather of big tensors and batched
// matMul slow): the residual stream of the rows lives in JS (Float32Array [rows, d]); every dense layer is
// one plain 2-D matMul over all rows; the self-attention over the <= L cached tokens of a row is a few
// dot products done in JS. The cache is never reordered: step j's keys/values stay where step j wrote them
// and each row keeps the index of its ancestor at every earlier step (followed through `rowParent`).
// Attention to the context (encoder output for `encdec`, the history prefix for `decoder`) is computed
// once per user in `start`, in user chunks sized to a memory budget (the wasm heap is 4 GB at most), and
// shared by all of that user's beams: the beams' queries are laid out [users, beams] so that one batched
// attention per chunk serves them all.
//
// Semantics are exactly the model's: log-probs equal the teacher-forced full forward's log-softmax.
import * as tf from '@tensorflow/tfjs';
import type { DecodeStepInput } from '../decoding/index.js';
import { DecoderOnly, decoderOnlyPattern } from './decoderOnly.js';
import { EncoderDecoder } from './encoderDecoder.js';
import {
  bmm, bucketGrid, DropoutSeeds, feedForward, linear, linearParts, mergeHeads, multiHeadAttention, paddingBias, positionBias, relativeBucket,
  rmsNorm, splitHeads, splitHeadsTransposed, type AttentionShape,
} from './layers.js';
import { embedContext, groupRows, type ContextBatch, type TokenModel } from './model.js';
import { BOS } from './vocab.js';

const NO_DROPOUT = new DropoutSeeds(null);
const EPS = 1e-6;

export interface DecodeCacheOptions {
  /** Wasm-heap budget for the context pass (encoder / history prefix) run in user chunks, MiB. */
  contextBudgetMB: number;
  /** Rows per output-head chunk (the [rows, vocab] logits are the largest temporary of a step). */
  headChunkRows: number;
}

export const DEFAULT_DECODE_CACHE: DecodeCacheOptions = { contextBudgetMB: 512, headChunkRows: 2048 };

/** Whether the incremental path knows this model's architecture. */
export function supportsIncremental(model: TokenModel): boolean {
  return model instanceof EncoderDecoder || model instanceof DecoderOnly;
}

/** Bytes of wasm heap the session keeps per user between steps (context keys/values), for chunking sessions. */
export function sessionBytesPerUser(model: TokenModel, srcLen: number): number {
  const c = model.config;
  return 2 * c.decoderLayers * srcLen * c.heads * c.headDim * 4 + 16 * srcLen;
}

/** Users per chunk of the context pass: its temporaries (all layers of one tidy) stay under the budget. */
function contextChunkUsers(model: TokenModel, srcLen: number, users: number, budgetMB: number): number {
  const c = model.config;
  const inner = c.heads * c.headDim;
  // encdec: the encoder's layers plus the cross keys/values; decoder: the stack over the prefix.
  const layers = model instanceof EncoderDecoder ? c.encoderLayers : c.decoderLayers;
  const floatsPerUser = layers * srcLen * (6 * c.dModel + 8 * inner + 3 * c.dFF + 4 * c.heads * srcLen) + 2 * c.decoderLayers * srcLen * inner;
  return Math.max(1, Math.min(users, Math.floor((budgetMB * 2 ** 20) / (4 * floatsPerUser))));
}

/** x @ w for x [rows, in] held in JS; returns [rows, out] in JS. */
function mm(x: Float32Array, rows: number, w: tf.Tensor): Float32Array {
  const y = tf.tidy(() => tf.matMul(tf.tensor2d(x, [rows, w.shape[0]!]), w as tf.Tensor2D)); // [rows, out]
  const data = y.dataSync() as Float32Array;
  y.dispose();
  return data;
}

/** T5 RMSNorm of each row of x [rows, d] (JS), times `scale`. */
function rms(x: Float32Array, rows: number, d: number, gain: Float32Array, scale = 1): Float32Array {
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

/**
 * One chunk of users' context memory, per decoder layer. encdec: k, v [users, S, inner] and mask = key mask
 * [users, S] (the model's own cross-attention inputs). decoder: k = keys transposed [users*heads, headDim, S],
 * v [users*heads, S, headDim] and mask = padding bias [users, 1, 1, S] (scores are joined with the target's in JS).
 */
interface ContextChunk {
  first: number;
  users: number;
  k: tf.Tensor[];
  v: tf.Tensor[];
  mask: tf.Tensor;
}

interface Weights {
  ln1: Float32Array[];
  qkv: tf.Tensor[];
  o: tf.Tensor[];
  ln2: Float32Array[];
  cq: tf.Tensor[]; // encdec only
  co: tf.Tensor[];
  ln3: Float32Array[]; // encdec only
  wi: tf.Tensor[];
  wo: tf.Tensor[];
  lnFinal: Float32Array;
  pos: Float32Array; // [buckets, heads]
  embedding: Float32Array; // [vocab, d]
}

/** A scoring session's decoder state for one batch of users. */
export class IncrementalDecoder {
  private readonly encdec: boolean;
  private readonly shape: AttentionShape;
  private readonly inner: number;
  private readonly d: number;
  private readonly w: Weights;
  private readonly chunks: ContextChunk[] = [];
  private readonly owned: tf.Tensor[] = [];
  private readonly levelHeadT: tf.Tensor[]; // per level [d, levels[l]]
  private readonly srcLen: number;
  private readonly headChunkRows: number;
  private readonly layer0Row: Int32Array; // [vocab] row of the token in layer0, -1 if it is never fed
  private readonly layer0: Float32Array; // [feedable tokens, 3*inner]
  /** Per layer, per step: query/key/value of that step's rows [rows_j, 3*inner] (only k and v are read later). */
  private cacheQKV: Float32Array[][] = [];
  /** ancestors[j][r]: row of step j that current row r descends from (j < current step). */
  private ancestors: Int32Array[] = [];
  private prevRows = 0;
  private nextStep = 0;

  constructor(private readonly model: TokenModel, ctx: ContextBatch, options: DecodeCacheOptions = DEFAULT_DECODE_CACHE) {
    if (!supportsIncremental(model)) throw new Error('incremental decoding supports the encdec and decoder architectures only');
    const c = model.config;
    const p = model.params;
    this.encdec = model instanceof EncoderDecoder;
    this.shape = { heads: c.heads, headDim: c.headDim };
    this.inner = c.heads * c.headDim;
    this.d = c.dModel;
    this.srcLen = ctx.srcLen;
    const L = c.decoderLayers;
    const vec = (name: string): Float32Array => p.get(name).dataSync() as Float32Array;
    const layer = <T>(f: (i: number) => T): T[] => Array.from({ length: L }, (_, i) => f(i));
    this.w = {
      ln1: layer((i) => vec(`dec.${i}.ln1`)),
      qkv: layer((i) => p.get(`dec.${i}.qkv`)),
      o: layer((i) => p.get(`dec.${i}.o`)),
      ln2: layer((i) => vec(`dec.${i}.ln2`)),
      cq: this.encdec ? layer((i) => p.get(`dec.${i}.cq`)) : [],
      co: this.encdec ? layer((i) => p.get(`dec.${i}.co`)) : [],
      ln3: this.encdec ? layer((i) => vec(`dec.${i}.ln3`)) : [],
      wi: layer((i) => p.get(`dec.${i}.wi`)),
      wo: layer((i) => p.get(`dec.${i}.wo`)),
      lnFinal: vec('dec.ln'),
      pos: vec('dec.pos'),
      embedding: vec('shared'),
    };
    const vocab = model.vocab;
    this.headChunkRows = options.headChunkRows;
    this.levelHeadT = vocab.levels.map((n, l) => tf.tidy(() => tf.transpose(tf.slice(p.get('shared'), [vocab.levelOffsets[l], 0], [n, this.d])))); // [d, n]
    this.owned.push(...this.levelHeadT);
    // Layer 0's query/key/value of a new token depend on the token alone: one table row per token that can
    // be fed (BOS and the codes of every level but the last) replaces a [rows, d] x [d, 3*inner] matMul a step.
    const feedable = [BOS];
    for (let l = 0; l < vocab.levels.length - 1; l++) for (let k = 0; k < vocab.levels[l]; k++) feedable.push(vocab.levelOffsets[l] + k);
    this.layer0Row = new Int32Array(vocab.size).fill(-1);
    const emb = new Float32Array(feedable.length * this.d);
    feedable.forEach((tok, k) => {
      this.layer0Row[tok] = k;
      emb.set(this.w.embedding.subarray(tok * this.d, (tok + 1) * this.d), k * this.d);
    });
    this.layer0 = mm(rms(emb, feedable.length, this.d, this.w.ln1[0]), feedable.length, this.w.qkv[0]); // [feedable, 3*inner]
    try {
      const per = contextChunkUsers(model, ctx.srcLen, ctx.size, options.contextBudgetMB);
      for (let first = 0; first < ctx.size; first += per) this.chunks.push(this.contextChunk(sliceContext(ctx, first, Math.min(per, ctx.size - first)), first));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Runs the context of `ctx` (users first .. first+size-1) and keeps each decoder layer's keys/values of it. */
  private contextChunk(ctx: ContextBatch, first: number): ContextChunk {
    const L = this.model.config.decoderLayers;
    const tensors = tf.tidy(() => (this.encdec ? this.encoderMemory(ctx) : this.prefixMemory(ctx)));
    const chunk: ContextChunk = { first, users: ctx.size, k: tensors.slice(0, L), v: tensors.slice(L, 2 * L), mask: tensors[2 * L] };
    this.owned.push(...tensors);
    return chunk;
  }

  /** encdec: the encoder once per user, then every decoder layer's cross-attention keys/values. */
  private encoderMemory(ctx: ContextBatch): tf.Tensor[] {
    const model = this.model as EncoderDecoder;
    const enc = model.encode(ctx, NO_DROPOUT); // [users, S, d]
    const k: tf.Tensor[] = [];
    const v: tf.Tensor[] = [];
    for (let i = 0; i < model.config.decoderLayers; i++) {
      const [kk, vv] = linearParts(enc, model.params.get(`dec.${i}.ckv`), 2); // 2 x [users, S, inner]
      k.push(kk);
      v.push(vv);
    }
    return [...k, ...v, tf.tensor2d(ctx.srcMask, [ctx.size, ctx.srcLen])]; // keyMask [users, S]
  }

  /**
   * decoder: the history prefix once per user (the target never changes it: prefix positions attend only to
   * the prefix), keeping every layer's keys/values; the last layer's attention output and FF are not needed.
   */
  private prefixMemory(ctx: ContextBatch): tf.Tensor[] {
    const c = this.model.config;
    const p = this.model.params;
    const n = ctx.size;
    const S = ctx.srcLen;
    const pattern = decoderOnlyPattern(ctx.srcGroup, 0);
    const structure = tf.tensor2d(Float32Array.from(pattern, (a) => (a ? 0 : -1e9)), [S, S]); // [S, S]
    const pos = Array.from({ length: S }, (_, i) => i);
    const rel = positionBias(p.get('dec.pos'), bucketGrid(pos, pos, true, c.relBuckets, c.relMaxDistance), S, S); // [heads, S, S]
    const keyMask = tf.tensor2d(ctx.srcMask, [n, S]); // [n, S]
    const bias = tf.add(rel, structure); // [heads, S, S]
    let x = embedContext(p.get('shared'), ctx); // [n, S, d]
    const kT: tf.Tensor[] = [];
    const v: tf.Tensor[] = [];
    for (let i = 0; i < c.decoderLayers; i++) {
      const h = rmsNorm(x, p.get(`dec.${i}.ln1`)); // [n, S, d]
      const [q, k, vv] = linearParts(h, p.get(`dec.${i}.qkv`), 3); // 3 x [n, S, inner]
      kT.push(splitHeadsTransposed(k, this.shape)); // [n*heads, headDim, S]
      v.push(splitHeads(vv, this.shape)); // [n*heads, S, headDim]
      if (i === c.decoderLayers - 1) break;
      const att = multiHeadAttention(q, k, vv, bias, keyMask, this.shape, 0, NO_DROPOUT); // [n, S, inner]
      x = tf.add(x, linear(att, p.get(`dec.${i}.o`))); // [n, S, d]
      x = tf.add(x, feedForward(rmsNorm(x, p.get(`dec.${i}.ln2`)), p.get(`dec.${i}.wi`), p.get(`dec.${i}.wo`), 0, NO_DROPOUT)); // [n, S, d]
    }
    return [...kT, ...v, paddingBias(keyMask)];
  }

  /** Log-probs [rows, levels[step]] of the next code for every row. Steps must come in order 0, 1, ... */
  next(input: DecodeStepInput): Float32Array {
    const { step, prefixes, rowUser, rowParent } = input;
    const vocab = this.model.vocab;
    if (step !== this.nextStep) throw new Error(`incremental decoding expects step ${this.nextStep}, got ${step} (steps must come in order, once each)`);
    const R = rowUser.length;
    if (R === 0) throw new Error('scoring step with no rows');
    if (rowParent.length !== R) throw new Error(`rowParent has ${rowParent.length} entries, expected one per row (${R})`);
    const users = this.chunks.length ? this.chunks[this.chunks.length - 1].first + this.chunks[this.chunks.length - 1].users : 0;
    const grouping = groupRows(rowUser, users);
    // Ancestors of each row at every earlier step, through the parents.
    if (step > 0) {
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
    // The new token of each row: BOS, then the code chosen at the previous step.
    const d = this.d;
    const x = new Float32Array(R * d); // [R, d]
    const width3 = 3 * this.inner;
    const qkv0 = new Float32Array(R * width3); // [R, 3*inner] layer 0's, from the table
    for (let r = 0; r < R; r++) {
      const tok = step === 0 ? BOS : vocab.codeToken(step - 1, prefixes[r * step + step - 1]);
      x.set(this.w.embedding.subarray(tok * d, (tok + 1) * d), r * d);
      const row = this.layer0Row[tok];
      qkv0.set(this.layer0.subarray(row * width3, (row + 1) * width3), r * width3);
    }
    const c = this.model.config;
    for (let i = 0; i < c.decoderLayers; i++) {
      const qkv = i === 0 ? qkv0 : mm(rms(x, R, d, this.w.ln1[i]), R, this.w.qkv[i]); // [R, 3*inner]
      this.store(i, step, qkv);
      const att = this.encdec ? this.selfAttention(i, step, qkv, R, null) : this.prefixAttention(i, step, qkv, R, grouping);
      addInto(x, mm(att, R, this.w.o[i])); // [R, d]
      if (this.encdec) {
        const q = mm(rms(x, R, d, this.w.ln2[i]), R, this.w.cq[i]); // [R, inner]
        addInto(x, this.crossAttention(i, q, grouping, R)); // [R, d]
      }
      const ffIn = rms(x, R, d, this.encdec ? this.w.ln3[i] : this.w.ln2[i]);
      const f = tf.tidy(() => tf.matMul(tf.relu(tf.matMul(tf.tensor2d(ffIn, [R, d]), this.w.wi[i] as tf.Tensor2D)), this.w.wo[i] as tf.Tensor2D)); // [R, d]
      addInto(x, f.dataSync() as Float32Array);
      f.dispose();
    }
    this.releaseLast(step);
    const out = this.logProbs(rms(x, R, d, this.w.lnFinal, d ** -0.5), R, step);
    this.prevRows = R;
    this.nextStep = step + 1;
    return out;
  }

  /** Keeps step `step`'s query/key/value rows of layer i (keys and values are read in place: stride 3*inner). */
  private store(i: number, step: number, qkv: Float32Array): void {
    (this.cacheQKV[i] ??= [])[step] = qkv;
  }

  /** After the last position nothing attends to its rows again: drop them (the earlier steps go at close). */
  private releaseLast(step: number): void {
    if (step === this.model.vocab.levels.length - 1) for (const layer of this.cacheQKV) layer.length = Math.min(layer.length, step);
  }

  /** Position bias of query `step` on target key j (j <= step), per head: [step+1, heads]. */
  private selfBias(step: number): Float32Array {
    const c = this.model.config;
    const H = c.heads;
    const out = new Float32Array((step + 1) * H);
    for (let j = 0; j <= step; j++) {
      // encdec: causal decoder bias (unidirectional); decoder: one bidirectional table over the whole sequence.
      const b = relativeBucket(j - step, !this.encdec, c.relBuckets, c.relMaxDistance);
      for (let h = 0; h < H; h++) out[j * H + h] = this.w.pos[b * H + h];
    }
    return out;
  }

  /**
   * Attention of each row's new token over its own tokens 0..step (from the cache). With `ctx` (decoder-only),
   * the softmax is joint with the row's context scores `ctx.scores` and the context probabilities are written back
   * into them; returns [R, inner] (the target part of the attention output).
   */
  private selfAttention(i: number, step: number, qkv: Float32Array, R: number, ctx: { scores: Float32Array; index: (r: number, h: number) => number; S: number } | null): Float32Array {
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
        if (ctx) {
          ctxBase = ctx.index(r, h);
          for (let k = 0; k < ctx.S; k++) if (ctx.scores[ctxBase + k] > max) max = ctx.scores[ctxBase + k];
        }
        let sum = 0;
        for (let j = 0; j <= step; j++) {
          s[j] = Math.exp(s[j] - max);
          sum += s[j];
        }
        if (ctx) {
          for (let k = 0; k < ctx.S; k++) {
            const ek = Math.exp(ctx.scores[ctxBase + k] - max);
            ctx.scores[ctxBase + k] = ek;
            sum += ek;
          }
          const inv = 1 / sum;
          for (let k = 0; k < ctx.S; k++) ctx.scores[ctxBase + k] *= inv;
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

  /** Rows' queries q [R, inner] (JS) laid out in the grouping's slots of one chunk: [chunkUsers*groups, inner]. */
  private slots(q: Float32Array, grouping: ReturnType<typeof groupRows>, chunk: ContextChunk, R: number): Float32Array {
    const I = this.inner;
    const G = grouping.groups;
    const out = new Float32Array(chunk.users * G * I);
    const lo = chunk.first * G;
    const hi = (chunk.first + chunk.users) * G;
    for (let slot = lo; slot < hi; slot++) {
      const r = grouping.slotRow[slot];
      if (r < R) out.set(q.subarray(r * I, (r + 1) * I), (slot - lo) * I);
    }
    return out;
  }

  /** encdec cross-attention of the rows' queries to their user's encoder output, then the output projection: [R, d]. */
  private crossAttention(i: number, q: Float32Array, grouping: ReturnType<typeof groupRows>, R: number): Float32Array {
    const G = grouping.groups;
    const I = this.inner;
    const d = this.d;
    const out = new Float32Array(R * d);
    const noPosition = tf.zeros([this.shape.heads, G, this.srcLen]); // [heads, G, S] no position bias across stacks
    for (const chunk of this.chunks) {
      const n = chunk.users;
      const y = tf.tidy(() => {
        const qs = tf.tensor3d(this.slots(q, grouping, chunk, R), [n, G, I]); // [n, G, inner]
        const att = multiHeadAttention(qs, chunk.k[i], chunk.v[i], noPosition, chunk.mask, this.shape, 0, NO_DROPOUT); // [n, G, inner]
        return tf.matMul(tf.reshape(att, [n * G, I]), this.w.co[i] as tf.Tensor2D); // [n*G, d]
      });
      const ys = y.dataSync() as Float32Array;
      y.dispose();
      this.unslot(ys, grouping, chunk, R, out, d);
    }
    noPosition.dispose();
    return out;
  }

  /** Adds slot rows ys [chunkUsers*groups, width] back to their rows of out [R, width]. */
  private unslot(ys: Float32Array, grouping: ReturnType<typeof groupRows>, chunk: ContextChunk, R: number, out: Float32Array, width: number): void {
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

  /**
   * decoder-only: the new token attends to its user's history prefix (cached keys/values, shared by the beams)
   * and to its own target tokens, under one softmax. Returns the attention output [R, inner] (before `o`).
   */
  private prefixAttention(i: number, step: number, qkv: Float32Array, R: number, grouping: ReturnType<typeof groupRows>): Float32Array {
    const c = this.model.config;
    const { heads: H, headDim: Dh } = this.shape;
    const I = this.inner;
    const S = this.srcLen;
    const G = grouping.groups;
    const q = new Float32Array(R * I);
    for (let r = 0; r < R; r++) q.set(qkv.subarray(r * 3 * I, r * 3 * I + I), r * I);
    // Position bias of the query at S+step on prefix key s: bidirectional bucket of s - (S + step).
    const rel = new Float32Array(H * S);
    for (let s = 0; s < S; s++) {
      const b = relativeBucket(s - (S + step), true, c.relBuckets, c.relMaxDistance);
      for (let h = 0; h < H; h++) rel[h * S + s] = this.w.pos[b * H + h];
    }
    const relT = tf.tensor4d(rel, [1, H, 1, S]); // [1, heads, 1, S]
    try {
      // Context scores of every chunk, in one JS array indexed by (global slot, head).
      const scores = new Float32Array(grouping.users * G * H * S);
      for (const chunk of this.chunks) {
        const n = chunk.users;
        const sc = tf.tidy(() => {
          const qs = tf.mul(splitHeads(tf.tensor3d(this.slots(q, grouping, chunk, R), [n, G, I]), this.shape), 1 / Math.sqrt(Dh)); // [n*heads, G, headDim]
          const raw = tf.reshape(bmm(qs as tf.Tensor3D, chunk.k[i] as tf.Tensor3D), [n, H, G, S]); // [n, heads, G, S]
          return tf.add(tf.add(raw, relT), chunk.mask); // [n, heads, G, S]
        });
        scores.set(sc.dataSync() as Float32Array, chunk.first * H * G * S);
        sc.dispose();
      }
      // scores layout: [users, heads, G, S]; row r = slot (u, g).
      const index = (r: number, h: number): number => {
        const slot = grouping.rowSlot[r];
        const u = Math.floor(slot / G);
        return ((u * H + h) * G + (slot - u * G)) * S;
      };
      const att = this.selfAttention(i, step, qkv, R, { scores, index, S });
      for (const chunk of this.chunks) {
        const n = chunk.users;
        const y = tf.tidy(() => {
          const probs = tf.tensor3d(scores.subarray(chunk.first * H * G * S, (chunk.first + n) * H * G * S), [n * H, G, S]); // [n*heads, G, S]
          return tf.reshape(mergeHeads(bmm(probs, chunk.v[i] as tf.Tensor3D), n, this.shape), [n * G, I]); // [n*G, inner]
        });
        const ys = y.dataSync() as Float32Array;
        y.dispose();
        this.unslot(ys, grouping, chunk, R, att, I);
      }
      return att;
    } finally {
      relT.dispose();
    }
  }

  /** log-softmax over the codes of level `step` (the level the model was trained to predict there): [R, levels[step]]. */
  private logProbs(h: Float32Array, R: number, step: number): Float32Array {
    const d = this.d;
    const width = this.model.vocab.levels[step];
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

function addInto(x: Float32Array, y: Float32Array): void {
  for (let k = 0; k < x.length; k++) x[k] += y[k];
}

/** Users first .. first+n-1 of a context batch (views, no copy). */
function sliceContext(ctx: ContextBatch, first: number, n: number): ContextBatch {
  const per = ctx.srcLen * ctx.slots;
  return {
    size: n, srcLen: ctx.srcLen, slots: ctx.slots, srcGroup: ctx.srcGroup,
    src: ctx.src.subarray(first * per, (first + n) * per), srcMask: ctx.srcMask.subarray(first * ctx.srcLen, (first + n) * ctx.srcLen),
  };
}

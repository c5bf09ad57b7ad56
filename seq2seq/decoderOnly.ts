// RecGPT-style decoder-only model: one stack over [user, history codes..., BOS, target codes...].
// Attention is bidirectional among the codes of one history item and causal across items; the target
// item (the one being generated) is causal token by token. Same blocks and tied head as the encoder-decoder.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config.js';
import type { TokenBatch } from './batches.js';
import {
  addFromChunkSlots, contextChunkUsers, StackStepSession, toChunkSlots, type IncrementalDecoding, type IncrementalOptions,
} from './incremental.js';
import {
  bmm, bucketGrid, dropout, DropoutSeeds, feedForward, linear, linearParts, mergeHeads, multiHeadAttention, paddingBias, ParamStore, positionBias,
  relativeBucket, rmsNorm, splitHeads, splitHeadsTransposed, type AttentionShape,
} from './layers.js';
import { decoderStackWeights, embedContext, embedTokens, initFeedForward, initSelfAttention, outputLogits, type ContextBatch, type Grouping, type ScoringContext, type TokenModel, type TrainingData, type TrainingSet, type ModelScorer, type ScorerOptions, tokenTrainingSet } from './model.js';
import { Vocab } from './vocab.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { createStepScorer } from './scorer.js';

const NO_DROPOUT = new DropoutSeeds(null);

/**
 * Attention pattern [(S+T)^2] as 1 (may attend) / 0: query i may see key j when j's item comes before i's,
 * or both are codes of the same history item (bidirectional), or both are in the target and j <= i.
 * `srcGroup` [S] is the item index of each context position (0 = the user token).
 */
export function decoderOnlyPattern(srcGroup: Int32Array, T: number): Uint8Array {
  const S = srcGroup.length;
  const N = S + T;
  let targetGroup = 0;
  for (const g of srcGroup) targetGroup = Math.max(targetGroup, g + 1);
  const group = (i: number): number => (i < S ? srcGroup[i] : targetGroup);
  const out = new Uint8Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const gi = group(i);
      const gj = group(j);
      out[i * N + j] = gj < gi || (gj === gi && (i < S || j <= i)) ? 1 : 0;
    }
  }
  return out;
}

interface DecoderOnlyScoringContext extends ScoringContext {
  ctx: ContextBatch;
}

export class DecoderOnly implements TokenModel {
  readonly params: ParamStore;
  readonly embeddingTables = ['shared'];
  private readonly shape: AttentionShape;
  private readonly inner: number;

  constructor(readonly config: ModelConfig, readonly vocab: Vocab, params?: ParamStore) {
    this.shape = { heads: config.heads, headDim: config.headDim };
    this.inner = config.heads * config.headDim;
    this.params = params ?? DecoderOnly.init(config, vocab);
  }

  static init(c: ModelConfig, vocab: Vocab): ParamStore {
    const p = new ParamStore(c.seed);
    p.normal('shared', [vocab.size, c.dModel], 1);
    p.normal('dec.pos', [c.relBuckets, c.heads], 1);
    for (let i = 0; i < c.decoderLayers; i++) {
      initSelfAttention(p, `dec.${i}`, c);
      initFeedForward(p, `dec.${i}`, 'ln2', c);
    }
    p.ones('dec.ln', c.dModel);
    return p;
  }

  /** Hidden states [rows, S+T, d] of context rows followed by decoder tokens [rows, T]. */
  private run(ctx: ContextBatch, tokens: Int32Array, T: number, seeds: DropoutSeeds): tf.Tensor {
    const c = this.config;
    const p = this.params;
    const rows = ctx.size;
    const S = ctx.srcLen;
    const N = S + T;
    const pattern = decoderOnlyPattern(ctx.srcGroup, T);
    const structure = tf.tensor2d(Float32Array.from(pattern, (a) => (a ? 0 : -1e9)), [N, N]); // [N, N]
    const pos = Array.from({ length: N }, (_, i) => i);
    const rel = positionBias(p.get('dec.pos'), bucketGrid(pos, pos, true, c.relBuckets, c.relMaxDistance), N, N); // [1, heads, N, N]
    const keyMask = tf.concat([tf.tensor2d(ctx.srcMask, [rows, S]), tf.ones([rows, T])], 1); // [rows, N]
    const bias = tf.add(rel, structure); // [1, heads, N, N]
    const x0 = tf.concat([embedContext(p.get('shared'), ctx), embedTokens(p.get('shared'), tokens, rows, T)], 1); // [rows, N, d]
    let x = dropout(x0, c.dropout, seeds.next()); // [rows, N, d]
    for (let i = 0; i < c.decoderLayers; i++) {
      const h = rmsNorm(x, p.get(`dec.${i}.ln1`)); // [rows, N, d]
      const [q, k, v] = linearParts(h, p.get(`dec.${i}.qkv`), 3); // 3 x [rows, N, inner]
      const att = multiHeadAttention(q, k, v, bias, keyMask, this.shape, c.dropout, seeds); // [rows, N, inner]
      x = tf.add(x, dropout(linear(att, p.get(`dec.${i}.o`)), c.dropout, seeds.next())); // [rows, N, d]
      const f = feedForward(rmsNorm(x, p.get(`dec.${i}.ln2`)), p.get(`dec.${i}.wi`), p.get(`dec.${i}.wo`), c.dropout, seeds); // [rows, N, d]
      x = tf.add(x, dropout(f, c.dropout, seeds.next())); // [rows, N, d]
    }
    return dropout(rmsNorm(x, p.get('dec.ln')), c.dropout, seeds.next()); // [rows, N, d]
  }

  forward(batch: TokenBatch, seeds: DropoutSeeds | null): tf.Tensor {
    const L = this.vocab.codeLength;
    const h = this.run(batch, batch.tgtIn, L, seeds ?? NO_DROPOUT); // [batch, S+L, d]
    const tail = tf.slice(h, [0, batch.srcLen, 0], [batch.size, L, this.config.dModel]); // [batch, L, d]
    return tf.reshape(outputLogits(tail, this.params.get('shared')), [batch.size, L, this.vocab.size]); // [batch, L, vocab]
  }

  /** The context is kept as tokens; each step runs the stack over context + prefix per row (IDs are 3-4 tokens). */
  prepare(ctx: ContextBatch): DecoderOnlyScoringContext {
    return { users: ctx.size, ctx, dispose: () => {} };
  }

  nextLogits(sc: ScoringContext, tokens: Int32Array, T: number, grouping: Grouping): tf.Tensor2D {
    const { ctx } = sc as DecoderOnlyScoringContext;
    const rows = tokens.length / T;
    // Row r belongs to the user whose slot holds it.
    const perRow: ContextBatch = {
      size: rows, srcLen: ctx.srcLen, slots: ctx.slots, srcGroup: ctx.srcGroup,
      src: new Int32Array(rows * ctx.srcLen * ctx.slots), srcMask: new Float32Array(rows * ctx.srcLen),
    };
    const width = ctx.srcLen * ctx.slots;
    for (let r = 0; r < rows; r++) {
      const u = Math.floor(grouping.rowSlot[r] / grouping.groups);
      perRow.src.set(ctx.src.subarray(u * width, (u + 1) * width), r * width);
      perRow.srcMask.set(ctx.srcMask.subarray(u * ctx.srcLen, (u + 1) * ctx.srcLen), r * ctx.srcLen);
    }
    return tf.tidy(() => {
      const h = this.run(perRow, tokens, T, NO_DROPOUT); // [rows, S+T, d]
      const last = tf.reshape(tf.slice(h, [0, ctx.srcLen + T - 1, 0], [rows, 1, this.config.dModel]), [rows, this.config.dModel]); // [rows, d]
      return outputLogits(last, this.params.get('shared')); // [rows, vocab]
    });
  }

  trainingSet(data: TrainingData): TrainingSet {
    return tokenTrainingSet(this, data);
  }

  scorer(itemCodes: SemanticIds, opts: ScorerOptions = {}): ModelScorer {
    return { kind: 'beam', step: createStepScorer(this, itemCodes, opts, this.incremental()) };
  }

  /** Incremental decoding: the history prefix's keys/values once per user, one target token a step. */
  private incremental(): IncrementalDecoding {
    return { prefill: (ctx, options) => new DecoderOnlyStepSession(this, ctx, options) };
  }

  dispose(): void {
    this.params.dispose();
  }
}

/**
 * A beam-search session of the decoder-only model: the prefill runs the history prefix once per user (the target
 * never changes it: prefix positions attend only to the prefix) and keeps every layer's keys/values; a step's new
 * token attends to its user's prefix (shared by the beams) and to its own target tokens under one softmax.
 */
class DecoderOnlyStepSession extends StackStepSession {
  private readonly srcLen: number;

  constructor(model: DecoderOnly, ctx: ContextBatch, options: IncrementalOptions) {
    const c = model.config;
    const p = model.params;
    super(c, model.vocab, decoderStackWeights(p, c.decoderLayers, 'ln2'), true, options.headChunkRows);
    this.srcLen = ctx.srcLen;
    const perChunk = contextChunkUsers(c, c.decoderLayers, ctx.srcLen, ctx.size, options.contextBudgetMB);
    this.prefillChunks(ctx, perChunk, (part) => this.prefixMemory(model, part));
  }

  /**
   * Every layer's keys (transposed, [users*heads, headDim, S]) and values ([users*heads, S, headDim]) of the
   * prefix, then its padding bias [users, 1, 1, S]; the last layer's attention output and FF are not needed.
   */
  private prefixMemory(model: DecoderOnly, ctx: ContextBatch): tf.Tensor[] {
    const c = model.config;
    const p = model.params;
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

  /** The new tokens' attention over their user's prefix and their own target tokens, one softmax: [R, inner]. */
  protected attention(i: number, step: number, qkv: Float32Array, R: number, grouping: Grouping): Float32Array {
    const c = this.config;
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
          const qs = tf.mul(splitHeads(tf.tensor3d(toChunkSlots(q, I, grouping, chunk, R), [n, G, I]), this.shape), 1 / Math.sqrt(Dh)); // [n*heads, G, headDim]
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
        addFromChunkSlots(ys, grouping, chunk, R, att, I);
      }
      return att;
    } finally {
      relT.dispose();
    }
  }
}

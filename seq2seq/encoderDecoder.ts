// TIGER's model: a T5-style encoder-decoder (RMSNorm pre-norm, relative position bias shared by a stack's
// layers, ReLU feed-forward, no biases, one token embedding tied to the output head), the same as
// ../shared/reference/tiger_ref.py. Cross-attention keys/values are computed once per user and shared by
// that user's beams (Grouping), in training (one row per user) and in beam search alike.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config.js';
import type { TokenBatch } from './batches.js';
import {
  addFromChunkSlots, addInto, contextChunkUsers, mm, readVector, rms, StackStepSession, toChunkSlots, type IncrementalDecoding, type IncrementalOptions,
} from './incremental.js';
import {
  bucketGrid, dropout, DropoutSeeds, feedForward, linear, linearParts, multiHeadAttention, ParamStore, positionBias, rmsNorm,
  type AttentionShape,
} from './layers.js';
import {
  decoderStackWeights, embedModelContext, embedTokens, fromSlots, identityGrouping, initFeedForward, initSelfAttention, isIdentityGrouping, outputLogits, toSlots,
  type ContextBatch, type Grouping, type ScoringContext, type TokenModel, type TrainingData, type TrainingSet, type ModelScorer, type ScorerOptions, tokenTrainingSet,
} from './model.js';
import { Vocab } from './vocab.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { createStepScorer } from './scorer.js';
import { initTextContext } from './textContext.js';

const NO_DROPOUT = new DropoutSeeds(null);

/** Per-user memory the decoder attends to: per layer keys and values, and the key mask. */
interface CrossKeysValues {
  users: number;
  k: tf.Tensor[]; // per layer [users, S, inner]
  v: tf.Tensor[]; // per layer [users, S, inner]
  keyMask: tf.Tensor; // [users, S]
}


interface EncDecScoringContext extends ScoringContext {
  memory: CrossKeysValues;
}

export class EncoderDecoder implements TokenModel {
  readonly params: ParamStore;
  readonly embeddingTables = ['shared'];
  private readonly shape: AttentionShape;
  private readonly inner: number;
  private readonly gridCache = new Map<string, Int32Array>();

  constructor(readonly config: ModelConfig, readonly vocab: Vocab, params?: ParamStore) {
    this.shape = { heads: config.heads, headDim: config.headDim };
    this.inner = config.heads * config.headDim;
    this.params = params ?? EncoderDecoder.init(config, vocab);
  }

  /** Fresh weights, initialised as PyTorch initialises the reference (embeddings N(0,1), linear U(±1/sqrt(fanIn))). */
  static init(c: ModelConfig, vocab: Vocab): ParamStore {
    const p = new ParamStore(c.seed);
    const inner = c.heads * c.headDim;
    p.normal('shared', [vocab.size, c.dModel], 1);
    p.normal('enc.pos', [c.relBuckets, c.heads], 1);
    for (let i = 0; i < c.encoderLayers; i++) {
      initSelfAttention(p, `enc.${i}`, c);
      initFeedForward(p, `enc.${i}`, 'ln2', c);
    }
    p.ones('enc.ln', c.dModel);
    p.normal('dec.pos', [c.relBuckets, c.heads], 1);
    for (let i = 0; i < c.decoderLayers; i++) {
      initSelfAttention(p, `dec.${i}`, c);
      p.ones(`dec.${i}.ln2`, c.dModel); // cross-attention: queries from the decoder, keys/values from the encoder
      p.linear(`dec.${i}.cq`, c.dModel, inner);
      p.linear(`dec.${i}.ckv`, c.dModel, 2 * inner);
      p.linear(`dec.${i}.co`, inner, c.dModel);
      initFeedForward(p, `dec.${i}`, 'ln3', c);
    }
    p.ones('dec.ln', c.dModel);
    initTextContext(p, c);
    return p;
  }

  private grid(kind: 'enc' | 'dec', qLen: number, kLen: number): Int32Array {
    const key = `${kind}:${qLen}:${kLen}`;
    let g = this.gridCache.get(key);
    if (!g) {
      const qPos = Array.from({ length: qLen }, (_, i) => i + (kind === 'dec' ? kLen - qLen : 0));
      const kPos = Array.from({ length: kLen }, (_, i) => i);
      g = bucketGrid(qPos, kPos, kind === 'enc', this.config.relBuckets, this.config.relMaxDistance);
      this.gridCache.set(key, g);
    }
    return g;
  }

  /** Self-attention of x [batch, T, d] (already normed) with position bias [1, heads, T, T] and key mask [batch, T]; returns [batch, T, d]. */
  private selfAttention(x: tf.Tensor, qkvW: tf.Tensor, oW: tf.Tensor, posBias: tf.Tensor, keyMask: tf.Tensor, seeds: DropoutSeeds): tf.Tensor {
    const [q, k, v] = linearParts(x, qkvW, 3); // 3 x [batch, T, inner]
    const out = multiHeadAttention(q, k, v, posBias, keyMask, this.shape, this.config.dropout, seeds); // [batch, T, inner]
    return linear(out, oW); // [batch, T, d]
  }

  /** Encoder output [batch, S, d]. */
  encode(ctx: ContextBatch, seeds: DropoutSeeds): tf.Tensor {
    const c = this.config;
    const p = this.params;
    const S = ctx.srcLen;
    const mask = tf.tensor2d(ctx.srcMask, [ctx.size, S]); // [batch, S]
    const bias = positionBias(p.get('enc.pos'), this.grid('enc', S, S), S, S); // [1, heads, S, S]
    let x = dropout(embedModelContext(p, c, ctx), c.dropout, seeds.next()); // [batch, S, d]
    for (let i = 0; i < c.encoderLayers; i++) {
      const h = rmsNorm(x, p.get(`enc.${i}.ln1`)); // [batch, S, d]
      x = tf.add(x, dropout(this.selfAttention(h, p.get(`enc.${i}.qkv`), p.get(`enc.${i}.o`), bias, mask, seeds), c.dropout, seeds.next())); // [batch, S, d]
      const f = feedForward(rmsNorm(x, p.get(`enc.${i}.ln2`)), p.get(`enc.${i}.wi`), p.get(`enc.${i}.wo`), c.dropout, seeds); // [batch, S, d]
      x = tf.add(x, dropout(f, c.dropout, seeds.next())); // [batch, S, d]
    }
    return dropout(rmsNorm(x, p.get('enc.ln')), c.dropout, seeds.next()); // [batch, S, d]
  }

  /** Cross-attention keys/values of every decoder layer, once per user. */
  crossKeysValues(enc: tf.Tensor, srcMask: Float32Array): CrossKeysValues {
    const [users, S] = enc.shape;
    const k: tf.Tensor[] = [];
    const v: tf.Tensor[] = [];
    for (let i = 0; i < this.config.decoderLayers; i++) {
      const [kk, vv] = linearParts(enc, this.params.get(`dec.${i}.ckv`), 2); // 2 x [users, S, inner]
      k.push(kk);
      v.push(vv);
    }
    return { users, k, v, keyMask: tf.tensor2d(srcMask, [users, S]) }; // keyMask [users, S]
  }

  /** Decoder hidden states [rows, T, d] for decoder input tokens [rows, T]; rows map to users by `grouping`. */
  decode(tokens: Int32Array, rows: number, T: number, memory: CrossKeysValues, grouping: Grouping, seeds: DropoutSeeds): tf.Tensor {
    const c = this.config;
    const p = this.params;
    const identity = isIdentityGrouping(grouping);
    const causal = tf.tensor2d(causalMask(T), [T, T]); // [T, T]
    const selfBias = tf.add(positionBias(p.get('dec.pos'), this.grid('dec', T, T), T, T), causal); // [1, heads, T, T]
    const selfMask = tf.ones([rows, T]); // [rows, T]
    const S = memory.keyMask.shape[1]!;
    const crossBias = tf.zeros([c.heads, grouping.groups * T, S]); // [heads, groups*T, S] no position bias across stacks
    let x = dropout(embedTokens(p.get('shared'), tokens, rows, T), c.dropout, seeds.next()); // [rows, T, d]
    for (let i = 0; i < c.decoderLayers; i++) {
      const h = rmsNorm(x, p.get(`dec.${i}.ln1`)); // [rows, T, d]
      x = tf.add(x, dropout(this.selfAttention(h, p.get(`dec.${i}.qkv`), p.get(`dec.${i}.o`), selfBias, selfMask, seeds), c.dropout, seeds.next())); // [rows, T, d]
      const q = linear(rmsNorm(x, p.get(`dec.${i}.ln2`)), p.get(`dec.${i}.cq`)); // [rows, T, inner]
      const qSlots = identity ? q : toSlots(q, grouping); // [users*groups, T, inner]
      const qUser = tf.reshape(qSlots, [memory.users, grouping.groups * T, this.inner]); // [users, groups*T, inner]
      const att = multiHeadAttention(qUser, memory.k[i], memory.v[i], crossBias, memory.keyMask, this.shape, c.dropout, seeds); // [users, groups*T, inner]
      const merged = tf.reshape(att, [memory.users * grouping.groups, T, this.inner]); // [slots, T, inner]
      const back = identity ? merged : fromSlots(merged, grouping); // [rows, T, inner]
      x = tf.add(x, dropout(linear(back, p.get(`dec.${i}.co`)), c.dropout, seeds.next())); // [rows, T, d]
      const f = feedForward(rmsNorm(x, p.get(`dec.${i}.ln3`)), p.get(`dec.${i}.wi`), p.get(`dec.${i}.wo`), c.dropout, seeds); // [rows, T, d]
      x = tf.add(x, dropout(f, c.dropout, seeds.next())); // [rows, T, d]
    }
    return dropout(rmsNorm(x, p.get('dec.ln')), c.dropout, seeds.next()); // [rows, T, d]
  }

  forward(batch: TokenBatch, seeds: DropoutSeeds | null): tf.Tensor {
    const s = seeds ?? NO_DROPOUT;
    const L = this.vocab.codeLength;
    const enc = this.encode(batch, s); // [batch, S, d]
    const memory = this.crossKeysValues(enc, batch.srcMask);
    const h = this.decode(batch.tgtIn, batch.size, L, memory, identityGrouping(batch.size), s); // [batch, L, d]
    return tf.reshape(outputLogits(h, this.params.get('shared')), [batch.size, L, this.vocab.size]); // [batch, L, vocab]
  }

  prepare(ctx: ContextBatch): EncDecScoringContext {
    const memory = tf.tidy(() => {
      const m = this.crossKeysValues(this.encode(ctx, NO_DROPOUT), ctx.srcMask);
      return [...m.k, ...m.v, m.keyMask];
    });
    const n = this.config.decoderLayers;
    const mem: CrossKeysValues = { users: ctx.size, k: memory.slice(0, n), v: memory.slice(n, 2 * n), keyMask: memory[2 * n] };
    return { users: ctx.size, memory: mem, dispose: () => memory.forEach((t) => t.dispose()) };
  }

  nextLogits(sc: ScoringContext, tokens: Int32Array, T: number, grouping: Grouping): tf.Tensor2D {
    const { memory } = sc as EncDecScoringContext;
    const rows = tokens.length / T;
    return tf.tidy(() => {
      const h = this.decode(tokens, rows, T, memory, grouping, NO_DROPOUT); // [rows, T, d]
      const last = tf.reshape(tf.slice(h, [0, T - 1, 0], [rows, 1, this.config.dModel]), [rows, this.config.dModel]); // [rows, d]
      return outputLogits(last, this.params.get('shared')); // [rows, vocab]
    });
  }

  trainingSet(data: TrainingData): TrainingSet {
    return tokenTrainingSet(this, data);
  }

  scorer(itemCodes: SemanticIds, opts: ScorerOptions = {}): ModelScorer {
    return { kind: 'beam', step: createStepScorer(this, itemCodes, opts, this.incremental()) };
  }

  /** Incremental decoding: the encoder and every layer's cross keys/values once per user, one token a step. */
  private incremental(): IncrementalDecoding {
    return { prefill: (ctx, options) => new EncDecStepSession(this, ctx, options) };
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** Additive causal mask [T*T]: -1e9 above the diagonal. */
export function causalMask(T: number): Float32Array {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return m;
}

/**
 * A beam-search session of the encoder-decoder: the prefill runs the encoder once per user (in chunks) and keeps
 * every decoder layer's cross-attention keys/values; a step runs the decoder on the rows' new tokens with the
 * self-attention cache, then cross-attention of the rows' queries to their user's memory. The beams' queries are
 * laid out [users, beams] so one batched attention per chunk serves them all.
 */
class EncDecStepSession extends StackStepSession {
  private readonly ln2: Float32Array[];
  private readonly cq: tf.Tensor[];
  private readonly co: tf.Tensor[];
  private readonly srcLen: number;

  constructor(model: EncoderDecoder, ctx: ContextBatch, options: IncrementalOptions) {
    const c = model.config;
    const p = model.params;
    const layer = <T>(f: (i: number) => T): T[] => Array.from({ length: c.decoderLayers }, (_, i) => f(i));
    super(c, model.vocab, decoderStackWeights(p, c.decoderLayers, 'ln3'), false, options.headChunkRows);
    this.ln2 = layer((i) => readVector(p.get(`dec.${i}.ln2`)));
    this.cq = layer((i) => p.get(`dec.${i}.cq`));
    this.co = layer((i) => p.get(`dec.${i}.co`));
    this.srcLen = ctx.srcLen;
    const perChunk = contextChunkUsers(c, c.encoderLayers, ctx.srcLen, ctx.size, options.contextBudgetMB);
    this.prefillChunks(ctx, perChunk, (part) => {
      const m = model.crossKeysValues(model.encode(part, NO_DROPOUT), part.srcMask); // per layer k, v [users, S, inner]
      return [...m.k, ...m.v, m.keyMask]; // keyMask [users, S]
    });
  }

  protected attention(i: number, step: number, qkv: Float32Array, R: number): Float32Array {
    return this.selfAttention(i, step, qkv, R, null);
  }

  /** Cross-attention of the rows' queries to their user's encoder output, then the output projection: adds [R, d] into x. */
  protected override afterSelfAttention(i: number, x: Float32Array, R: number, grouping: Grouping): void {
    const G = grouping.groups;
    const I = this.inner;
    const d = this.d;
    const q = mm(rms(x, R, d, this.ln2[i]), R, this.cq[i]); // [R, inner]
    const out = new Float32Array(R * d);
    const noPosition = tf.zeros([this.shape.heads, G, this.srcLen]); // [heads, G, S] no position bias across stacks
    for (const chunk of this.chunks) {
      const n = chunk.users;
      const y = tf.tidy(() => {
        const qs = tf.tensor3d(toChunkSlots(q, I, grouping, chunk, R), [n, G, I]); // [n, G, inner]
        const att = multiHeadAttention(qs, chunk.k[i], chunk.v[i], noPosition, chunk.mask, this.shape, 0, NO_DROPOUT); // [n, G, inner]
        return tf.matMul(tf.reshape(att, [n * G, I]), this.co[i] as tf.Tensor2D); // [n*G, d]
      });
      const ys = y.dataSync() as Float32Array;
      y.dispose();
      addFromChunkSlots(ys, grouping, chunk, R, out, d);
    }
    noPosition.dispose();
    addInto(x, out);
  }
}

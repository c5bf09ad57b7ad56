// What every model shares: the interface the trainer, the scorer and the registry use (training rows and
// batches, a scorer for decoding), the token-level interface of the encoder-decoder and decoder-only models,
// the tied token embedding (context embedding, output head), the loss, and the grouping of beam rows by user.
import * as tf from '@tensorflow/tfjs';
import type { CatalogScorer, StepScorer } from '../decoding/index.js';
import type { SemanticIds } from '../tokenizer/index.js';
import type { ModelConfig } from './config.js';
import { Batcher, batchRows, type Example, type TokenBatch } from './batches.js';
import { readVector, type StackWeights } from './incremental.js';
import { dense, DropoutSeeds, gatherRows, ParamStore } from './layers.js';
import { hasKernel, SOFTMAX_CE_KERNEL } from './backend/index.js';
import { dropTextMask, textGatherIds, textTokenRows } from './textContext.js';
import { PAD, Vocab } from './vocab.js';

export type ContextBatch = Omit<TokenBatch, 'tgtIn' | 'tgtOut'>;

/** What a scorer needs to know about a user (the one UserContext of scorers and evaluation). */
export interface UserContext {
  /** Dense user id, or -1 for none (a search query, a user the data set lacks). */
  user: number;
  /** Dense item ids, oldest first (the last `maxHistory` are used). */
  history: Int32Array;
  /** Text vector (a preference, a search query) for a model with text tokens (textContext.ts); absent = no text. */
  text?: Float32Array | null;
  /** The user's domain (multi-domain data): models with domain tokens read it. */
  domain?: number;
}

/** A user's training part: every item but the last two (validation and test targets), oldest first. */
export interface TrainingSequence {
  user: number;
  items: Int32Array;
  /** The user's domain (multi-domain data). */
  domain?: number;
}

/** What training gets from the data layer; a model takes the form it trains on. */
export interface TrainingData {
  /** Users' training parts (user id order): causal models supervise every position of them. */
  sequences: readonly TrainingSequence[];
  /** The split's one-target examples (history -> next item), built on first call: encoder-decoder style models. */
  examples(): readonly Example[];
  itemCodes: SemanticIds;
  /** Text context of the rows, for models with text tokens (the pipeline's preferences and DSI's indexing task). */
  text?: TrainingText;
}

/** Texts of the training rows, as vectors of the model's `textDim` (pipelines/text makes them). */
export interface TrainingText {
  /** Preference vector of example i of `examples()`, or null (no preference). */
  example(i: number): Float32Array | null;
  /** Preference vector of a causal window: the user's training sequence items [start, end) are the window. */
  window(user: number, start: number, end: number): Float32Array | null;
  /** DSI's indexing task: rows of (a text of an item -> that item), no history; their text is never dropped. */
  indexing: readonly { text: Float32Array; target: number }[];
}

/** A batch as the trainer runs it: the model's loss and its rows, for running large batches in parts. */
export interface TrainBatch {
  /** Rows (examples or sequence windows). */
  size: number;
  /** Supervised targets: the loss is their mean, parts are weighted by them. */
  targets: number;
  /** Positions each row runs through the stack (activation memory per row). */
  positions: number;
  /** Tokens fed (throughput). */
  tokens: number;
  rows(start: number, end: number): TrainBatch;
  /** Mean loss over the batch's targets; `seeds` null = no dropout. */
  loss(seeds: DropoutSeeds | null): tf.Scalar;
}

/** Training rows of a model: the trainer shuffles row indices (DataOrder) and asks for batches. */
export interface TrainingSet {
  size: number;
  batch(indices: Uint32Array): TrainBatch;
  /** Each row's length (positions it fills), when rows differ: the data order then batches similar lengths together. */
  lengths?: Uint32Array;
}

export interface ScorerOptions {
  /** Override the model's maxHistory (at most the model's). */
  maxHistory?: number;
  /**
   * Incremental decoding with a self-attention cache (default: true where the backend reads tensors synchronously;
   * WebGPU in Node cannot, so it gets the plain path, which reads asynchronously).
   */
  incremental?: boolean;
  /** Wasm-heap budget, MiB, for what a session keeps between steps. Default 1024. */
  sessionBudgetMB?: number;
  /** Budget, MiB, of the context pass's temporaries (it runs in user chunks of this size). Default 512. */
  contextBudgetMB?: number;
}

/** How a model ranks items: beam search over the catalog trie, or exact scores of the whole catalog. */
export type ModelScorer =
  | { kind: 'beam'; step: StepScorer<UserContext> }
  | { kind: 'catalog'; catalog: CatalogScorer<UserContext> };

/** A trainable, decodable model: one file implements it and registers it (registry.ts). */
export interface SequenceModel {
  readonly config: ModelConfig;
  readonly vocab: Vocab;
  readonly params: ParamStore;
  /** Names of the embedding tables in `params` (TrainConfig.embeddingLr scales their learning rate). */
  readonly embeddingTables?: readonly string[];
  /** The model's training rows over the data (examples or sequence windows). */
  trainingSet(data: TrainingData): TrainingSet;
  /** The model as the decoder sees it. */
  scorer(itemCodes: SemanticIds, opts?: ScorerOptions): ModelScorer;
  dispose(): void;
}

/**
 * Rows (beams) grouped by user so per-user tensors (cross-attention keys/values) are computed once and shared.
 * Slot s = user * groups + g holds row `slotRow[s]` (or `rows`, a zero row, where the user has fewer beams).
 */
export interface Grouping {
  users: number;
  groups: number;
  slotRow: Int32Array; // [users * groups]
  rowSlot: Int32Array; // [rows]
}

/** Builds the grouping of rows by `rowUser`. */
export function groupRows(rowUser: Int32Array, users: number): Grouping {
  const counts = new Int32Array(users);
  for (const u of rowUser) {
    if (u < 0 || u >= users) throw new Error(`rowUser ${u} is outside the session's ${users} users`);
    counts[u] += 1;
  }
  let groups = 1;
  for (const c of counts) groups = Math.max(groups, c);
  const slotRow = new Int32Array(users * groups).fill(rowUser.length);
  const rowSlot = new Int32Array(rowUser.length);
  const fill = new Int32Array(users);
  for (let r = 0; r < rowUser.length; r++) {
    const u = rowUser[r];
    const slot = u * groups + fill[u]++;
    slotRow[slot] = r;
    rowSlot[r] = slot;
  }
  return { users, groups, slotRow, rowSlot };
}

/** Context state kept by a scoring session (tensors it owns). */
export interface ScoringContext {
  users: number;
  dispose(): void;
}

/** A model over token batches (encoder-decoder, decoder-only): teacher-forced logits and next-token logits. */
export interface TokenModel extends SequenceModel {
  /** Teacher-forced logits [batch, L, vocab]; `seeds` null = inference (no dropout). */
  forward(batch: TokenBatch, seeds: DropoutSeeds | null): tf.Tensor;
  /** Runs the context once per user (encoder + cross K/V, or the decoder-only prefix). */
  prepare(ctx: ContextBatch): ScoringContext;
  /** Logits [rows, vocab] of the next token after decoder input `tokens` [rows, T] (BOS + prefix). */
  nextLogits(sc: ScoringContext, tokens: Int32Array, T: number, grouping: Grouping): tf.Tensor2D;
}

/** Parameters of a block's self-attention sub-layer: pre-norm `ln1`, fused q/k/v, output projection. */
export function initSelfAttention(p: ParamStore, prefix: string, c: ModelConfig): void {
  const inner = c.heads * c.headDim;
  p.ones(`${prefix}.ln1`, c.dModel);
  p.linear(`${prefix}.qkv`, c.dModel, 3 * inner);
  p.linear(`${prefix}.o`, inner, c.dModel);
}

/** Parameters of a block's feed-forward sub-layer: its pre-norm (named `norm`), `wi`, `wo`. */
export function initFeedForward(p: ParamStore, prefix: string, norm: string, c: ModelConfig): void {
  p.ones(`${prefix}.${norm}`, c.dModel);
  p.linear(`${prefix}.wi`, c.dModel, c.dFF);
  p.linear(`${prefix}.wo`, c.dFF, c.dModel);
}

/**
 * The step loop's view of a decoder stack built by initSelfAttention / initFeedForward under `dec.<i>`, with its final
 * norm `dec.ln`, position table `dec.pos` and tied embedding `shared`; `ffNorm` names the feed-forward's pre-norm.
 */
export function decoderStackWeights(p: ParamStore, layers: number, ffNorm: string): StackWeights {
  const layer = <T>(f: (i: number) => T): T[] => Array.from({ length: layers }, (_, i) => f(i));
  return {
    ln1: layer((i) => readVector(p.get(`dec.${i}.ln1`))),
    qkv: layer((i) => p.get(`dec.${i}.qkv`)),
    o: layer((i) => p.get(`dec.${i}.o`)),
    ffNorm: layer((i) => readVector(p.get(`dec.${i}.${ffNorm}`))),
    wi: layer((i) => p.get(`dec.${i}.wi`)),
    wo: layer((i) => p.get(`dec.${i}.wo`)),
    lnFinal: readVector(p.get('dec.ln')),
    pos: readVector(p.get('dec.pos')),
    embedding: p.get('shared'),
  };
}

/**
 * Context embeddings [batch, S, d]: one token per position, or the sum of a position's tokens (`item` mode). With
 * `text` (the batch's text tokens [size*K, d], textContext.ts) the text markers take their rows.
 */
export function embedContext(table: tf.Tensor, ctx: ContextBatch, text: tf.Tensor2D | null = null): tf.Tensor {
  const { size, srcLen, slots } = ctx;
  const d = table.shape[1]!;
  const K = text ? text.shape[0] / size : 0;
  const ids = tf.tensor1d(text ? textGatherIds(ctx.src, srcLen * slots, table.shape[0], K) : ctx.src, 'int32'); // [size*srcLen*slots]
  const e = gatherRows(text ? tf.concat([table, text], 0) : table, ids); // [size*srcLen*slots, d]
  if (slots === 1) return tf.reshape(e, [size, srcLen, d]); // [size, srcLen, d]
  const keep = tf.reshape(tf.cast(tf.notEqual(ids, PAD), 'float32'), [size, srcLen, slots, 1]); // [size, srcLen, slots, 1]
  return tf.sum(tf.mul(tf.reshape(e, [size, srcLen, slots, d]), keep), 2); // [size, srcLen, d]
}

/** Context embeddings [batch, S, d] of a model that may read text: `embedContext` with the batch's projected text tokens. */
export function embedModelContext(p: ParamStore, c: ModelConfig, ctx: ContextBatch): tf.Tensor {
  const text = c.textTokens > 0 && ctx.text ? textTokenRows(p, c, ctx.text.values, ctx.size) : null; // [size*K, d]
  return embedContext(p.get('shared'), ctx, text); // [batch, S, d]
}

/** A batch with preference dropout applied (training with seeds; the trainer's seeds make it resumable). */
export function withTextDropout<B extends ContextBatch>(b: B, c: ModelConfig, seeds: DropoutSeeds | null): B {
  if (!seeds || !b.text || c.textDropout === 0) return b;
  const seed = seeds.next();
  if (seed === null) return b;
  return { ...b, srcMask: dropTextMask(b.src, b.srcMask, b.size, b.srcLen, b.slots, b.text.droppable, c.textDropout, seed) };
}

/** Token embeddings [rows, T, d]. */
export function embedTokens(table: tf.Tensor, tokens: Int32Array, rows: number, T: number): tf.Tensor {
  const d = table.shape[1]!;
  return tf.reshape(gatherRows(table, tf.tensor1d(tokens, 'int32')), [rows, T, d]); // [rows, T, d]
}

/** Tied output head (T5 v1.0): logits = (h * d^-0.5) @ E^T, with E^T transposed explicitly (plain matMul). */
export function outputLogits(h: tf.Tensor, table: tf.Tensor): tf.Tensor2D {
  const d = table.shape[1]!;
  const flat = tf.reshape(h, [-1, d]); // [rows, d]
  return dense(tf.mul(flat, d ** -0.5) as tf.Tensor2D, tf.transpose(table) as tf.Tensor2D); // [rows, vocab]
}

/** Mean cross-entropy of logits [N, V] against token ids [N]. */
export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  if (hasKernel(SOFTMAX_CE_KERNEL)) return fusedCrossEntropy(logits, tf.tensor1d(targets, 'int32'));
  return composedCrossEntropy(logits, targets);
}

/** crossEntropy composed from plain tfjs ops (every backend; the reference the fused kernel is tested against). */
export function composedCrossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [n, v] = logits.shape;
  const logp = tf.logSoftmax(logits); // [N, V]
  const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), v); // [N, V]
  return tf.div(tf.neg(tf.sum(tf.mul(logp, onehot))), n) as tf.Scalar;
}

/** The fused kernel: per-row losses and (softmax - onehot) in one call; the gradient scales the latter by dy / N. */
function fusedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const n = logits.shape[0];
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const [rows, grad] = tf.engine().runKernel(SOFTMAX_CE_KERNEL, { logits: x, targets }) as [tf.Tensor1D, tf.Tensor2D]; // [N], [N, V]
    save([grad]);
    return {
      value: tf.div(tf.sum(rows), n) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0], tf.div(dy, n)), // [N, V]
    };
  }) as (x: tf.Tensor2D) => tf.Scalar;
  return f(logits);
}

const levelMasks = new WeakMap<Vocab, Float32Array>();

/** Additive mask [L * vocab]: 0 on the codes of position l's level, -1e9 on every other token. */
export function levelMask(vocab: Vocab): Float32Array {
  let m = levelMasks.get(vocab);
  if (!m) {
    const { size, codeLength: L } = vocab;
    m = new Float32Array(L * size).fill(-1e9);
    for (let l = 0; l < L; l++) m.fill(0, l * size + vocab.levelOffsets[l], l * size + vocab.levelOffsets[l] + vocab.levels[l]);
    levelMasks.set(vocab, m);
  }
  return m;
}

/**
 * Logits [batch, L, vocab] restricted to each position's level (other tokens -1e9): position l is a softmax
 * over level l's codes only, as beam search scores it. Over the whole vocabulary the model would first
 * have to learn which level comes next, and out-of-level mass would differ between beams.
 */
export function levelLogits(logits: tf.Tensor, vocab: Vocab): tf.Tensor {
  return tf.add(logits, tf.tensor3d(levelMask(vocab), [1, vocab.codeLength, vocab.size])); // [batch, L, vocab]
}

/** Loss of a batch under the model (mean over the L target tokens of every example, each a softmax over its level). */
export function batchLoss(model: TokenModel, batch: TokenBatch, seeds: DropoutSeeds | null): tf.Scalar {
  const logits = levelLogits(model.forward(batch, seeds), model.vocab); // [batch, L, vocab]
  return crossEntropy(tf.reshape(logits, [-1, model.vocab.size]) as tf.Tensor2D, batch.tgtOut);
}

/** Gathers rows [rows, ...] into slots [users*groups, ...] (zero rows where a user has fewer rows). */
export function toSlots(x: tf.Tensor, g: Grouping): tf.Tensor {
  const [rows, ...rest] = x.shape;
  const width = rest.reduce((a, b) => a * b, 1);
  const padded = tf.concat([tf.reshape(x, [rows, width]), tf.zeros([1, width])], 0); // [rows+1, width]
  return tf.reshape(tf.gather(padded, tf.tensor1d(g.slotRow, 'int32')), [g.users * g.groups, ...rest]); // [slots, ...]
}

/** Inverse of toSlots: slots [users*groups, ...] back to rows [rows, ...]. */
export function fromSlots(x: tf.Tensor, g: Grouping): tf.Tensor {
  return tf.gather(x, tf.tensor1d(g.rowSlot, 'int32')); // [rows, ...]
}

export function isIdentityGrouping(g: Grouping): boolean {
  if (g.groups !== 1 || g.rowSlot.length !== g.users) return false;
  for (let i = 0; i < g.rowSlot.length; i++) if (g.rowSlot[i] !== i) return false;
  return true;
}

export function identityGrouping(rows: number): Grouping {
  const idx = new Int32Array(rows).map((_, i) => i);
  return { users: rows, groups: 1, slotRow: idx, rowSlot: idx.slice() };
}

/** The batcher of a model's contexts (with its text positions when it reads text). */
export function modelBatcher(model: SequenceModel, itemCodes: SemanticIds, maxHistory = model.config.maxHistory, mode = model.config.historyTokens): Batcher {
  const c = model.config;
  return new Batcher(model.vocab, itemCodes, maxHistory, mode, c.textTokens, c.textDim, c.textVariant === 'pieces' ? c.textVocab : 0);
}

/** The text data a model with text tokens trains on (an error when it has none: the text positions would never learn). */
export function trainingText(c: ModelConfig, data: TrainingData): TrainingText | null {
  if (c.textTokens === 0) return null;
  if (!data.text) throw new Error(`the model reads text (textTokens ${c.textTokens}) but the training data has no texts: train through the pipeline (semid train --text-tokens) that makes preferences`);
  return data.text;
}

/**
 * Training rows of a token model: the split's one-target examples, batched by a Batcher; with text, each example
 * carries its preference and DSI's indexing rows (item text -> item, no history, no user) follow the examples.
 * (Indexing rows riding along beside each step's examples instead, measured no better on the
 * generated data's validation users: BENCHMARKS.md, "Text in the model".)
 */
export function tokenTrainingSet(model: TokenModel, data: TrainingData): TrainingSet {
  const batcher = modelBatcher(model, data.itemCodes);
  const text = trainingText(model.config, data);
  const examples = data.examples();
  const indexing = text?.indexing ?? [];
  const row = (i: number): Example => {
    if (i >= examples.length) {
      const r = indexing[i - examples.length];
      return { user: -1, history: new Int32Array(0), target: r.target, text: r.text, textDroppable: false };
    }
    return text ? { ...examples[i], text: text.example(i) } : examples[i];
  };
  return { size: examples.length + indexing.length, batch: (indices) => tokenTrainBatch(model, batcher.batch(Array.from(indices, row))) };
}

function tokenTrainBatch(model: TokenModel, b: TokenBatch): TrainBatch {
  const L = model.vocab.codeLength;
  return {
    size: b.size, targets: b.size * L, positions: b.srcLen + L, tokens: b.size * (b.srcLen * b.slots + L),
    rows: (start, end) => tokenTrainBatch(model, batchRows(b, start, end)),
    loss: (seeds) => batchLoss(model, withTextDropout(b, model.config, seeds), seeds),
  };
}

// Causal semantic-ID model ("learn from every position", as SASRec, HSTU and RecGPT train): one causal stack
// over a user's items (each item one token: the sum of its code embeddings, optionally plus a learned ID
// embedding, SETRec's collaborative token), and at every position t a prediction of item t+1's semantic ID.
// One pass over a window of W items supervises W-1 targets, where an encoder-decoder re-encodes a whole history
// per target.
//
// The ID head turns a position's state h into per-level code distributions through one small residual MLP:
//   z_l = h + level_l (+ sum of the embeddings of codes < l, `autoregressive`)    q_l = mlp(z_l)
//   logits_l = (q_l * d^-0.5) @ E_l^T     (E_l: level l's rows of the shared code embedding, tied to the input)
// `autoregressive` (TIGER's factorisation) is decoded by the trie beam search through a StepScorer whose steps
// run only the head (the stack runs once per user); `parallel` (SETRec/RPG) predicts every level at once, so an
// item's log-probability is the sum of its codes' and the whole catalog is ranked exactly (catalogRanking.ts).
// The parallel head trains on one softmax per level (`headLoss: levels`) or on one softmax over the catalog of
// the scores it ranks by (`catalog`): score(item) = sum_l logits_l[code_l(item)] (+ (h * d^-0.5) . id(item)).
import * as tf from '@tensorflow/tfjs';
import { subtractRows, sumLevelScores, type DecodeStepInput, type ScoringSession } from '../decoding/index.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { Batcher, sequenceWindows, type ContextInput } from './batches.js';
import type { ModelConfig } from './config.js';
import {
  bucketGrid, codeScores, dense, dropout, DropoutSeeds, feedForward, gatherRows, linear, linearParts, logSumExpRows, multiHeadAttention, ParamStore, positionBias, rmsNorm, type AttentionShape,
} from './layers.js';
import {
  crossEntropy, embedContext, initFeedForward, initSelfAttention, type ContextBatch, type ModelScorer, type ScorerOptions, type SequenceModel,
  type TrainBatch, type TrainingData, type TrainingSet, type UserContext,
} from './model.js';
import { perUserByLength, scorerMaxHistory } from './scorer.js';
import { Vocab } from './vocab.js';

const NO_DROPOUT = new DropoutSeeds(null);

/** Parameters of the causal stack: relative position bias, blocks, final norm (shared with sasrec.ts). */
export function initCausalStack(p: ParamStore, c: ModelConfig): void {
  p.normal('dec.pos', [c.relBuckets, c.heads], 1);
  for (let i = 0; i < c.decoderLayers; i++) {
    initSelfAttention(p, `dec.${i}`, c);
    initFeedForward(p, `dec.${i}`, 'ln2', c);
  }
  p.ones('dec.ln', c.dModel);
}

/** Additive attention bias [1, heads, S, S]: T5 relative positions (causal buckets), -1e9 where key j > query i. */
function causalBias(p: ParamStore, c: ModelConfig, S: number): tf.Tensor {
  const pos = Array.from({ length: S }, (_, i) => i);
  const rel = positionBias(p.get('dec.pos'), bucketGrid(pos, pos, false, c.relBuckets, c.relMaxDistance), S, S); // [1, heads, S, S]
  const future = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) future[i * S + j] = -1e9;
  return tf.add(rel, tf.tensor2d(future, [S, S])); // [1, heads, S, S]
}

/** States [rows, S, d] of the causal stack over input embeddings x0 [rows, S, d]; keyMask [rows, S] 1 = real. */
export function causalStack(p: ParamStore, c: ModelConfig, x0: tf.Tensor, keyMask: tf.Tensor, seeds: DropoutSeeds): tf.Tensor {
  const S = x0.shape[1]!;
  const shape: AttentionShape = { heads: c.heads, headDim: c.headDim };
  const bias = causalBias(p, c, S); // [1, heads, S, S]
  let x = dropout(x0, c.dropout, seeds.next()); // [rows, S, d]
  for (let i = 0; i < c.decoderLayers; i++) {
    const h = rmsNorm(x, p.get(`dec.${i}.ln1`)); // [rows, S, d]
    const [q, k, v] = linearParts(h, p.get(`dec.${i}.qkv`), 3); // 3 x [rows, S, inner]
    const att = multiHeadAttention(q, k, v, bias, keyMask, shape, c.dropout, seeds); // [rows, S, inner]
    x = tf.add(x, dropout(linear(att, p.get(`dec.${i}.o`)), c.dropout, seeds.next())); // [rows, S, d]
    const f = feedForward(rmsNorm(x, p.get(`dec.${i}.ln2`)), p.get(`dec.${i}.wi`), p.get(`dec.${i}.wo`), c.dropout, seeds); // [rows, S, d]
    x = tf.add(x, dropout(f, c.dropout, seeds.next())); // [rows, S, d]
  }
  return dropout(rmsNorm(x, p.get('dec.ln')), c.dropout, seeds.next()); // [rows, S, d]
}

/** Item id at each context position [rows * S] (-1: padding or the user token), as Batcher.contexts lays items out. */
export function contextItems(inputs: readonly ContextInput[], S: number, maxHistory: number): Int32Array {
  const out = new Int32Array(inputs.length * S).fill(-1);
  inputs.forEach(({ history }, b) => {
    const kept = Math.min(history.length, maxHistory);
    for (let h = 0; h < kept; h++) out[b * S + S - kept + h] = history[history.length - kept + h];
  });
  return out;
}

/** A batch of training windows: context layout, and per target its flat position (row * S + p) and item. */
export interface WindowBatch {
  ctx: ContextBatch;
  items: Int32Array; // [rows * S] item at each position, -1 none
  targetPos: Int32Array; // [targets]
  targetItem: Int32Array; // [targets]
}

/** Lays out windows (inputs = all but the last item, targets = all but the first) as a context batch. */
export function windowBatch(batcher: Batcher, windows: readonly ContextInput[]): WindowBatch {
  const inputs = windows.map((w) => ({ ...w, history: w.history.subarray(0, w.history.length - 1) }));
  const ctx = batcher.contexts(inputs);
  const S = ctx.srcLen;
  const pos: number[] = [];
  const item: number[] = [];
  windows.forEach((w, b) => {
    const n = w.history.length - 1; // targets of this window
    for (let h = 0; h < n; h++) {
      pos.push(b * S + S - n + h);
      item.push(w.history[h + 1]);
    }
  });
  return { ctx, items: contextItems(inputs, S, batcher.maxHistory), targetPos: Int32Array.from(pos), targetItem: Int32Array.from(item) };
}

/** Training rows of a sequence model: every user's training part cut into windows of maxHistory + 1 items. */
/** The causal model's own fields: the catalog loss belongs to the parallel head. */
export function checkCausal(c: ModelConfig): void {
  if (c.headLoss === 'catalog' && c.head !== 'parallel') throw new Error(`headLoss "catalog" needs the parallel head (head "${c.head}" is decoded by beam search, level by level)`);
}

export function windowTrainingSet(data: TrainingData, batcher: Batcher, loss: (b: WindowBatch, seeds: DropoutSeeds | null) => tf.Scalar): TrainingSet {
  const windows = sequenceWindows(data.sequences, batcher.maxHistory + 1);
  const make = (rows: readonly ContextInput[]): TrainBatch => {
    const b = windowBatch(batcher, rows);
    return {
      size: rows.length, targets: b.targetPos.length, positions: b.ctx.srcLen, tokens: rows.length * b.ctx.srcLen * b.ctx.slots,
      rows: (start, end) => make(rows.slice(start, end)),
      loss: (seeds) => loss(b, seeds),
    };
  };
  const lengths = Uint32Array.from(windows, (w) => w.history.length);
  return { size: windows.length, batch: (indices) => make(Array.from(indices, (i) => windows[i])), lengths };
}

export class CausalModel implements SequenceModel {
  readonly params: ParamStore;
  readonly embeddingTables = ['shared', 'item'];
  private readonly L: number;

  constructor(readonly config: ModelConfig, readonly vocab: Vocab, params?: ParamStore) {
    this.L = vocab.codeLength;
    this.params = params ?? CausalModel.init(config, vocab);
  }

  static init(c: ModelConfig, vocab: Vocab): ParamStore {
    const p = new ParamStore(c.seed);
    p.normal('shared', [vocab.size, c.dModel], 1);
    if (c.idEmbedding) p.normal('item', [vocab.items, c.dModel], 1);
    initCausalStack(p, c);
    p.normal('head.level', [vocab.codeLength, c.dModel], 1);
    initFeedForward(p, 'head', 'ln', c);
    p.ones('head.out', c.dModel);
    return p;
  }

  /** Input embeddings [rows, S, d]: each item's code embeddings summed (+ its ID embedding), the user token. */
  private embed(ctx: ContextBatch, items: Int32Array): tf.Tensor {
    const x = embedContext(this.params.get('shared'), ctx); // [rows, S, d]
    if (!this.config.idEmbedding) return x;
    const ids = tf.tensor1d(Int32Array.from(items, (i) => Math.max(i, 0)), 'int32'); // [rows*S]
    const real = tf.reshape(tf.tensor1d(Int32Array.from(items, (i) => (i >= 0 ? 1 : 0)), 'float32'), [-1, 1]); // [rows*S, 1]
    const id = tf.mul(gatherRows(this.params.get('item'), ids), real); // [rows*S, d]
    return tf.add(x, tf.reshape(id, x.shape)); // [rows, S, d]
  }

  /** States [rows, S, d] of the stack over a context batch. */
  private states(ctx: ContextBatch, items: Int32Array, seeds: DropoutSeeds): tf.Tensor {
    const keyMask = tf.tensor2d(ctx.srcMask, [ctx.size, ctx.srcLen]); // [rows, S]
    return causalStack(this.params, this.config, this.embed(ctx, items), keyMask, seeds); // [rows, S, d]
  }

  /** Level queries [n, d] from z [n, d]: the head's residual MLP, then its norm. */
  private query(z: tf.Tensor, seeds: DropoutSeeds): tf.Tensor {
    const p = this.params;
    const f = feedForward(rmsNorm(z, p.get('head.ln')), p.get('head.wi'), p.get('head.wo'), this.config.dropout, seeds); // [n, d]
    return rmsNorm(tf.add(z, f), p.get('head.out')); // [n, d]
  }

  /** Logits [n, levels[l]] of level l's codes from queries [n, d] (tied to level l's code embeddings). */
  private levelLogits(q: tf.Tensor, l: number): tf.Tensor2D {
    const d = this.config.dModel;
    const table = tf.slice(this.params.get('shared'), [this.vocab.levelOffsets[l], 0], [this.vocab.levels[l], d]); // [V_l, d]
    return dense(tf.mul(q, d ** -0.5) as tf.Tensor2D, tf.transpose(table) as tf.Tensor2D); // [n, V_l]
  }

  /** Sum of the embeddings of codes < l, per row, from code tokens [n, L] (zeros at l = 0). */
  private prefixEmbedding(tokens: Int32Array, n: number, l: number): tf.Tensor | null {
    if (l === 0 || this.config.head === 'parallel') return null;
    const L = this.L;
    const ids = new Int32Array(n * l);
    for (let r = 0; r < n; r++) for (let j = 0; j < l; j++) ids[r * l + j] = tokens[r * L + j];
    const e = tf.reshape(gatherRows(this.params.get('shared'), tf.tensor1d(ids, 'int32')), [n, l, this.config.dModel]); // [n, l, d]
    return tf.sum(e, 1); // [n, d]
  }

  /** Level l's input z [n, d] = h + level_l (+ prefix codes). */
  private levelInput(h: tf.Tensor, tokens: Int32Array, n: number, l: number): tf.Tensor {
    const level = tf.slice(this.params.get('head.level'), [l, 0], [1, this.config.dModel]); // [1, d]
    const z = tf.add(h, level); // [n, d]
    const prefix = this.prefixEmbedding(tokens, n, l);
    return prefix ? tf.add(z, prefix) : z; // [n, d]
  }

  /** Mean over targets of the ID's cross-entropy: per level (mean of levels), or over the catalog (`headLoss: catalog`). */
  loss(b: WindowBatch, seeds: DropoutSeeds | null): tf.Scalar {
    const s = seeds ?? NO_DROPOUT;
    const { ctx, targetPos, targetItem } = b;
    const n = targetPos.length;
    const d = this.config.dModel;
    const L = this.L;
    const states = tf.reshape(this.states(ctx, b.items, s), [ctx.size * ctx.srcLen, d]); // [rows*S, d]
    const h = gatherRows(states, tf.tensor1d(targetPos, 'int32')); // [n, d]
    if (this.catalogLoss()) return crossEntropy(this.itemScores(h, this.queries(h, new Int32Array(0), n, s), n), targetItem);
    const tokens = new Int32Array(n * L); // [n, L] vocabulary tokens of the targets' codes
    for (let t = 0; t < n; t++) for (let l = 0; l < L; l++) tokens[t * L + l] = this.itemTokens[targetItem[t] * L + l];
    const q = this.queries(h, tokens, n, s); // [L*n, d]
    const losses = this.vocab.levels.map((_, l) => {
      const codes = Int32Array.from({ length: n }, (_, t) => tokens[t * L + l] - this.vocab.levelOffsets[l]);
      return crossEntropy(this.levelLogits(tf.slice(q, [l * n, 0], [n, d]), l), codes);
    });
    return tf.div(tf.addN(losses), L) as tf.Scalar;
  }

  private catalogLoss(): boolean {
    return this.config.head === 'parallel' && this.config.headLoss === 'catalog';
  }

  /** Item scores [n, items]: the sum of each item's codes' logits (+ the ID embedding's logit), from states h [n, d] and queries [L*n, d]. */
  private itemScores(h: tf.Tensor, q: tf.Tensor, n: number): tf.Tensor2D {
    const d = this.config.dModel;
    const logits = tf.concat(this.vocab.levels.map((_, l) => this.levelLogits(tf.slice(q, [l * n, 0], [n, d]), l)), 1) as tf.Tensor2D; // [n, sum(levels)]
    const codes = codeScores(logits, tf.tensor2d(this.codeColumns, [this.codeColumns.length / this.L, this.L], 'int32')); // [n, items]
    if (!this.config.idEmbedding) return codes;
    return tf.add(codes, dense(tf.mul(h, d ** -0.5) as tf.Tensor2D, tf.transpose(this.params.get('item')) as tf.Tensor2D)) as tf.Tensor2D; // [n, items]
  }

  /** Queries [L*n, d] of every level (level-major) in one pass of the head's MLP. */
  private queries(h: tf.Tensor, tokens: Int32Array, n: number, seeds: DropoutSeeds): tf.Tensor {
    return this.query(tf.concat(this.vocab.levels.map((_, l) => this.levelInput(h, tokens, n, l)), 0), seeds); // [L*n, d]
  }

  private itemTokens: Int32Array = new Int32Array(0);
  /** Each item's codes as columns of the levels' logits side by side [items, L] (token - first code token). */
  private codeColumns: Int32Array = new Int32Array(0);

  /** The item -> code-token table and the context batcher, for the catalog the model is trained or scored on. */
  private bind(itemCodes: SemanticIds, maxHistory = this.config.maxHistory): Batcher {
    const batcher = new Batcher(this.vocab, itemCodes, maxHistory, 'item');
    this.itemTokens = batcher.itemTokens;
    const first = this.vocab.levelOffsets[0];
    this.codeColumns = Int32Array.from(batcher.itemTokens, (t) => t - first);
    return batcher;
  }

  trainingSet(data: TrainingData): TrainingSet {
    return windowTrainingSet(data, this.bind(data.itemCodes), (b, seeds) => this.loss(b, seeds));
  }

  /** States [users, S, d] at every context position (inference; tests check the causal mask with it). */
  contextStates(contexts: readonly UserContext[], batcher: Batcher): tf.Tensor {
    const ctx = batcher.contexts(contexts);
    return this.states(ctx, contextItems(contexts, ctx.srcLen, batcher.maxHistory), NO_DROPOUT); // [users, S, d]
  }

  /** States [users, d] at each user's most recent item (the position that predicts the next one). */
  lastStates(contexts: readonly UserContext[], batcher: Batcher): tf.Tensor2D {
    return perUserByLength(contexts, batcher.maxHistory, (part) => tf.tidy(() => {
      const ctx = batcher.contexts(part);
      const S = ctx.srcLen;
      const h = this.states(ctx, contextItems(part, S, batcher.maxHistory), NO_DROPOUT); // [part, S, d]
      return tf.reshape(tf.slice(h, [0, S - 1, 0], [part.length, 1, this.config.dModel]), [part.length, this.config.dModel]); // [part, d]
    })) as tf.Tensor2D; // [users, d]
  }

  scorer(itemCodes: SemanticIds, opts: ScorerOptions = {}): ModelScorer {
    const batcher = this.bind(itemCodes, scorerMaxHistory(this.config.maxHistory, opts.maxHistory));
    return this.config.head === 'parallel' ? this.catalogScorer(itemCodes, batcher) : this.stepScorer(batcher);
  }

  /** `parallel`: per-level log-softmax of every level at once, summed per item over the code table. */
  private catalogScorer(itemCodes: SemanticIds, batcher: Batcher): ModelScorer {
    const levels = [...this.vocab.levels];
    return {
      kind: 'catalog',
      catalog: {
        items: batcher.items,
        maxUsersPerCall: 1024,
        scoreCatalog: async (contexts) => {
          const n = contexts.length;
          if (this.catalogLoss()) {
            const [scores, lse] = tf.tidy(() => {
              const h = this.lastStates(contexts, batcher); // [users, d]
              const s = this.itemScores(h, this.queries(h, new Int32Array(0), n, NO_DROPOUT), n); // [users, items]
              return [s, logSumExpRows(s)]; // [users, items], [users]
            });
            const data = (await scores.data()) as Float32Array;
            const norm = (await lse.data()) as Float32Array;
            tf.dispose([scores, lse]);
            return subtractRows(data, norm); // log-softmax over the catalog
          }
          const logp = tf.tidy(() => {
            const q = this.queries(this.lastStates(contexts, batcher), new Int32Array(0), n, NO_DROPOUT); // [L*users, d]
            return tf.concat(levels.map((_, l) => tf.logSoftmax(this.levelLogits(tf.slice(q, [l * n, 0], [n, this.config.dModel]), l))), 1); // [users, sum(levels)]
          });
          const data = (await logp.data()) as Float32Array;
          logp.dispose();
          return sumLevelScores(data, levels, itemCodes.codes);
        },
      },
    };
  }

  /** `autoregressive`: the stack runs once per user in `start`; each step runs the head on the beams. */
  private stepScorer(batcher: Batcher): ModelScorer {
    const levels = [...this.vocab.levels];
    const L = this.L;
    return {
      kind: 'beam',
      step: {
        levels,
        start: async (contexts): Promise<ScoringSession> => {
          if (contexts.length === 0) throw new Error('scorer.start needs at least one user context');
          const h = this.lastStates(contexts, batcher); // [users, d]
          let closed = false;
          return {
            next: async ({ step, prefixes, rowUser }: DecodeStepInput): Promise<Float32Array> => {
              if (closed) throw new Error('scoring session is closed');
              if (!Number.isInteger(step) || step < 0 || step >= L) throw new Error(`step must be in [0, ${L}), got ${step}`);
              const rows = rowUser.length;
              if (prefixes.length !== rows * step) throw new Error(`prefixes has ${prefixes.length} codes, expected rows (${rows}) x step (${step})`);
              const tokens = new Int32Array(rows * L); // [rows, L]: the prefix's code tokens
              for (let r = 0; r < rows; r++) for (let l = 0; l < step; l++) tokens[r * L + l] = this.vocab.codeToken(l, prefixes[r * step + l]);
              const out = tf.tidy(() => {
                const hr = gatherRows(h, tf.tensor1d(rowUser, 'int32')); // [rows, d]
                return tf.logSoftmax(this.levelLogits(this.query(this.levelInput(hr, tokens, rows, step), NO_DROPOUT), step)); // [rows, levels[step]]
              });
              const data = (await out.data()) as Float32Array;
              out.dispose();
              return data;
            },
            close: () => {
              if (closed) return;
              closed = true;
              h.dispose();
            },
          };
        },
      },
    };
  }

  dispose(): void {
    this.params.dispose();
  }
}

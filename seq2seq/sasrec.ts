// SASRec with a full-softmax cross-entropy over item ids ("SASRec+"/CE, Kang & McAuley 2018 with the loss of
// recent papers): the strongest simple discriminative baseline, trained by semid's own trainer on the same
// windows as the causal semantic-ID model (causal.ts), so a user sees generative vs discriminative on their
// data in one report. Item ids are embedded directly (one row per item, tied to the output softmax); the stack
// is causal.ts's (RMSNorm pre-norm blocks, T5 relative positions, ReLU feed-forward). The catalog is ranked
// exactly: one logit per item.
import * as tf from '@tensorflow/tfjs';
import type { SemanticIds } from '../tokenizer/index.js';
import { Batcher } from './batches.js';
import { causalStack, contextItems, initCausalStack, windowTrainingSet, type WindowBatch } from './causal.js';
import type { ModelConfig } from './config.js';
import { dense, DropoutSeeds, gatherRows, ParamStore } from './layers.js';
import { crossEntropy, type ModelScorer, type ScorerOptions, type SequenceModel, type TrainingData, type TrainingSet, type UserContext } from './model.js';
import { perUserByLength, scorerMaxHistory } from './scorer.js';
import { Vocab } from './vocab.js';

const NO_DROPOUT = new DropoutSeeds(null);

export class SasRec implements SequenceModel {
  readonly params: ParamStore;
  readonly embeddingTables = ['item'];

  constructor(readonly config: ModelConfig, readonly vocab: Vocab, params?: ParamStore) {
    this.params = params ?? SasRec.init(config, vocab);
  }

  static init(c: ModelConfig, vocab: Vocab): ParamStore {
    const p = new ParamStore(c.seed);
    p.normal('item', [vocab.items, c.dModel], 1);
    initCausalStack(p, c);
    return p;
  }

  /** States [rows, S, d] over item ids [rows * S] (-1 = padding). */
  private states(items: Int32Array, mask: Float32Array, rows: number, S: number, seeds: DropoutSeeds): tf.Tensor {
    const d = this.config.dModel;
    const ids = tf.tensor1d(Int32Array.from(items, (i) => Math.max(i, 0)), 'int32'); // [rows*S]
    const real = tf.reshape(tf.tensor1d(Int32Array.from(items, (i) => (i >= 0 ? 1 : 0)), 'float32'), [-1, 1]); // [rows*S, 1]
    const x0 = tf.reshape(tf.mul(gatherRows(this.params.get('item'), ids), real), [rows, S, d]); // [rows, S, d]
    return causalStack(this.params, this.config, x0, tf.tensor2d(mask, [rows, S]), seeds); // [rows, S, d]
  }

  /** Logits [n, items] from states [n, d]: tied to the item embeddings (T5-style d^-0.5 scale). */
  private itemLogits(h: tf.Tensor): tf.Tensor2D {
    const d = this.config.dModel;
    return dense(tf.mul(h, d ** -0.5) as tf.Tensor2D, tf.transpose(this.params.get('item')) as tf.Tensor2D); // [n, items]
  }

  loss(b: WindowBatch, seeds: DropoutSeeds | null): tf.Scalar {
    const { ctx } = b;
    const mask = Float32Array.from(b.items, (i) => (i >= 0 ? 1 : 0)); // [rows*S] no user token: items only
    const h = tf.reshape(this.states(b.items, mask, ctx.size, ctx.srcLen, seeds ?? NO_DROPOUT), [ctx.size * ctx.srcLen, this.config.dModel]); // [rows*S, d]
    const logits = this.itemLogits(gatherRows(h, tf.tensor1d(b.targetPos, 'int32'))); // [targets, items]
    return crossEntropy(logits, b.targetItem);
  }

  trainingSet(data: TrainingData): TrainingSet {
    const batcher = new Batcher(this.vocab, data.itemCodes, this.config.maxHistory, 'item');
    return windowTrainingSet(data, batcher, (b, seeds) => this.loss(b, seeds));
  }

  /** Item logits [users, items] at each user's most recent item. */
  private userLogits(contexts: readonly UserContext[], maxHistory: number): tf.Tensor {
    return tf.tidy(() => {
      const last = perUserByLength(contexts, maxHistory, (part) => tf.tidy(() => {
        let S = 1;
        for (const c of part) S = Math.max(S, Math.min(c.history.length, maxHistory));
        const items = contextItems(part, S, maxHistory);
        const h = this.states(items, Float32Array.from(items, (i) => (i >= 0 ? 1 : 0)), part.length, S, NO_DROPOUT); // [part, S, d]
        return tf.reshape(tf.slice(h, [0, S - 1, 0], [part.length, 1, this.config.dModel]), [part.length, this.config.dModel]); // [part, d]
      })); // [users, d]
      return this.itemLogits(last); // [users, items]
    });
  }

  scorer(itemCodes: SemanticIds, opts: ScorerOptions = {}): ModelScorer {
    const maxHistory = scorerMaxHistory(this.config.maxHistory, opts.maxHistory);
    const items = itemCodes.codes.length / itemCodes.levels.length;
    if (items !== this.vocab.items) throw new Error(`the sasrec model was trained on ${this.vocab.items} items, the item codes have ${items}`);
    return {
      kind: 'catalog',
      catalog: {
        items,
        maxUsersPerCall: 1024,
        scoreCatalog: async (contexts) => {
          const logits = this.userLogits(contexts, maxHistory);
          const data = (await logits.data()) as Float32Array;
          logits.dispose();
          return data;
        },
      },
    };
  }

  dispose(): void {
    this.params.dispose();
  }
}

export function checkSasRec(c: ModelConfig): void {
  if (c.decoderLayers < 1) throw new Error(`sasrec needs decoderLayers >= 1, got ${c.decoderLayers}`);
}

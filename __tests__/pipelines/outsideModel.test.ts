// The proof that a model is one file: an architecture registered from this test file (not seq2seq/) goes through
// the CLI's pipeline functions, `semid train` (checkpoints; resume bit for bit), `semid eval` and `semid recommend`,
// with no other source file naming it. Its figures are recomputed here from its own scores.
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { topItems } from '../../decoding/index.js';
import { leaveOneOut, readDataset, readFloat64Column, readParquetTable, readUtf8Column } from '../../pipelines/data/index.js';
import { metricsFromRanks, rankOf } from '../../pipelines/metrics.js';
import { runEvaluation } from '../../pipelines/evaluate/index.js';
import { runRecommend } from '../../pipelines/recommend.js';
import { tokenizedData, type TokenizedData } from './tokenizedData.js';
import { readItemCodes } from '../../pipelines/tokenize.js';
import { trainModel } from '../../pipelines/train.js';
import {
  loadModel, modelArchitectures, ParamStore, registerModel, type ModelConfig, type ModelScorer, type SequenceModel, type TrainBatch,
  type TrainingData, type TrainingExample, type TrainingSet, type UserContext, type Vocab,
} from '../../seq2seq/index.js';
import type { SemanticIds } from '../../tokenizer/index.js';

/** Toy model: the next item's logits are the last history item's `from` row against every item's `to` row. */
class LastItemModel implements SequenceModel {
  readonly params: ParamStore;

  constructor(readonly config: ModelConfig, readonly vocab: Vocab, params?: ParamStore) {
    this.params = params ?? new ParamStore(config.seed);
    if (!params) {
      this.params.normal('from', [vocab.items, config.dModel], 0.1);
      this.params.normal('to', [vocab.items, config.dModel], 0.1);
    }
  }

  /** Logits [n, items] after each history's last item. */
  private logits(histories: readonly Int32Array[]): tf.Tensor2D {
    const last = tf.tensor1d(Int32Array.from(histories, (h) => h[h.length - 1]), 'int32'); // [n]
    return tf.matMul(tf.gather(this.params.get('from'), last), this.params.get('to'), false, true); // [n, items]
  }

  private batch(examples: readonly TrainingExample[]): TrainBatch {
    return {
      size: examples.length, targets: examples.length, positions: 1, tokens: examples.length,
      rows: (start, end) => this.batch(examples.slice(start, end)),
      loss: () => tf.tidy(() => {
        const logp = tf.logSoftmax(this.logits(examples.map((e) => e.history))); // [n, items]
        const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(examples, (e) => e.target), 'int32'), this.vocab.items); // [n, items]
        return tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), 1))) as tf.Scalar;
      }),
    };
  }

  trainingSet(data: TrainingData): TrainingSet {
    const examples = data.examples().filter((e) => e.history.length > 0);
    return { size: examples.length, batch: (indices) => this.batch(Array.from(indices, (i) => examples[i])) };
  }

  scorer(itemCodes: SemanticIds): ModelScorer {
    const items = itemCodes.codes.length / itemCodes.levels.length;
    return {
      kind: 'catalog',
      catalog: {
        items,
        maxUsersPerCall: 64,
        scoreCatalog: async (contexts: readonly UserContext[]) => {
          const out = this.logits(contexts.map((c) => c.history));
          const data = (await out.data()) as Float32Array;
          out.dispose();
          return data;
        },
      },
    };
  }

  dispose(): void {
    this.params.dispose();
  }
}

registerModel('last-item', {
  description: 'toy: bilinear score of the last history item and each catalog item (registered by a test)',
  create: (config, vocab, params) => new LastItemModel(config, vocab, params),
  needsItems: () => true,
});

describe('a model registered outside seq2seq/', () => {
  let fixture: TokenizedData;
  let dir: string;
  let data: string;
  let tokenizer: string;
  beforeAll(async () => {
    fixture = await tokenizedData('outside model', 7);
    ({ dir, data, tokenizer } = fixture);
  });
  afterAll(async () => {
    await fixture.remove();
  });

  it('is an --arch choice; trains, checkpoints, resumes bit for bit, evaluates and recommends through the CLI functions', async () => {
    expect(modelArchitectures()).toContain('last-item');
    const common = { data, tokenizer, arch: 'last-item', preset: 'tiny', silent: true, validUsers: 20 };
    const trainer = { batchSize: 16, warmupSteps: 2, schedule: 'rsqrt', lr: 0.05, checkpointEvery: 3, evalEvery: 3 };
    const straight = await trainModel({ ...common, out: join(dir, 'straight'), overrides: { ...trainer, steps: 6 } });
    expect(straight.step).toBe(6);
    expect(straight.model.arch).toBe('last-item');
    // The same run stopped after 3 steps, then resumed to 6: the same weights, bit for bit.
    await trainModel({ ...common, out: join(dir, 'resumed'), overrides: { ...trainer, steps: 3 } });
    const resumed = await trainModel({ ...common, out: join(dir, 'resumed'), resume: true, overrides: { steps: 6 } });
    expect(resumed.step).toBe(6);
    const weights = async (d: string): Promise<Buffer> => readFile(join(dir, d, 'weights.bin'));
    expect((await weights('resumed')).equals(await weights('straight'))).toBe(true);

    // eval: the report's figures equal the model's own scores ranked here, under both protocols.
    const metrics = await runEvaluation({ data, tokenizer, model: join(dir, 'straight'), split: 'test', ks: [5, 10], out: join(dir, 'eval.json'), progress: false });
    const model = await loadModel(join(dir, 'straight'));
    const dataset = await readDataset(data);
    const itemCodes = await readItemCodes(tokenizer);
    const examples = leaveOneOut(dataset.sequences, 'test', { maxHistory: model.config.maxHistory });
    const scorer = model.scorer(itemCodes);
    if (scorer.kind !== 'catalog') throw new Error('the toy model ranks the catalog exactly');
    const scores = await scorer.catalog.scoreCatalog(examples);
    const items = scorer.catalog.items;
    const ranks = (masked: boolean): Int32Array => Int32Array.from(examples, (e, u) => {
      const history = new Set(e.history);
      return rankOf(topItems(scores.subarray(u * items, (u + 1) * items), 10, masked ? (i) => history.has(i) : undefined), e.target);
    });
    const protocols = metrics.protocols as Record<string, Record<string, number>>;
    for (const [masked, name] of [[false, 'unmasked'], [true, 'masked']] as const) {
      const expected = metricsFromRanks(ranks(masked), [5, 10]);
      for (const k of ['recall@5', 'ndcg@5', 'recall@10', 'ndcg@10']) expect(protocols[name][k]).toBeCloseTo(expected[k], 10);
    }
    expect(metrics['recall@10']).toBe(protocols.unmasked['recall@10']);
    expect(metrics.users).toBe(examples.length);

    // recommend: 5 catalog items a user, best first, the model's top 5 for the first user.
    const out = join(dir, 'recs.parquet');
    await runRecommend({ data, tokenizer, model: join(dir, 'straight'), out, topK: 5, progress: false });
    const table = await readParquetTable(out);
    const users = readUtf8Column(table, 'user_key', out);
    const recommended = readUtf8Column(table, 'item_key', out);
    const recScores = readFloat64Column(table, 'score', out);
    expect(users.length).toBe(5 * dataset.sequences.userKeys.length);
    const catalog = new Set(dataset.items.keys);
    for (const key of recommended) expect(catalog.has(key)).toBe(true);
    const first = dataset.sequences.userKeys.indexOf(users[0]);
    const history = dataset.sequences.items[first].slice(-model.config.maxHistory);
    const own = await scorer.catalog.scoreCatalog([{ user: first, history }]);
    expect(recommended.slice(0, 5)).toEqual(Array.from(topItems(own, 5), (i) => dataset.items.keys[i]));
    for (let r = 1; r < 5; r++) expect(recScores[r]).toBeLessThanOrEqual(recScores[r - 1]);
    model.dispose();
  });
});

// AdamW's embedding learning rate: `embeddingLr` multiplies the step of the tables a model names in
// `embeddingTables` and of no other weight; at 1 every weight takes the same step.
import * as tf from '@tensorflow/tfjs';
import { AdamW, ParamStore, resolveTrainConfig, type SequenceModel } from '../../seq2seq/index.js';

function stub(): SequenceModel {
  const params = new ParamStore(0);
  params.add('shared', tf.zeros([3, 2])); // [3, 2] an embedding table
  params.add('w', tf.zeros([2, 2])); // [2, 2] a matrix
  return { params, embeddingTables: ['shared'] } as unknown as SequenceModel;
}

/** One step with every gradient 1: the change of each weight's first entry. */
function firstStep(embeddingLr: number): Record<string, number> {
  const model = stub();
  const opt = new AdamW(model, resolveTrainConfig({ weightDecay: 0, embeddingLr }));
  const grads = new Map<string, tf.Tensor>([['shared', tf.ones([3, 2])], ['w', tf.ones([2, 2])]]);
  opt.apply(grads, 0.01, 1);
  const out = Object.fromEntries([...model.params.vars].map(([k, v]) => [k, v.dataSync()[0]]));
  tf.dispose([...grads.values()]);
  opt.dispose();
  for (const v of model.params.vars.values()) v.dispose();
  return out;
}

test('embeddingLr scales the step of the embedding tables only', () => {
  const before = tf.memory().numTensors;
  const plain = firstStep(1);
  expect(plain.shared).toBeCloseTo(-0.01, 6); // Adam's first step is lr * sign(g)
  expect(plain.w).toBeCloseTo(-0.01, 6);
  const scaled = firstStep(8);
  expect(scaled.shared).toBeCloseTo(-0.08, 6);
  expect(scaled.w).toBeCloseTo(-0.01, 6);
  expect(tf.memory().numTensors).toBe(before);
});

test('embeddingLr must be a number >= 0', () => {
  expect(() => resolveTrainConfig({ embeddingLr: -1 })).toThrow(/embeddingLr/);
});

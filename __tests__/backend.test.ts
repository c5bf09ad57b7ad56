import * as tf from '@tensorflow/tfjs';
import { initBackend, parseBackendName } from '../seq2seq/backend/index.js';

describe('backend', () => {
  it('chooses a working backend and takes the gradient of gather (UnsortedSegmentSum on wasm)', async () => {
    const info = await initBackend({ quiet: true });
    expect(['tensorflow', 'webgpu', 'wasm', 'cpu']).toContain(info.name);
    const before = tf.memory().numTensors;
    const grad = tf.tidy(() => {
      const table = tf.ones([5, 3]); // [rows, dim]
      const ids = tf.tensor1d([1, 3, 3, 4], 'int32');
      return tf.grad((t: tf.Tensor) => tf.gather(t, ids).sum())(table); // [rows, dim]
    });
    expect(Array.from(grad.dataSync())).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 2, 2, 1, 1, 1]);
    grad.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the bad value of an unknown backend', () => {
    expect(() => parseBackendName('tpu')).toThrow(/unknown backend "tpu"/);
  });
});

// A vector-quantization codebook as a single-level quantizer: each row goes to its nearest codeword.
// Gradients reach the codebook through `gather` (codebook loss in RQ-VAE); none pass through argMin.
import * as tf from '@tensorflow/tfjs';
import { squaredDistances } from './kmeans.js';
import type { LevelQuantizer } from './residual.js';

export class Codebook implements LevelQuantizer {
  /** `table` [size, dim] is owned by this codebook (a tf.Variable when trained). */
  constructor(public table: tf.Tensor2D) {}

  get size(): number {
    return this.table.shape[0];
  }

  get dim(): number {
    return this.table.shape[1];
  }

  quantize(x: tf.Tensor2D): { codes: tf.Tensor1D; quantized: tf.Tensor2D } {
    const distances = squaredDistances(x, this.table); // [rows, size]
    // The codes are read back into a fresh tensor so that no gradient path runs into gather's indices
    // (tfjs would otherwise ask for an int32 gradient there during training).
    const codes = tf.tensor1d(tf.argMin(distances, 1).dataSync() as Int32Array, 'int32'); // [rows]
    return { codes, quantized: tf.gather(this.table, codes) as tf.Tensor2D }; // [rows, dim]
  }

  lookup(codes: tf.Tensor1D): tf.Tensor2D {
    return tf.gather(this.table, codes) as tf.Tensor2D; // [rows, dim]
  }

  dispose(): void {
    this.table.dispose();
  }
}

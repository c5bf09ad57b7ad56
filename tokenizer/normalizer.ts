// Input normalisation for the trained tokenizers (RQ-VAE, FSQ): subtract the mean item and divide by one
// global scale so that the average squared value per dimension is 1. One scalar (not a per-dimension
// z-score) keeps the geometry of the embeddings: SVD or model embeddings put little variance in many
// dimensions, and z-scoring would blow their noise up. Unit-scale inputs let the MLP with Glorot
// initialisation learn in a few epochs (unit-norm 768-d text embeddings have values around 0.04).
// k-means needs none of this: it is invariant to a shift and a global scale.
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingMatrix } from './types.js';

export interface Normalizer {
  /** Mean of every input dimension. */
  mean: Float32Array; // [dim]
  /** Inputs are divided by this after centering. */
  scale: number;
}

/** Identity normaliser of width `dim` (for tokenizers saved without one). */
export function identityNormalizer(dim: number): Normalizer {
  return { mean: new Float32Array(dim), scale: 1 };
}

export function fitNormalizer(x: EmbeddingMatrix): Normalizer {
  const mean = new Float64Array(x.dim);
  for (let r = 0; r < x.rows; r++) for (let d = 0; d < x.dim; d++) mean[d] += x.data[r * x.dim + d];
  for (let d = 0; d < x.dim; d++) mean[d] /= Math.max(1, x.rows);
  let spread = 0;
  for (let i = 0; i < x.data.length; i++) spread += (x.data[i] - mean[i % x.dim]) ** 2;
  const perValue = spread / Math.max(1, x.data.length);
  return { mean: Float32Array.from(mean), scale: perValue > 0 ? Math.sqrt(perValue) : 1 };
}

/** (x - mean) / scale of a JS matrix, as a new matrix. */
export function normalizeMatrix(x: EmbeddingMatrix, n: Normalizer): EmbeddingMatrix {
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (x.data[i] - n.mean[i % x.dim]) / n.scale;
  return { rows: x.rows, dim: x.dim, data };
}

/** (x - mean) / scale, inside the caller's tidy. */
export function normalizeRows(x: tf.Tensor2D, n: Normalizer): tf.Tensor2D {
  return tf.div(tf.sub(x, tf.tensor1d(n.mean)), n.scale) as tf.Tensor2D; // [rows, dim]
}

/** y * scale + mean: back to input units, inside the caller's tidy. */
export function denormalizeRows(y: tf.Tensor2D, n: Normalizer): tf.Tensor2D {
  return tf.add(tf.mul(y, n.scale), tf.tensor1d(n.mean)) as tf.Tensor2D; // [rows, dim]
}

/** [scale, ...mean] for a state file; `fromArray` is its inverse. */
export function normalizerToArray(n: Normalizer): Float32Array {
  const out = new Float32Array(n.mean.length + 1);
  out[0] = n.scale;
  out.set(n.mean, 1);
  return out;
}

export function normalizerFromArray(values: Float32Array): Normalizer {
  return { scale: values[0], mean: values.slice(1) };
}

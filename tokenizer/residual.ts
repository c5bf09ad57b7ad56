// One residual loop over any single-level quantizer (lucidrains' ResidualVQ): level l quantizes what
// levels 0..l-1 left over. RQ-KMeans (k-means codebooks), RQ-VAE (learnt codebooks) and residual FSQ
// (FSQ grids at finer scales) are all this loop over a different `LevelQuantizer`.
import * as tf from '@tensorflow/tfjs';

/** A single-level quantizer over vectors of a fixed width. Methods run inside the caller's tf.tidy. */
export interface LevelQuantizer {
  /** Number of codes. */
  readonly size: number;
  /** Code of every row and its quantized vector (differentiable w.r.t. the quantizer's own parameters). */
  quantize(x: tf.Tensor2D): { codes: tf.Tensor1D; quantized: tf.Tensor2D };
  /** Vectors of the given codes. */
  lookup(codes: tf.Tensor1D): tf.Tensor2D;
}

export interface ResidualStep {
  /** What this level was asked to quantize. */
  residual: tf.Tensor2D; // [rows, dim]
  /** What it chose. */
  quantized: tf.Tensor2D; // [rows, dim]
}

export interface ResidualOutput {
  codes: tf.Tensor2D; // [rows, levels] int32
  /** Sum of every level's quantized vector: the reconstruction of x. */
  quantized: tf.Tensor2D; // [rows, dim]
  steps: ResidualStep[];
}

/** Quantizes `x` level by level; runs inside the caller's tidy. */
export function residualQuantize(x: tf.Tensor2D, quantizers: LevelQuantizer[]): ResidualOutput {
  let residual = x; // [rows, dim]
  let total: tf.Tensor2D = tf.zerosLike(x); // [rows, dim]
  const codes: tf.Tensor1D[] = [];
  const steps: ResidualStep[] = [];
  for (const quantizer of quantizers) {
    const out = quantizer.quantize(residual);
    steps.push({ residual, quantized: out.quantized });
    codes.push(out.codes); // [rows]
    total = tf.add(total, out.quantized); // [rows, dim]
    residual = tf.sub(residual, out.quantized); // [rows, dim]
  }
  return { codes: tf.stack(codes, 1) as tf.Tensor2D, quantized: total, steps }; // [rows, levels], [rows, dim]
}

/** The reconstruction from codes [rows, levels]: the sum of each level's vector. Inside the caller's tidy. */
export function residualLookup(codes: tf.Tensor2D, quantizers: LevelQuantizer[]): tf.Tensor2D {
  const columns = tf.unstack(codes, 1) as tf.Tensor1D[]; // levels x [rows]
  let total = quantizers[0].lookup(columns[0]); // [rows, dim]
  for (let l = 1; l < quantizers.length; l++) total = tf.add(total, quantizers[l].lookup(columns[l])); // [rows, dim]
  return total;
}

/**
 * Fits `levels` quantizers greedily: level l is fitted (by `fitLevel`) on the residual that levels
 * 0..l-1 leave. `x` is not disposed; every intermediate is.
 */
export async function fitResidual(
  x: tf.Tensor2D,
  levels: number,
  fitLevel: (residual: tf.Tensor2D, level: number) => LevelQuantizer | Promise<LevelQuantizer>,
): Promise<LevelQuantizer[]> {
  const quantizers: LevelQuantizer[] = [];
  let residual = tf.clone(x); // [rows, dim]
  try {
    for (let level = 0; level < levels; level++) {
      const quantizer = await fitLevel(residual, level);
      quantizers.push(quantizer);
      if (level === levels - 1) break;
      const next = tf.tidy(() => tf.sub(residual, quantizer.quantize(residual).quantized)); // [rows, dim]
      residual.dispose();
      residual = next as tf.Tensor2D;
    }
  } finally {
    residual.dispose();
  }
  return quantizers;
}

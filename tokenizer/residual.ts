// One residual loop over any single-level quantizer (lucidrains' ResidualVQ): level l quantizes what
// levels 0..l-1 left over. RQ-KMeans (k-means codebooks), RQ-VAE (learnt codebooks) and residual FSQ
// (FSQ grids at finer scales) are all this loop over a different `LevelQuantizer`.
import * as tf from '@tensorflow/tfjs';
import { squaredDistances } from './kmeans.js';
import { LastLevelSpreader } from './uniformMapping.js';
import type { EmbeddingMatrix } from './types.js';

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

/**
 * The same loop on rows in JS memory, for catalogs too large for one tensor (1M x 256 floats is 1 GiB, and the
 * loop above holds the input, the residual and the next residual as tensors, in a wasm memory capped at 4 GiB):
 * the residual is one Float32Array updated in place, block by block through each quantizer's own `quantize`,
 * so the loop holds one copy of the rows besides the caller's. `fitLevel` sees the residual (do not keep it).
 */
export async function fitResidualRows(
  x: EmbeddingMatrix,
  levels: number,
  fitLevel: (residual: EmbeddingMatrix, level: number) => LevelQuantizer | Promise<LevelQuantizer>,
  block = 8192,
): Promise<LevelQuantizer[]> {
  const quantizers: LevelQuantizer[] = [];
  const residual: EmbeddingMatrix = { rows: x.rows, dim: x.dim, data: x.data.slice() };
  for (let level = 0; level < levels; level++) {
    const quantizer = await fitLevel(residual, level);
    quantizers.push(quantizer);
    if (level === levels - 1) break;
    for (let start = 0; start < x.rows; start += block) {
      const end = Math.min(x.rows, start + block);
      const rows = residual.data.subarray(start * x.dim, end * x.dim);
      const next = tf.tidy(() => {
        const r = tf.tensor2d(rows, [end - start, x.dim]); // [block, dim]
        return tf.sub(r, quantizer.quantize(r).quantized); // [block, dim]
      });
      rows.set(next.dataSync() as Float32Array);
      next.dispose();
    }
  }
  return quantizers;
}

export interface EncodeResidualOptions {
  /** Rows per block (bounds the [block, codebookSize] distance matrix). */
  block: number;
  /** Maps a block of input rows to what the quantizers see (an encoder); identity when absent. Inside a tidy. */
  transform?: (rows: tf.Tensor2D) => tf.Tensor2D;
  /** Uniform mapping of the last position (uniformMapping.ts); applies with 2 or more levels. */
  uniformLastLevel: boolean;
}

export interface EncodeResidualResult {
  codes: Int32Array; // [rows, levels]
  /** Codes by nearest codeword at every position (equal to `codes` without the uniform mapping). */
  nearest: Int32Array; // [rows, levels]
  /** Rows whose last code is not their nearest one (moved off a code a sibling holds). */
  moved: number;
}

/**
 * Codes of every row of `x` (JS data, encoded in row blocks): nearest codeword at each level, and with
 * `uniformLastLevel`, the last level chosen by `LastLevelSpreader` so that items sharing a prefix get
 * distinct last codes while the codebook has room. Leaves no tensors behind.
 */
export function encodeResidual(x: EmbeddingMatrix, quantizers: LevelQuantizer[], opts: EncodeResidualOptions): EncodeResidualResult {
  const L = quantizers.length;
  const codes = new Int32Array(x.rows * L);
  const nearest = new Int32Array(x.rows * L);
  const transform = opts.transform ?? ((rows: tf.Tensor2D) => rows);
  const uniform = opts.uniformLastLevel && L >= 2;
  const last = quantizers[L - 1];
  const spreader = uniform ? new LastLevelSpreader(last.size) : null;
  for (let start = 0; start < x.rows; start += opts.block) {
    const end = Math.min(x.rows, start + opts.block);
    const n = end - start;
    if (!spreader) {
      const block = tf.tidy(() => residualQuantize(transform(tf.tensor2d(x.data.subarray(start * x.dim, end * x.dim), [n, x.dim])), quantizers).codes); // [block, levels]
      const v = block.dataSync() as Int32Array;
      codes.set(v, start * L);
      nearest.set(v, start * L);
      block.dispose();
      continue;
    }
    const [prefixT, distancesT] = tf.tidy(() => {
      const z = transform(tf.tensor2d(x.data.subarray(start * x.dim, end * x.dim), [n, x.dim])); // [block, latent]
      const out = residualQuantize(z, quantizers.slice(0, L - 1));
      const residual = tf.sub(z, out.quantized) as tf.Tensor2D; // [block, latent]
      const table = last.lookup(tf.range(0, last.size, 1, 'int32') as tf.Tensor1D); // [size, latent]
      return [out.codes, squaredDistances(residual, table)]; // [block, levels - 1], [block, size]
    });
    const prefix = prefixT.dataSync() as Int32Array;
    const { codes: lastCodes, nearest: lastNearest } = spreader.assign(prefix, L - 1, distancesT.dataSync() as Float32Array);
    tf.dispose([prefixT, distancesT]);
    for (let r = 0; r < n; r++) {
      const o = (start + r) * L;
      codes.set(prefix.subarray(r * (L - 1), (r + 1) * (L - 1)), o);
      nearest.set(prefix.subarray(r * (L - 1), (r + 1) * (L - 1)), o);
      codes[o + L - 1] = lastCodes[r];
      nearest[o + L - 1] = lastNearest[r];
    }
  }
  return { codes, nearest, moved: spreader?.moved ?? 0 };
}

// Row-major Float32 matrix helpers shared by the tokenizers (checks, norms, reconstruction error).
import type { EmbeddingMatrix } from './types.js';

/** Throws a clear error when `x` is not a well-formed matrix of finite numbers. `what` names the input. */
export function checkMatrix(x: EmbeddingMatrix, what = 'embeddings', dim?: number): void {
  if (!Number.isInteger(x.rows) || x.rows < 0 || !Number.isInteger(x.dim) || x.dim < 1) {
    throw new Error(`${what}: rows and dim must be integers (dim >= 1), got rows=${x.rows} dim=${x.dim}`);
  }
  if (x.data.length !== x.rows * x.dim) {
    throw new Error(`${what}: data has ${x.data.length} values, expected rows*dim = ${x.rows}*${x.dim} = ${x.rows * x.dim}`);
  }
  if (dim !== undefined && x.dim !== dim) {
    throw new Error(`${what}: dimension ${x.dim} does not match the tokenizer's input dimension ${dim}`);
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) {
      throw new Error(`${what}: row ${Math.floor(i / x.dim)} column ${i % x.dim} is ${x.data[i]} (all values must be finite)`);
    }
  }
}

/** Squared Euclidean distance between row `i` of `a` and row `j` of `b` (both of width `dim`). */
export function squaredDistance(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const ao = i * dim;
  const bo = j * dim;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    const e0 = a[ao + d] - b[bo + d];
    const e1 = a[ao + d + 1] - b[bo + d + 1];
    const e2 = a[ao + d + 2] - b[bo + d + 2];
    const e3 = a[ao + d + 3] - b[bo + d + 3];
    s0 += e0 * e0; s1 += e1 * e1; s2 += e2 * e2; s3 += e3 * e3;
  }
  for (; d < dim; d++) {
    const e = a[ao + d] - b[bo + d];
    s0 += e * e;
  }
  return s0 + s1 + s2 + s3;
}

/** Rows `indices` of `x`, as a new matrix. */
export function takeRows(x: EmbeddingMatrix, indices: ArrayLike<number>): EmbeddingMatrix {
  const data = new Float32Array(indices.length * x.dim);
  for (let r = 0; r < indices.length; r++) data.set(x.data.subarray(indices[r] * x.dim, (indices[r] + 1) * x.dim), r * x.dim);
  return { rows: indices.length, dim: x.dim, data };
}

/** Transposes a row-major [rows, cols] matrix into [cols, rows]. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Mean over rows of the summed squared error ||x_i - y_i||^2, and the same relative to x's variance. */
export function reconstructionError(x: EmbeddingMatrix, y: EmbeddingMatrix): { reconstruction: number; relative: number } {
  if (x.rows === 0) return { reconstruction: 0, relative: 0 };
  const mean = new Float64Array(x.dim);
  for (let r = 0; r < x.rows; r++) for (let d = 0; d < x.dim; d++) mean[d] += x.data[r * x.dim + d];
  for (let d = 0; d < x.dim; d++) mean[d] /= x.rows;
  let err = 0;
  let spread = 0;
  for (let i = 0; i < x.data.length; i++) {
    const e = x.data[i] - y.data[i];
    err += e * e;
    const s = x.data[i] - mean[i % x.dim];
    spread += s * s;
  }
  return { reconstruction: err / x.rows, relative: spread > 0 ? err / spread : 0 };
}

// Small clustered data for tokenizer tests: `clusters` Gaussian blobs in `dim` dims.
import { makeRng } from '../../tokenizer/rng.js';
import type { EmbeddingMatrix } from '../../tokenizer/index.js';

export function blobs(rows: number, dim: number, clusters: number, seed = 1, spread = 0.3): EmbeddingMatrix {
  const rng = makeRng(seed);
  const centres = Float32Array.from({ length: clusters * dim }, () => rng.normal() * 2);
  const data = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = rng.int(clusters);
    for (let d = 0; d < dim; d++) data[r * dim + d] = centres[c * dim + d] + spread * rng.normal();
  }
  return { rows, dim, data };
}

export function mse(a: EmbeddingMatrix, b: EmbeddingMatrix): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += (a.data[i] - b.data[i]) ** 2;
  return s / a.rows;
}

// Truncated SVD of a sparse matrix by randomized range finding (Halko, Martinsson & Tropp 2011,
// algorithms 4.4 and 5.1), working in the items' space so nothing dense is vocabulary x rank:
//
//   Ω  = Gaussian rows x ℓ (seeded), ℓ = rank + oversample
//   Q  = orth(A Aᵀ Ω)                      a Gaussian sketch of A's range, already one power step
//   repeat powerIterations times:  Q = orth(A Aᵀ Q)      re-orthonormalised every step (Cholesky QR,
//                                                         Gram-Schmidt when rank-deficient; linalg.ts)
//   C  = Qᵀ (A Aᵀ Q) = B Bᵀ  with B = Qᵀ A   (ℓ x ℓ, symmetric)
//   C  = E Λ Eᵀ (Jacobi)  =>  σ = sqrt(Λ),  U = Q E
//
// Only U and σ are returned (the item side: LSA embeddings are U·diag(σ)); the vocabulary side is not
// needed. Signs are made canonical (each column's largest-magnitude entry positive), so the result is
// a function of the matrix and the seed alone.
import { csrTranspose, gramTimes, type CsrMatrix } from './sparse.js';
import { orthonormalize, symmetricEigen, timesColumns, transposeTimes } from './linalg.js';
import { seededRandom } from './random.js';

export interface RandomizedSvdOptions {
  /** Singular triplets wanted. */
  rank: number;
  /** Extra sketch columns beyond `rank` (default 10). */
  oversample?: number;
  /** Power iterations after the first sketch (default 2); more sharpen a slowly decaying spectrum. */
  powerIterations?: number;
  /** Seed of the Gaussian test matrix (default 0). */
  seed?: number;
  /** Called after each of the `total` sketch/power/projection steps. */
  onStep?: (done: number, total: number) => void;
}

export interface RandomizedSvdResult {
  /** Left singular vectors as columns: `u[i*rank + k]`, rows x rank. */
  u: Float64Array;
  /** Singular values, largest first (`rank` of them). */
  singularValues: Float64Array;
  /** Columns returned: min(requested, rows, cols, numerical rank). */
  rank: number;
  /** Singular values above 1e-6 x the largest among the sketch's ℓ: a lower bound on A's rank when ℓ is less. */
  numericalRank: number;
  /** Sketch width ℓ used. */
  sketchWidth: number;
}

/** Relative size below which a singular value counts as zero (σ comes from sqrt of eigenvalues of B Bᵀ). */
export const RANK_TOLERANCE = 1e-6;

/** Truncated SVD `A ≈ U diag(σ) Vᵀ` of a sparse matrix; returns U and σ. Deterministic for a seed. */
export function randomizedSvd(a: CsrMatrix, options: RandomizedSvdOptions): RandomizedSvdResult {
  const { rank } = options;
  const oversample = options.oversample ?? 10;
  const powerIterations = options.powerIterations ?? 2;
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`\`rank\` must be an integer >= 1, got ${rank}`);
  if (!Number.isInteger(oversample) || oversample < 0) throw new Error(`\`oversample\` must be an integer >= 0, got ${oversample}`);
  if (!Number.isInteger(powerIterations) || powerIterations < 0) {
    throw new Error(`\`powerIterations\` must be an integer >= 0, got ${powerIterations}`);
  }
  const rows = a.rows;
  const maxRank = Math.min(a.rows, a.cols);
  if (maxRank === 0) throw new Error(`cannot take the SVD of an empty ${a.rows} x ${a.cols} matrix`);
  const width = Math.min(rank + oversample, maxRank);
  const totalSteps = powerIterations + 2;
  let step = 0;
  const tick = () => options.onStep?.(++step, totalSteps);

  const random = seededRandom(options.seed ?? 0);
  const omega = new Float64Array(rows * width); // [rows, width]
  for (let i = 0; i < omega.length; i++) omega[i] = random.gaussian();

  // Between power iterations a well-conditioned basis is enough (one Cholesky-QR pass); the basis the
  // Rayleigh-Ritz step uses is orthonormal to rounding (two passes).
  const at = csrTranspose(a);
  const gram = (x: Float64Array) => gramTimes(a, x, width, 64, at); // A Aᵀ X
  let q = orthonormalize(gram(omega), rows, width, powerIterations === 0 ? 2 : 1); // [rows, width]
  tick();
  for (let it = 0; it < powerIterations; it++) {
    q = orthonormalize(gram(q), rows, width, it === powerIterations - 1 ? 2 : 1);
    tick();
  }
  const small = transposeTimes(q, gram(q), rows, width, width); // [width, width] = B Bᵀ
  tick();

  const { values, vectors } = symmetricEigen(small, width);
  const sigma = Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 0)));
  let numericalRank = 0;
  while (numericalRank < width && sigma[numericalRank] > RANK_TOLERANCE * sigma[0]) numericalRank++;
  const kept = Math.min(rank, numericalRank);
  if (kept === 0) throw new Error('the matrix is zero: no singular vectors to return');

  const u = timesColumns(q, vectors, rows, width, width, kept); // [rows, kept]
  for (let c = 0; c < kept; c++) {
    let best = 0;
    for (let i = 1; i < rows; i++) if (Math.abs(u[i * kept + c]) > Math.abs(u[best * kept + c])) best = i;
    if (u[best * kept + c] < 0) for (let i = 0; i < rows; i++) u[i * kept + c] = -u[i * kept + c];
  }
  return { u, singularValues: sigma.slice(0, kept), rank: kept, numericalRank, sketchWidth: width };
}

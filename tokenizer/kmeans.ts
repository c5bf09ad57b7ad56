// k-means on a Float32 matrix: k-means++ seeding, then Lloyd iterations (Elkan's bounds skip the rows
// that cannot change cluster) whose distance step is one plain 2-D tfjs matMul per block of rows (||x||^2 - 2 x.c + ||c||^2; the centroids are transposed once, since
// matMul with transpose flags is 10-20x slower on wasm). Optional balanced assignment caps every
// cluster at ceil(n / k) items, which spreads items over the codebook (fewer collisions, no dead codes).
import * as tf from '@tensorflow/tfjs';
import { squaredDistance, takeRows } from './matrix.js';
import { fitRowCount, resolveFitSample, type FitSample } from './fitSample.js';
import { makeRng, permutation, type Rng } from './rng.js';
import type { EmbeddingMatrix } from './types.js';

export interface KMeansConfig {
  /** Maximum Lloyd iterations. */
  iterations: number;
  /** Stop when at most this fraction of the rows changed cluster in an iteration (negative: never stop early). */
  tolerance: number;
  /** Cap each cluster at ceil(n / k) items (greedy, nearest free cluster first). */
  balanced: boolean;
  /** k-means++ seeds from a random sample of max(initSample, 4k) rows (all rows when fewer). */
  initSample: number;
  /**
   * Sampled k-means for large catalogs: fit the centroids on a random sample of rows, then give every row its
   * nearest centroid in one blocked pass. 'auto' (the default) is faiss's rule, ClusteringParameters
   * .max_points_per_centroid = 256: a sample of 256 x k rows when there are more (fitSample.ts), so a catalog
   * of at most 256 x k items is fitted on all of them, bit for bit as with 'all'. 'all': every row; N: N random
   * rows (at least k). Lloyd with Elkan's bounds keeps n x k floats (1M items x 256 codes: 1 GiB); sampled,
   * the fit keeps sample x k floats and the pass 8 bytes a row.
   */
  fitSample: FitSample;
}

export const DEFAULT_KMEANS: KMeansConfig = { iterations: 25, tolerance: 5e-3, balanced: false, initSample: 2048, fitSample: 'auto' };

export interface KMeansResult {
  /** [k, dim] row-major. */
  centroids: Float32Array;
  /** Cluster of each row. */
  codes: Int32Array;
  /** Mean squared distance of a row to its centroid. */
  inertia: number;
  iterations: number;
  /** Rows the centroids were fitted on (all rows, or the sample's size). */
  fitRows: number;
}

/** Rows per matMul block: bounds the [block, k] distance matrix. */
const BLOCK_ROWS = 8192;

/** Squared distances [n, k] from every row of `x` to every row of `codebook`, inside the caller's tidy. */
export function squaredDistances(x: tf.Tensor2D, codebook: tf.Tensor2D): tf.Tensor2D {
  const xNorms = tf.sum(tf.square(x), 1, true); // [n, 1]
  const cNorms = tf.sum(tf.square(codebook), 1).expandDims(0); // [1, k]
  const codebookT = tf.transpose(codebook); // [dim, k]
  const dots = tf.matMul(x, codebookT); // [n, k]
  return tf.add(tf.sub(xNorms, tf.mul(dots, 2)), cNorms) as tf.Tensor2D; // [n, k]
}

/** Nearest centroid of every row (and its squared distance), blocked over rows. */
export function assignNearest(x: EmbeddingMatrix, centroids: Float32Array, k: number): { codes: Int32Array; distances: Float32Array } {
  const codes = new Int32Array(x.rows);
  const distances = new Float32Array(x.rows);
  const codebook = tf.tensor2d(centroids, [k, x.dim]); // [k, dim]
  try {
    for (let start = 0; start < x.rows; start += BLOCK_ROWS) {
      const end = Math.min(x.rows, start + BLOCK_ROWS);
      const [idx, dist] = tf.tidy(() => {
        const block = tf.tensor2d(x.data.subarray(start * x.dim, end * x.dim), [end - start, x.dim]); // [block, dim]
        const d2 = squaredDistances(block, codebook); // [block, k]
        return [tf.argMin(d2, 1), tf.min(d2, 1)]; // [block], [block]
      });
      codes.set(idx.dataSync() as Int32Array, start);
      distances.set(dist.dataSync() as Float32Array, start);
      idx.dispose();
      dist.dispose();
    }
  } finally {
    codebook.dispose();
  }
  for (let i = 0; i < distances.length; i++) if (distances[i] < 0) distances[i] = 0; // rounding of the expansion
  return { codes, distances };
}

/** Full distance matrix [n, k] in JS memory (balanced assignment needs every row's ranking). */
function allDistances(x: EmbeddingMatrix, centroids: Float32Array, k: number): Float32Array {
  const out = new Float32Array(x.rows * k);
  const codebook = tf.tensor2d(centroids, [k, x.dim]); // [k, dim]
  try {
    for (let start = 0; start < x.rows; start += BLOCK_ROWS) {
      const end = Math.min(x.rows, start + BLOCK_ROWS);
      const d2 = tf.tidy(() => squaredDistances(tf.tensor2d(x.data.subarray(start * x.dim, end * x.dim), [end - start, x.dim]), codebook)); // [block, k]
      out.set(d2.dataSync() as Float32Array, start * k);
      d2.dispose();
    }
  } finally {
    codebook.dispose();
  }
  return out;
}

/**
 * Balanced assignment: rows in order of how close they are to their best centroid, each to its nearest
 * cluster that still has room (capacity ceil(n / k)). Greedy, so not the optimal transport plan, but
 * every cluster ends with between n/k - 1 and ceil(n/k) rows.
 */
export function assignBalanced(x: EmbeddingMatrix, centroids: Float32Array, k: number): { codes: Int32Array; distances: Float32Array } {
  const n = x.rows;
  const d2 = allDistances(x, centroids, k);
  const capacity = Math.ceil(n / k);
  const best = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let m = Infinity;
    for (let c = 0; c < k; c++) if (d2[i * k + c] < m) m = d2[i * k + c];
    best[i] = m;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => best[a] - best[b]);
  const load = new Int32Array(k);
  const codes = new Int32Array(n);
  const distances = new Float32Array(n);
  for (const i of order) {
    let pick = -1;
    let m = Infinity;
    for (let c = 0; c < k; c++) {
      const v = d2[i * k + c];
      if (load[c] < capacity && v < m) { m = v; pick = c; }
    }
    codes[i] = pick;
    distances[i] = Math.max(0, m);
    load[pick] += 1;
  }
  return { codes, distances };
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii): each next seed drawn with probability ~ D(x)^2. The
 * pairwise distances of the rows come from one matMul, so seeding costs one [n, n] product instead of
 * k passes over the data (callers seed from a sample of a few thousand rows).
 */
export function kmeansPlusPlus(x: EmbeddingMatrix, k: number, rng: Rng): Float32Array {
  const n = x.rows;
  const dim = x.dim;
  const pairwise = tf.tidy(() => {
    const rows = tf.tensor2d(x.data, [n, dim]); // [n, dim]
    return squaredDistances(rows, rows); // [n, n]
  });
  const d2 = pairwise.dataSync() as Float32Array;
  pairwise.dispose();
  const centroids = new Float32Array(k * dim);
  const closest = new Float64Array(n).fill(Infinity);
  let pick = rng.int(n);
  for (let c = 0; c < k; c++) {
    centroids.set(x.data.subarray(pick * dim, (pick + 1) * dim), c * dim);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.max(0, d2[pick * n + i]);
      if (d < closest[i]) closest[i] = d;
      total += closest[i];
    }
    if (c === k - 1) break;
    if (total <= 0) { pick = rng.int(n); continue; } // fewer distinct rows than k: duplicates become dead codes
    let target = rng.next() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= closest[i];
      if (target <= 0 && closest[i] > 0) { pick = i; break; }
    }
  }
  return centroids;
}

/**
 * Squared distances of `rows` of `x` (all rows when null) to every centroid, one plain matMul per block;
 * `visit(j, values, offset)` sees row j's k distances at values[offset..offset+k).
 */
function visitDistances(x: EmbeddingMatrix, rows: Int32Array | null, centroids: Float32Array, k: number, visit: (j: number, values: Float32Array, offset: number) => void): void {
  const n = rows ? rows.length : x.rows;
  const codebook = tf.tensor2d(centroids, [k, x.dim]); // [k, dim]
  try {
    for (let start = 0; start < n; start += BLOCK_ROWS) {
      const end = Math.min(n, start + BLOCK_ROWS);
      const data = rows ? takeRows(x, rows.subarray(start, end)).data : x.data.subarray(start * x.dim, end * x.dim);
      const d2 = tf.tidy(() => squaredDistances(tf.tensor2d(data, [end - start, x.dim]), codebook)); // [block, k]
      const v = d2.dataSync() as Float32Array;
      d2.dispose();
      for (let r = 0; r < end - start; r++) visit(start + r, v, r * k);
    }
  } finally {
    codebook.dispose();
  }
}

/** Centroids as the means of their rows; an empty cluster restarts at the row farthest from its centroid. */
function updateCentroids(x: EmbeddingMatrix, codes: Int32Array, centroids: Float32Array, k: number, farness: Float32Array): void {
  const dim = x.dim;
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  for (let i = 0; i < x.rows; i++) {
    const c = codes[i];
    counts[c] += 1;
    const so = c * dim;
    const xo = i * dim;
    for (let d = 0; d < dim; d++) sums[so + d] += x.data[xo + d];
  }
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) {
      for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d] / counts[c];
    } else {
      let far = 0;
      for (let i = 1; i < x.rows; i++) if (farness[i] > farness[far]) far = i;
      centroids.set(x.data.subarray(far * dim, (far + 1) * dim), c * dim);
      farness[far] = 0;
    }
  }
}

/**
 * Fits k centroids to the rows of `x`: k-means++ seeding, then Lloyd iterations until at most
 * `tolerance` x rows change cluster. Plain (unbalanced) Lloyd skips rows by Elkan's bounds (2003): a
 * row whose distance to its centroid (upper bound) stays below its distance to every other centroid
 * (lower bounds, each moved by how far its centroid moved) cannot change cluster, so only the other
 * rows go through the distance matMul. Same iterations as plain Lloyd, far fewer distances late on.
 */
export function kmeans(x: EmbeddingMatrix, k: number, config: Partial<KMeansConfig> = {}, rng: Rng = makeRng(0)): KMeansResult {
  const cfg = { ...DEFAULT_KMEANS, ...config };
  if (!Number.isInteger(k) || k < 1) throw new Error(`k-means: the number of clusters must be an integer >= 1, got ${k}`);
  if (x.rows < k) throw new Error(`k-means: cannot fit ${k} codes to ${x.rows} items (codebook size must be <= the number of items)`);
  const fitRows = fitRowCount(resolveFitSample(cfg.fitSample, 'k-means: fitSample'), x.rows, k);
  if (fitRows < x.rows) return sampledKmeans(x, k, fitRows, cfg, rng);
  const dim = x.dim;
  const n = x.rows;
  const sample = Math.max(cfg.initSample, 4 * k);
  const seedRows = n > sample ? takeRows(x, permutation(n, rng).subarray(0, sample)) : x;
  const centroids = kmeansPlusPlus(seedRows, k, rng);
  let iterations = 0;
  let codes: Int32Array;
  if (cfg.balanced) {
    let distances: Float32Array;
    ({ codes, distances } = assignBalanced(x, centroids, k));
    for (let it = 0; it < cfg.iterations; it++) {
      iterations = it + 1;
      updateCentroids(x, codes, centroids, k, distances);
      const next = assignBalanced(x, centroids, k);
      let changed = 0;
      for (let i = 0; i < n; i++) if (next.codes[i] !== codes[i]) changed++;
      ({ codes, distances } = next);
      if (changed <= cfg.tolerance * n) break;
    }
  } else {
    codes = new Int32Array(n);
    const upper = new Float32Array(n);
    // Elkan's bounds (2003): a lower bound on the distance of every row to every centroid, n x k floats.
    const lower = new Float32Array(n * k);
    const refresh = (rows: Int32Array | null): number => {
      let changed = 0;
      visitDistances(x, rows, centroids, k, (j, v, o) => {
        const i = rows ? rows[j] : j;
        let best = 0;
        for (let c = 0; c < k; c++) {
          const d = Math.sqrt(Math.max(0, v[o + c]));
          lower[i * k + c] = d;
          if (d < lower[i * k + best]) best = c;
        }
        if (best !== codes[i]) changed++;
        codes[i] = best;
        upper[i] = lower[i * k + best];
      });
      return changed;
    };
    refresh(null);
    const previous = new Float32Array(k * dim);
    const shift = new Float32Array(k);
    const farness = new Float32Array(n);
    for (let it = 0; it < cfg.iterations; it++) {
      iterations = it + 1;
      previous.set(centroids);
      for (let i = 0; i < n; i++) farness[i] = upper[i];
      updateCentroids(x, codes, centroids, k, farness);
      for (let c = 0; c < k; c++) shift[c] = Math.sqrt(squaredDistance(centroids, c, previous, c, dim));
      const active: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = codes[i];
        const o = i * k;
        let nearestOther = Infinity;
        for (let c = 0; c < k; c++) {
          const l = lower[o + c] - shift[c];
          lower[o + c] = l;
          if (c !== a && l < nearestOther) nearestOther = l;
        }
        upper[i] += shift[a];
        if (upper[i] <= nearestOther) continue;
        upper[i] = Math.sqrt(squaredDistance(x.data, i, centroids, a, dim)); // tighten, then test again
        lower[o + a] = upper[i];
        if (upper[i] > nearestOther) active.push(i);
      }
      const changed = active.length > 0 ? refresh(Int32Array.from(active)) : 0;
      if (changed <= cfg.tolerance * n) break;
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += squaredDistance(x.data, i, centroids, codes[i], dim);
  return { centroids, codes, inertia: total / n, iterations, fitRows: n };
}

/** Centroids fitted on `fitRows` random rows, then every row assigned to its nearest one. */
function sampledKmeans(x: EmbeddingMatrix, k: number, fitRows: number, cfg: KMeansConfig, rng: Rng): KMeansResult {
  const rows = permutation(x.rows, rng).subarray(0, fitRows);
  const fitted = kmeans(takeRows(x, rows), k, { ...cfg, fitSample: 'all' }, rng);
  const { codes, distances } = cfg.balanced ? assignBalanced(x, fitted.centroids, k) : assignNearest(x, fitted.centroids, k);
  let total = 0;
  for (let i = 0; i < x.rows; i++) total += Math.max(0, distances[i]);
  return { centroids: fitted.centroids, codes, inertia: total / x.rows, iterations: fitted.iterations, fitRows };
}

// Randomized SVD and its dense building blocks against exact constructions.
import { csrFromDense, gramTimes, checkCsr, csrTimesDense, csrTransposeTimesDense } from '../../pipelines/embed/sparse.js';
import { orthonormalize, orthonormalizeColumns, symmetricEigen, transpose, transposeTimes } from '../../pipelines/embed/linalg.js';
import { randomizedSvd } from '../../pipelines/embed/randomizedSvd.js';
import { seededRandom } from '../../pipelines/embed/random.js';

function gaussian(rows: number, cols: number, seed: number): Float64Array {
  const r = seededRandom(seed);
  return Float64Array.from({ length: rows * cols }, () => r.gaussian());
}

function maxOffIdentity(q: Float64Array, rows: number, cols: number): number {
  const g = transposeTimes(q, q, rows, cols, cols);
  let err = 0;
  for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) err = Math.max(err, Math.abs(g[a * cols + b] - (a === b ? 1 : 0)));
  return err;
}

/** A = U diag(s) Vᵀ with orthonormal U (rows x r) and V (cols x r): a matrix of known SVD. */
function lowRank(rows: number, cols: number, s: number[], seed: number) {
  const r = s.length;
  const u = orthonormalize(gaussian(rows, r, seed), rows, r);
  const v = orthonormalize(gaussian(cols, r, seed + 1), cols, r);
  const dense = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let x = 0;
      for (let k = 0; k < r; k++) x += u[i * r + k] * s[k] * v[j * r + k];
      dense[i * cols + j] = x;
    }
  }
  return { dense, u, v };
}

describe('seededRandom', () => {
  it('repeats for a seed and differs across seeds', () => {
    const a = seededRandom(7), b = seededRandom(7), c = seededRandom(8);
    const xa = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xa);
    const g = seededRandom(1);
    const xs = Array.from({ length: 20000 }, () => g.gaussian());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});

describe('sparse products', () => {
  const rows = 7, cols = 11;
  const r = seededRandom(3);
  const dense = Float64Array.from({ length: rows * cols }, () => (r.uniform() < 0.3 ? r.gaussian() : 0));
  const a = csrFromDense(dense, rows, cols);
  const denseTimes = (x: Float64Array, w: number) => {
    const out = new Float64Array(rows * w);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) for (let t = 0; t < w; t++) out[i * w + t] += dense[i * cols + j] * x[j * w + t];
    return out;
  };
  it('A X, Aᵀ Y and A Aᵀ Q (in column blocks) match dense products', () => {
    checkCsr(a);
    const x = gaussian(cols, 5, 4);
    expect(Array.from(csrTimesDense(a, x, 5))).toEqual(Array.from(denseTimes(x, 5)).map((v) => expect.closeTo(v, 12)));
    const y = gaussian(rows, 6, 5);
    const aty = csrTransposeTimesDense(a, y, 6);
    for (let j = 0; j < cols; j++) for (let t = 0; t < 6; t++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += dense[i * cols + j] * y[i * 6 + t];
      expect(aty[j * 6 + t]).toBeCloseTo(s, 12);
    }
    const q = gaussian(rows, 9, 6);
    const full = denseTimes(csrTransposeTimesDense(a, q, 9), 9);
    const blocked = gramTimes(a, q, 9, 4); // blocks of 4, 4, 1 columns
    blocked.forEach((v, i) => expect(v).toBeCloseTo(full[i], 12));
  });
  it('checkCsr names a bad column', () => {
    expect(() => checkCsr({ ...a, indices: a.indices.map((j) => j + 100) })).toThrow(/outside \[0, 11\)/);
  });
});

describe('dense linear algebra', () => {
  it('symmetricEigen reconstructs a symmetric matrix with orthonormal eigenvectors, largest first', () => {
    const n = 12;
    const b = gaussian(n, n, 9);
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = b[i * n + j] + b[j * n + i];
    const { values, vectors } = symmetricEigen(m, n);
    for (let k = 1; k < n; k++) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
    expect(maxOffIdentity(vectors, n, n)).toBeLessThan(1e-12);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let x = 0;
      for (let k = 0; k < n; k++) x += vectors[i * n + k] * values[k] * vectors[j * n + k];
      expect(x).toBeCloseTo(m[i * n + j], 10);
    }
  });
  it('orthonormalize keeps the span (Cholesky QR) and zeroes dependent columns (Gram-Schmidt fallback)', () => {
    const rows = 50, cols = 6;
    const y = gaussian(rows, cols, 10);
    const q = orthonormalize(y, rows, cols);
    expect(maxOffIdentity(q, rows, cols)).toBeLessThan(1e-13);
    // Y = Q (Qᵀ Y): the span is kept.
    const coef = transposeTimes(q, y, rows, cols, cols);
    for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) {
      let x = 0;
      for (let k = 0; k < cols; k++) x += q[i * cols + k] * coef[k * cols + c];
      expect(x).toBeCloseTo(y[i * cols + c], 10);
    }
    // Column 3 = column 0 + column 1: rank 5, so one column of the basis is exactly zero.
    for (let i = 0; i < rows; i++) y[i * cols + 3] = y[i * cols] + y[i * cols + 1];
    const cm = transpose(y, rows, cols);
    expect(orthonormalizeColumns(cm, rows, cols)).toBe(5);
    const qd = orthonormalize(y, rows, cols);
    const norms = Array.from({ length: cols }, (_, c) => Math.hypot(...Array.from({ length: rows }, (_, i) => qd[i * cols + c])));
    expect(norms.map((n) => Math.round(n))).toEqual([1, 1, 1, 0, 1, 1]);
  });
});

describe('randomizedSvd', () => {
  const rows = 80, cols = 120;
  const s = [10, 6, 3, 1.5, 0.5];
  const { dense, u: uTrue } = lowRank(rows, cols, s, 21);
  const a = csrFromDense(dense, rows, cols);

  it('recovers the singular values and left singular vectors of a known low-rank matrix', () => {
    const svd = randomizedSvd(a, { rank: 5, seed: 1 });
    expect(svd.rank).toBe(5);
    Array.from(svd.singularValues).forEach((v, k) => expect(v).toBeCloseTo(s[k], 8));
    for (let k = 0; k < 5; k++) {
      let d = 0;
      for (let i = 0; i < rows; i++) d += svd.u[i * 5 + k] * uTrue[i * 5 + k];
      expect(Math.abs(d)).toBeCloseTo(1, 8);
    }
  });

  it('gives the best rank-k approximation when k is below the rank', () => {
    // A 3-column sketch of a rank-5 matrix: the power iterations still find the top two.
    const svd = randomizedSvd(a, { rank: 2, seed: 2, oversample: 1, powerIterations: 4 });
    expect(svd.sketchWidth).toBe(3);
    expect(Array.from(svd.singularValues)).toEqual([expect.closeTo(10, 3), expect.closeTo(6, 3)]);
  });

  it('clamps the rank to the numerical rank and says so', () => {
    const svd = randomizedSvd(a, { rank: 20, seed: 1 });
    expect(svd.numericalRank).toBe(5);
    expect(svd.rank).toBe(5);
    const tiny = randomizedSvd(csrFromDense([1, 0, 0, 1, 1, 0], 2, 3), { rank: 8 });
    expect(tiny.sketchWidth).toBe(2);
    expect(tiny.rank).toBe(2);
  });

  it('is deterministic for a seed, with canonical signs', () => {
    const x = randomizedSvd(a, { rank: 4, seed: 5 });
    const y = randomizedSvd(a, { rank: 4, seed: 5 });
    expect(Buffer.from(x.u.buffer).equals(Buffer.from(y.u.buffer))).toBe(true);
    // A different seed finds the same subspace and, with canonical signs, the same vectors.
    const z = randomizedSvd(a, { rank: 4, seed: 6 });
    z.u.forEach((v, i) => expect(v).toBeCloseTo(x.u[i], 6));
  });

  it('rejects bad options and zero matrices', () => {
    expect(() => randomizedSvd(a, { rank: 0 })).toThrow('`rank` must be an integer >= 1, got 0');
    expect(() => randomizedSvd(a, { rank: 2, powerIterations: -1 })).toThrow('`powerIterations`');
    expect(() => randomizedSvd(csrFromDense([0, 0, 0, 0], 2, 2), { rank: 1 })).toThrow(/zero/);
  });
});

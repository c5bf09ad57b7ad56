// The uniform last-level mapping (LC-Rec) and the k-means it sits on: exact small cases and invariants.
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../seq2seq/backend/index.js';
import { collisionStats, createTokenizer, kmeans, loadTokenizer, saveTokenizer, type EmbeddingMatrix, type ItemTokenizer } from '../../tokenizer/index.js';
import { LastLevelSpreader } from '../../tokenizer/uniformMapping.js';
import { fitNormalizer, normalizeMatrix } from '../../tokenizer/normalizer.js';
import { squaredDistance } from '../../tokenizer/matrix.js';
import { blobs } from './helpers.js';

beforeAll(async () => { await initBackend({ quiet: true }); });

const dispose = (t: ItemTokenizer) => (t as unknown as { dispose(): void }).dispose();
const rowsOf = (codes: Int32Array, width: number) => Array.from({ length: codes.length / width }, (_, r) => Array.from(codes.subarray(r * width, (r + 1) * width)));

describe('LastLevelSpreader', () => {
  // 4 last-level codes; distances rows x 4.
  const d = (...rows: number[][]) => Float32Array.from(rows.flat());

  it('gives siblings the nearest free code in row order, and other prefixes their nearest code', () => {
    const s = new LastLevelSpreader(4);
    const prefix = Int32Array.from([7, 7, 7, 3]);
    const out = s.assign(prefix, 1, d([0, 1, 2, 3], [0, 2, 1, 3], [0, 1, 2, 3], [0, 1, 2, 3]));
    expect(Array.from(out.nearest)).toEqual([0, 0, 0, 0]);
    expect(Array.from(out.codes)).toEqual([0, 2, 1, 0]);
    expect(s.moved).toBe(2);
    expect(s.collided).toBe(0);
  });

  it('falls back to the nearest code (a collision) once every code of the prefix is taken', () => {
    const s = new LastLevelSpreader(2);
    const out = s.assign(Int32Array.from([1, 1, 1]), 1, d([0, 1], [0, 1], [5, 4]).subarray(0, 6));
    expect(Array.from(out.codes)).toEqual([0, 1, 1]);
    expect(s.collided).toBe(1);
  });

  it('is stable under appending: a later block never changes earlier codes, and remembers what they hold', () => {
    const prefix = Int32Array.from([0, 0, 1, 0]);
    const dist = d([0, 1, 2, 3], [0, 1, 2, 3], [3, 2, 1, 0], [0, 1, 2, 3]);
    const all = new LastLevelSpreader(4).assign(prefix, 1, dist).codes;
    const split = new LastLevelSpreader(4);
    const first = split.assign(prefix.subarray(0, 2), 1, dist.subarray(0, 8)).codes;
    const second = split.assign(prefix.subarray(2), 1, dist.subarray(8)).codes;
    expect([...first, ...second]).toEqual(Array.from(all));
    expect(Array.from(all)).toEqual([0, 1, 3, 2]);
  });

  it('names mismatched inputs', () => {
    expect(() => new LastLevelSpreader(4).assign(Int32Array.from([1, 2]), 1, new Float32Array(4))).toThrow(/do not describe the same rows/);
  });
});

describe('k-means with Elkan bounds', () => {
  it('converges to a Lloyd fixed point: every row at its nearest centroid, every centroid the mean of its rows', () => {
    const x = blobs(400, 6, 9, 12, 0.8);
    const k = 12;
    const r = kmeans(x, k, { tolerance: 0, iterations: 200 });
    expect(r.iterations).toBeLessThan(200);
    const sums = new Float64Array(k * x.dim);
    const counts = new Int32Array(k);
    for (let i = 0; i < x.rows; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (squaredDistance(x.data, i, r.centroids, c, x.dim) < squaredDistance(x.data, i, r.centroids, best, x.dim)) best = c;
      expect(squaredDistance(x.data, i, r.centroids, r.codes[i], x.dim)).toBeLessThanOrEqual(squaredDistance(x.data, i, r.centroids, best, x.dim) + 1e-5);
      counts[r.codes[i]]++;
      for (let j = 0; j < x.dim; j++) sums[r.codes[i] * x.dim + j] += x.data[i * x.dim + j];
    }
    for (let c = 0; c < k; c++) {
      if (!counts[c]) continue;
      for (let j = 0; j < x.dim; j++) expect(r.centroids[c * x.dim + j]).toBeCloseTo(sums[c * x.dim + j] / counts[c], 4);
    }
  });
});

describe('uniform last level in the tokenizers', () => {
  // 60 tight blobs of 5 near-duplicates: nearest codes collide inside every blob.
  const x: EmbeddingMatrix = blobs(300, 8, 60, 21, 0.02);

  it('rqkmeans: same first levels as nearest codes, distinct siblings, stable on re-encode and append; no leaks', async () => {
    const before = tf.memory().numTensors;
    const plain = createTokenizer('rqkmeans', { levels: 2, codebookSize: 16, uniformLastLevel: false });
    const uniform = createTokenizer('rqkmeans', { levels: 2, codebookSize: 16 });
    await plain.fit(x, { seed: 4, silent: true });
    const report = await uniform.fit(x, { seed: 4, silent: true });
    const a = plain.encode(x);
    const b = uniform.encode(x);
    expect(rowsOf(b.codes, 2).map((r) => r[0])).toEqual(rowsOf(a.codes, 2).map((r) => r[0]));
    const nearest = collisionStats(a);
    const spread = collisionStats(b);
    expect(nearest.collisionRate).toBeGreaterThan(0.1);
    // every first-level group has at most 16 items here? then no collision is left at all
    const groups = new Map<number, number>();
    for (const r of rowsOf(b.codes, 2)) groups.set(r[0], (groups.get(r[0]) ?? 0) + 1);
    const unavoidable = [...groups.values()].reduce((n, g) => n + Math.max(0, g - 16), 0);
    expect(spread.items - spread.distinctIds).toBe(unavoidable);
    expect(report.details).toMatchObject({ uniformLastLevel: true, nearestCodeCollisionRate: nearest.collisionRate });
    expect(Array.from(uniform.encode(x).codes)).toEqual(Array.from(b.codes));
    const more = blobs(340, 8, 60, 21, 0.02); // same first 300 rows (same seed), 40 more
    expect(Array.from(more.data.subarray(0, x.data.length))).toEqual(Array.from(x.data));
    expect(Array.from(uniform.encode(more).codes.subarray(0, b.codes.length))).toEqual(Array.from(b.codes));
    dispose(plain);
    dispose(uniform);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(['rqvae', 'rfsq', 'fsq'])('%s: uniform mapping keeps the first levels, and save/load gives identical codes', async (method) => {
    const dir = await mkdtemp(join(tmpdir(), `semid-uni-${method}-`));
    const before = tf.memory().numTensors;
    try {
      const small = method === 'rqvae'
        ? { levels: 2, codebookSize: 8, hidden: [16], latentDim: 4, epochs: 2, batchSize: 100 }
        : { levels: 2, fsqLevels: [3, 3], hidden: [16], epochs: 2, batchSize: 100 };
      const tok = createTokenizer(method, small);
      await tok.fit(x, { seed: 1, silent: true });
      const ids = tok.encode(x);
      const off = createTokenizer(method, { ...small, uniformLastLevel: false });
      await off.fit(x, { seed: 1, silent: true });
      expect(rowsOf(ids.codes, 2).map((r) => r[0])).toEqual(rowsOf(off.encode(x).codes, 2).map((r) => r[0]));
      expect(collisionStats(ids).distinctIds).toBeGreaterThanOrEqual(collisionStats(off.encode(x)).distinctIds);
      await saveTokenizer(tok, dir);
      const back = await loadTokenizer(dir);
      expect(Array.from(back.encode(x).codes)).toEqual(Array.from(ids.codes));
      expect(Array.from(back.decode(ids).data)).toEqual(Array.from(tok.decode(ids).data));
      [tok, off, back].forEach(dispose);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('normalizer', () => {
  it('centres and scales to unit mean square per value, and is inverted exactly', () => {
    const x = blobs(50, 5, 3, 2);
    const n = fitNormalizer(x);
    const y = normalizeMatrix(x, n);
    let mean = 0;
    let sq = 0;
    for (const v of y.data) { mean += v; sq += v * v; }
    expect(mean / y.data.length).toBeCloseTo(0, 5);
    expect(sq / y.data.length).toBeCloseTo(1, 4);
    for (let i = 0; i < x.data.length; i++) expect(y.data[i] * n.scale + n.mean[i % x.dim]).toBeCloseTo(x.data[i], 4);
  });
});

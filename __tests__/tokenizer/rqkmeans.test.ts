import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../seq2seq/backend/index.js';
import { Codebook, createTokenizer, fitResidual, fitResidualRows, kmeans, loadTokenizer, saveTokenizer, type ItemTokenizer } from '../../tokenizer/index.js';
import { makeRng } from '../../tokenizer/rng.js';
import { blobs, mse } from './helpers.js';

beforeAll(async () => { await initBackend({ quiet: true }); });

const dispose = (t: ItemTokenizer) => (t as unknown as { dispose(): void }).dispose();

describe('k-means', () => {
  it('recovers well-separated blobs and balanced assignment caps cluster sizes', () => {
    const x = blobs(300, 8, 6, 2, 0.05);
    const plain = kmeans(x, 6, {}, undefined);
    expect(plain.inertia).toBeLessThan(0.05 * 8 * 1.5);
    const balanced = kmeans(x, 10, { balanced: true });
    const counts = new Array(10).fill(0);
    for (const c of balanced.codes) counts[c]++;
    expect(Math.max(...counts)).toBeLessThanOrEqual(30);
  });

  it('sampled k-means (fitSample) fits on a sample, then gives every row its nearest centroid', () => {
    const x = blobs(2000, 8, 6, 2, 0.05);
    const full = kmeans(x, 6, {});
    const sampled = kmeans(x, 6, { fitSample: 150 });
    expect(sampled.codes).toHaveLength(2000);
    expect(sampled.inertia).toBeLessThan(full.inertia * 1.2);
    for (let i = 0; i < x.rows; i += 37) {
      const d = (c: number) => { let s = 0; for (let j = 0; j < 8; j++) s += (x.data[i * 8 + j] - sampled.centroids[c * 8 + j]) ** 2; return s; };
      for (let c = 0; c < 6; c++) expect(d(sampled.codes[i])).toBeLessThanOrEqual(d(c) + 1e-4);
    }
    expect(sampled.fitRows).toBe(150);
    expect(() => kmeans(x, 6, { fitSample: -1 })).toThrow('`k-means: fitSample` must be "auto" (fit on 256 x codebookSize random rows when there are more), "all" or an integer >= 1 (rows), got -1');
    expect(() => kmeans(x, 6, { fitSample: 'some' as never })).toThrow('got "some"');
  });

  it("fitSample 'auto' (faiss: 256 rows a centroid) fits on all rows up to 256 x k, bit for bit as 'all', and samples 256 x k above", () => {
    const k = 4;
    const atThreshold = blobs(256 * k, 6, 5, 7, 0.3);
    const auto = kmeans(atThreshold, k, {}, makeRng(5));
    const all = kmeans(atThreshold, k, { fitSample: 'all' }, makeRng(5));
    const legacyZero = kmeans(atThreshold, k, { fitSample: 0 }, makeRng(5));
    expect(auto.fitRows).toBe(256 * k);
    expect(Array.from(auto.codes)).toEqual(Array.from(all.codes));
    expect(Array.from(auto.centroids)).toEqual(Array.from(all.centroids));
    expect(Array.from(legacyZero.codes)).toEqual(Array.from(all.codes));
    const above = blobs(256 * k + 1, 6, 5, 7, 0.3);
    const sampled = kmeans(above, k, {}, makeRng(5));
    const whole = kmeans(above, k, { fitSample: 'all' }, makeRng(5));
    expect(sampled.fitRows).toBe(256 * k);
    expect(whole.fitRows).toBe(256 * k + 1);
    expect(sampled.codes).toHaveLength(256 * k + 1);
    const again = kmeans(above, k, {}, makeRng(5));
    expect(Array.from(again.codes)).toEqual(Array.from(sampled.codes));
    expect(Array.from(again.centroids)).toEqual(Array.from(sampled.centroids));
  });

  it('names the problem when there are fewer items than codes', () => {
    expect(() => kmeans(blobs(5, 4, 2), 8)).toThrow(/cannot fit 8 codes to 5 items/);
  });
});

describe('rqkmeans', () => {
  it('reconstruction error decreases with every added level', async () => {
    const x = blobs(500, 16, 12, 4, 0.5);
    const errors: number[] = [];
    for (const levels of [1, 2, 3]) {
      const tok = createTokenizer('rqkmeans', { levels, codebookSize: 8 });
      await tok.fit(x, { seed: 3, silent: true });
      errors.push(mse(x, tok.decode(tok.encode(x))));
      dispose(tok);
    }
    expect(errors[1]).toBeLessThan(errors[0]);
    expect(errors[2]).toBeLessThan(errors[1]);
  });

  it('save/load gives identical codes and decodes; no tensor leaks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'semid-rqk-'));
    const before = tf.memory().numTensors;
    try {
      const x = blobs(300, 12, 8, 5);
      const tok = createTokenizer('rqkmeans', { levels: 2, codebookSize: 16, balanced: true });
      await tok.fit(x, { seed: 1, silent: true });
      const ids = tok.encode(x);
      await saveTokenizer(tok, dir);
      const back = await loadTokenizer(dir);
      expect(back.method).toBe('rqkmeans');
      expect(Array.from(back.encode(x).codes)).toEqual(Array.from(ids.codes));
      expect(Array.from(back.decode(ids).data)).toEqual(Array.from(tok.decode(ids).data));
      dispose(tok);
      dispose(back);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reports the rows each level was fitted on: 'auto' samples 256 x codebookSize above that, with seeded codes", async () => {
    const fit = async (rows: number, fitSample?: string) => {
      const tok = createTokenizer('rqkmeans', { levels: 2, codebookSize: 4, ...(fitSample ? { fitSample } : {}) });
      const report = await tok.fit(blobs(rows, 6, 5, 9, 0.3), { seed: 2, silent: true });
      const codes = Array.from(tok.encode(blobs(rows, 6, 5, 9, 0.3)).codes);
      dispose(tok);
      return { fitRows: report.details?.fitRowsPerLevel, codes };
    };
    expect((await fit(1000)).fitRows).toEqual([1000, 1000]);
    expect((await fit(1000)).codes).toEqual((await fit(1000, 'all')).codes);
    const above = await fit(1100);
    expect(above.fitRows).toEqual([1024, 1024]);
    expect((await fit(1100, 'all')).fitRows).toEqual([1100, 1100]);
    expect((await fit(1100)).codes).toEqual(above.codes);
  });

  it('rejects a wrong input dimension and bad config with clear messages', async () => {
    expect(() => createTokenizer('rqkmeans', { levels: 0 })).toThrow(/`levels` must be an integer/);
    expect(() => createTokenizer('rqkmeans', { codebooksize: 8 })).toThrow(/unknown config key "codebooksize"/);
    expect(() => createTokenizer('nope')).toThrow(/unknown tokenizer method "nope"/);
    expect(() => createTokenizer('rqkmeans', { fitSample: -3 })).toThrow('`fitSample` must be "auto"');
    expect(createTokenizer('rqkmeans', { fitSample: 0 }).config).toMatchObject({ fitSample: 'all' });
    const tok = createTokenizer('rqkmeans', { levels: 1, codebookSize: 4 });
    await tok.fit(blobs(50, 6, 4), { silent: true });
    expect(() => tok.encode(blobs(5, 7, 2))).toThrow(/dimension 7 does not match the tokenizer's input dimension 6/);
    const bad = blobs(10, 6, 2);
    bad.data[13] = NaN;
    expect(() => tok.encode(bad)).toThrow(/row 2 column 1 is NaN/);
    dispose(tok);
  });
});

describe('residual loop on JS rows (fitResidualRows)', () => {
  it('fits the same codebooks as the tensor loop (fitResidual), in blocks that do not divide the rows, leaking no tensors', async () => {
    const x = blobs(1003, 12, 5, 2, 0.3);
    const fitWith = (rng: ReturnType<typeof makeRng>) => (data: Float32Array, level: number) => {
      const r = kmeans({ rows: x.rows, dim: x.dim, data }, 8 + level, { iterations: 6 }, rng);
      return new Codebook(tf.tensor2d(r.centroids, [8 + level, x.dim]));
    };
    const before = tf.memory().numTensors;
    const input = tf.tensor2d(x.data, [x.rows, x.dim]);
    const viaTensor = fitWith(makeRng(3));
    const a = (await fitResidual(input, 3, (residual, level) => viaTensor(residual.dataSync() as Float32Array, level))) as Codebook[];
    input.dispose();
    const viaRows = fitWith(makeRng(3));
    const b = (await fitResidualRows(x, 3, (residual, level) => viaRows(residual.data, level), 100)) as Codebook[];
    for (let l = 0; l < 3; l++) expect(Array.from(b[l].table.dataSync())).toEqual(Array.from(a[l].table.dataSync()));
    expect(Array.from(x.data.subarray(0, 5))).toEqual(Array.from(blobs(1003, 12, 5, 2, 0.3).data.subarray(0, 5))); // input untouched
    [...a, ...b].forEach((c) => c.table.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});

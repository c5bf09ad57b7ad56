// The pipeline path every method goes through: fit -> TOKDIR -> readItemCodes / encodeItems / report,
// including a toy method registered from this test file (the registry is the only extension point).
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../seq2seq/backend/index.js';
import { encodeItems, fitTokenizer, readItemCodes, tokenizerReport } from '../../pipelines/tokenize.js';
import { registerTokenizer, type EmbeddingMatrix, type ItemTokenizer, type SemanticIds } from '../../tokenizer/index.js';
import { blobs } from './helpers.js';
import { host, lockPath } from '../../tokenizer/io/index.js';

/** Toy method: the sign of each of the first `levels` dims (2 codes per position). */
class SignTokenizer implements ItemTokenizer {
  readonly method = 'sign';
  readonly config: { levels: number; dim?: number };
  constructor(config: Record<string, unknown>) { this.config = { levels: Number(config.levels ?? 2) }; }
  get levels() { return new Array<number>(this.config.levels).fill(2); }
  async fit(x: EmbeddingMatrix) {
    this.config.dim = x.dim;
    return { method: this.method, items: x.rows, dim: x.dim, seconds: 0, reconstruction: 0, relativeReconstruction: 0 };
  }
  encode(x: EmbeddingMatrix): SemanticIds {
    const L = this.config.levels;
    const codes = new Int32Array(x.rows * L);
    for (let r = 0; r < x.rows; r++) for (let l = 0; l < L; l++) codes[r * L + l] = x.data[r * x.dim + l] > 0 ? 1 : 0;
    return { levels: this.levels, codes };
  }
  decode(ids: SemanticIds): EmbeddingMatrix {
    const w = ids.levels.length;
    const rows = ids.codes.length / w;
    const dim = this.config.dim!;
    const data = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) for (let l = 0; l < this.config.levels; l++) data[r * dim + l] = ids.codes[r * w + l] ? 1 : -1;
    return { rows, dim, data };
  }
  async save(dir: string) { await writeFile(join(dir, 'sign.txt'), 'no state\n'); }
}

registerTokenizer('sign', {
  description: 'toy: sign of the first dims',
  create: (config) => new SignTokenizer(config),
  load: async (_dir, config) => new SignTokenizer(config),
});

let dir: string;
beforeAll(async () => {
  await initBackend({ quiet: true });
  dir = await mkdtemp(join(tmpdir(), 'semid-tokpipe-'));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('tokenize pipeline', () => {
  it('runs a method registered from outside tokenizer/ through fit, codes, report and cold-start encode', async () => {
    const x = blobs(40, 4, 3, 9);
    const out = join(dir, 'sign');
    const { report } = await fitTokenizer({ matrix: x, method: 'sign', config: { levels: 2 }, dedupSize: 40, out, silent: true });
    const manifest = JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8'));
    expect(manifest).toMatchObject({ method: 'sign', levels: [2, 2, 40], disambiguation: true });
    const ids = await readItemCodes(out);
    expect(ids.levels).toEqual([2, 2, 40]);
    expect(ids.codes.length).toBe(40 * 3);
    const keys = new Set(Array.from({ length: 40 }, (_, r) => Array.from(ids.codes.subarray(r * 3, r * 3 + 3)).join(',')));
    expect(keys.size).toBe(40);
    expect(report.levels[0]).toMatchObject({ size: 2 });
    const saved = await tokenizerReport(out);
    expect(saved).toMatchObject({ distinctIds: report.distinctIds, collisionRate: report.collisionRate, maxBucket: report.maxBucket });

    // Cold start: 10 more items; the first 40 keep their IDs, new ones take free disambiguation codes.
    const more = blobs(50, 4, 3, 9);
    more.data.set(x.data);
    const enc = await encodeItems({ tokDir: out, matrix: more, silent: true });
    expect(enc).toMatchObject({ kept: 40, added: 10, drifted: 0 });
    const after = await readItemCodes(out);
    expect(Array.from(after.codes.subarray(0, 120))).toEqual(Array.from(ids.codes));
    const all = new Set(Array.from({ length: 50 }, (_, r) => Array.from(after.codes.subarray(r * 3, r * 3 + 3)).join(',')));
    expect(all.size).toBe(50);
    // Re-encoding the same items again changes nothing.
    await encodeItems({ tokDir: out, matrix: more, silent: true });
    expect(Array.from((await readItemCodes(out)).codes)).toEqual(Array.from(after.codes));
    // Another live run holding TOKDIR's lock: encode refuses, naming it, and TOKDIR is untouched.
    const holder = { pid: process.ppid, host: host(), startedAt: new Date(0).toISOString(), command: 'semid tokenize fit other' };
    await writeFile(lockPath(out), JSON.stringify(holder));
    try {
      await expect(encodeItems({ tokDir: out, matrix: blobs(60, 4, 3, 9), silent: true }))
        .rejects.toThrow(`${out} is in use by another semid run (pid ${process.ppid}`);
      expect(Array.from((await readItemCodes(out)).codes)).toEqual(Array.from(after.codes));
    } finally {
      await rm(lockPath(out));
    }
    // --out a directory, or onto an input: refused before any work.
    await expect(encodeItems({ tokDir: out, matrix: more, out: dir, silent: true })).rejects.toThrow(`--out ${dir} is a directory`);
  });

  it('fails clearly when a bucket exceeds --dedup-size, leaving no TOKDIR', async () => {
    const out = join(dir, 'overflow');
    await expect(fitTokenizer({ matrix: blobs(40, 4, 3, 9), method: 'sign', config: { levels: 1 }, dedupSize: 4, out, silent: true }))
      .rejects.toThrow(/items share the codes .* more than the disambiguation range of 4/);
    await expect(readFile(join(out, 'tokenizer.json'))).rejects.toThrow();
  });

  it('rqvae fits a tiny set without collapsing and round-trips through TOKDIR (no tensor leaks)', async () => {
    const x = blobs(600, 24, 20, 11, 0.3);
    const out = join(dir, 'rqvae');
    const before = tf.memory().numTensors;
    const { report, ids } = await fitTokenizer({
      matrix: x, method: 'rqvae', out, silent: true, seed: 2, dedupSize: 128,
      config: { levels: 2, codebookSize: 16, hidden: [32], latentDim: 8, epochs: 8, batchSize: 128, learningRate: 3e-3 },
    });
    expect(report.levels[0].used).toBeGreaterThanOrEqual(14);
    expect(report.curve).toHaveLength(8);
    expect(report.curve![7].reconstruction).toBeLessThan(report.curve![0].reconstruction);
    expect(tf.memory().numTensors).toBe(before);
    const enc = await encodeItems({ tokDir: out, matrix: x, silent: true });
    expect(enc).toMatchObject({ kept: 600, added: 0, drifted: 0 });
    expect(Array.from((await readItemCodes(out)).codes)).toEqual(Array.from(ids.codes));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('imports fixed IDs from a sids JSON and places a new item next to its nearest neighbour', async () => {
    const src = join(dir, 'sids.json');
    await writeFile(src, JSON.stringify({ 0: ['<a_1>', '<b_2>'], 1: ['<a_1>', '<b_2>'], 2: ['<a_0>', '<b_5>'] }));
    const x = blobs(3, 4, 3, 1, 0.01);
    const out = join(dir, 'fixed');
    const { report } = await fitTokenizer({ matrix: x, method: 'fixed', from: src, out, silent: true });
    expect(report).toMatchObject({ distinctIds: 2, maxBucket: 2 });
    const ids = await readItemCodes(out);
    expect(ids.levels).toEqual([2, 6, 6]);
    expect(Array.from(ids.codes)).toEqual([1, 2, 0, 1, 2, 1, 0, 5, 0]);
    const more: EmbeddingMatrix = { rows: 4, dim: 4, data: new Float32Array(16) };
    more.data.set(x.data);
    more.data.set(x.data.subarray(8, 12), 12);
    await encodeItems({ tokDir: out, matrix: more, silent: true });
    expect(Array.from((await readItemCodes(out)).codes.subarray(9))).toEqual([0, 5, 1]);
    await writeFile(src, JSON.stringify({ 0: ['<a_1>'], 1: ['<b_1>'] }));
    await expect(fitTokenizer({ matrix: blobs(2, 4, 1), method: 'fixed', from: src, out, silent: true })).rejects.toThrow(/token "<b_1>" belongs to position 1/);
  });
});

// RQ-VAE's domain-contrastive term (GMC) and the per-domain code report: on generated two-domain embeddings whose
// cluster structure is shared by both domains (a weak domain offset on two dimensions), weight 0 gives first-level
// codes that both domains use; weight 10 separates the domains from the first code on. Measured here, not assumed.
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../seq2seq/backend/index.js';
import { fitTokenizer, tokenizerReport } from '../../pipelines/tokenize.js';
import { domainCodeReport, formatReport, RqVaeTokenizer, type EmbeddingMatrix } from '../../tokenizer/index.js';
import { domainContrastiveLoss } from '../../tokenizer/rqVae.js';

let root: string;
beforeAll(async () => {
  await initBackend({ quiet: true });
  root = await mkdtemp(join(tmpdir(), 'semid-domain-contrastive-'));
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

/** 8 shared clusters in 16 dims; domain 0 shifted by -1 and domain 1 by +1 on the first two dims (seeded). */
function twoDomains(perDomain: number, seed: number): { x: EmbeddingMatrix; labels: Int32Array } {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const dim = 16;
  const centres = Array.from({ length: 8 }, () => Array.from({ length: dim }, () => 2 * gauss()));
  const rows = 2 * perDomain;
  const data = new Float32Array(rows * dim);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const d = r < perDomain ? 0 : 1;
    labels[r] = d;
    const c = centres[Math.floor(rnd() * 8)];
    for (let j = 0; j < dim; j++) data[r * dim + j] = c[j] + 0.5 * gauss() + (j < 2 ? (d ? 1 : -1) : 0);
  }
  return { x: { rows, dim, data }, labels };
}

describe('domain code report', () => {
  test('counts codes per domain and first-level codes shared between domains (small exact case)', () => {
    // 4 items, 2 positions + dedup: domain a uses first codes {0, 1}, domain b {1, 2}: code 1 is shared.
    const ids = { levels: [4, 4, 4], codes: Int32Array.from([0, 0, 0, 1, 2, 0, 1, 3, 1, 2, 2, 0]) };
    const r = domainCodeReport(ids, 2, Int32Array.from([0, 0, 1, 1]), ['a', 'b']);
    expect(r).toEqual({
      domains: [{ name: 'a', items: 2, usedPerLevel: [2, 2] }, { name: 'b', items: 2, usedPerLevel: [2, 2] }],
      firstLevelCodes: 3, sharedFirstLevel: 1, itemsInSharedFirstLevel: 0.5, pairs: [{ a: 'a', b: 'b', shared: 1 }],
    });
    expect(() => domainCodeReport(ids, 2, Int32Array.from([0, 0, 2, 1]), ['a', 'b'])).toThrow('item 2 has domain 2, outside [0, 2)');
  });

  test('the InfoNCE term is lower when domains are apart than when they are mixed, and leaks no tensors', () => {
    const labels = Int32Array.from([0, 0, 1, 1]);
    const before = tf.memory().numTensors;
    const apart = tf.tidy(() => domainContrastiveLoss(tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]), labels, 0.2).dataSync()[0]);
    const mixed = tf.tidy(() => domainContrastiveLoss(tf.tensor2d([[1, 0], [0, 1], [0.9, 0.1], [0.1, 0.9]]), labels, 0.2).dataSync()[0]);
    expect(tf.memory().numTensors).toBe(before);
    expect(apart).toBeLessThan(0.1);
    expect(mixed).toBeGreaterThan(2);
  });
});

describe('rqvae --domain-contrastive', () => {
  test('lowers the first-level codes two domains share, compared with weight 0 (same data, seed, schedule)', async () => {
    const { x, labels } = twoDomains(160, 5);
    const shared: Record<string, number> = {};
    for (const weight of [0, 10]) {
      const out = join(root, `w${weight}`);
      const config = { levels: 2, codebookSize: 8, hidden: [32], latentDim: 8, epochs: 60, batchSize: 64, domainContrastive: weight, temperature: 0.2 };
      const { report } = await fitTokenizer({ matrix: x, domains: { labels, names: ['office', 'science'] }, method: 'rqvae', config, dedupSize: 64, seed: 1, out, silent: true });
      expect(report.domains!.domains.map((d) => d.items)).toEqual([160, 160]);
      shared[weight] = report.domains!.itemsInSharedFirstLevel;
      // The report keeps the section (semid tokenize report) and prints it.
      expect((await tokenizerReport(out)).domains).toEqual(report.domains);
      expect(formatReport(report)).toContain('shared first-level codes');
      const saved = JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8')) as { config: { domainContrastive: number } };
      expect(saved.config.domainContrastive).toBe(weight);
    }
    expect(shared[0]).toBeGreaterThan(0.8); // the clusters, not the domains, decide the first code
    expect(shared[10]).toBeLessThan(shared[0] / 2);
  });

  test('needs the items\' domains; the temperature must be > 0', async () => {
    const { x } = twoDomains(40, 1);
    const tok = new RqVaeTokenizer({ levels: 2, codebookSize: 4, hidden: [8], latentDim: 4, epochs: 1, batchSize: 16, domainContrastive: 1 });
    await expect(tok.fit(x, { silent: true })).rejects.toThrow('`domainContrastive` needs the items\' domains');
    tok.dispose();
    expect(() => new RqVaeTokenizer({ temperature: 0 })).toThrow('`temperature` must be > 0, got 0');
  });
});

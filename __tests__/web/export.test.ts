// `semid export` in Node: the catalog file round-trips (and rejects damaged files by name), the portable
// SHA-256 equals node:crypto's, and the browser build's `load`/`recommend` (the same module the page
// bundles), fed the export folder from disk, gives exactly `semid recommend`'s top 10.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { PrefixTrie } from '../../decoding/index.js';
import { generateDataset, readDataset } from '../../pipelines/data/index.js';
import { decodeCatalog, encodeCatalog, exportWeb, serveStatic } from '../../pipelines/web/index.js';
import { load } from '../../pipelines/web/browser.js';
import { sha256HexPortable } from '../../seq2seq/sha256.js';
import { buildTinyRun, semidRecommend, type TinyRun } from './tinyRun.js';

const fileFetch = async (url: string) => {
  const bytes = await readFile(fileURLToPath(url)).catch(() => null);
  return {
    ok: bytes !== null, status: bytes ? 200 : 404,
    arrayBuffer: async () => bytes!.buffer.slice(bytes!.byteOffset, bytes!.byteOffset + bytes!.byteLength) as ArrayBuffer,
    text: async () => bytes!.toString('utf8'),
  };
};

describe('portable sha256', () => {
  it('equals node:crypto at every block boundary', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 70_001]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
      expect(sha256HexPortable(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });
});

describe('catalog.bin', () => {
  // 3 positions; items 4 and 5 share an ID (a leaf with two items); level 2 has 300 codes (2-byte values).
  const levels = [4, 3, 300];
  const codes = Int32Array.from([0, 0, 5, 0, 1, 299, 3, 2, 0, 0, 0, 6, 2, 1, 7, 2, 1, 7]);
  const trie = PrefixTrie.build({ levels, codes });

  it('round-trips the codes and the trie', () => {
    const back = decodeCatalog(encodeCatalog({ levels, codes, trie }));
    expect(back.levels).toEqual(levels);
    expect(Array.from(back.codes)).toEqual(Array.from(codes));
    for (const key of ['nodeCount', 'leafItemStart', 'leafItems', 'itemLeaf'] as const) expect(Array.from(back.trie[key])).toEqual(Array.from(trie[key]));
    for (const key of ['childStart', 'childCode', 'parent', 'subtreeItems'] as const) {
      expect(back.trie[key].map((a) => Array.from(a))).toEqual(trie[key].map((a) => Array.from(a)));
    }
    expect(Array.from(back.trie.itemsAt([2, 1, 7]))).toEqual([4, 5]);
    expect(back.trie.lookup([0, 2])).toBe(-1);
  });

  it('rejects damaged files, naming the part', () => {
    const bytes = encodeCatalog({ levels, codes, trie });
    expect(() => decodeCatalog(bytes.slice(0, 40), 'x.bin')).toThrow(/^x\.bin: (ends before|section .* needs)/);
    const wrongMagic = bytes.slice();
    wrongMagic[0] = 0;
    expect(() => decodeCatalog(wrongMagic, 'x.bin')).toThrow('x.bin: not a semid catalog file');
    // Another catalog's trie with these codes: the first item's codes differ from where the trie puts it.
    const other = encodeCatalog({ levels, codes: Int32Array.from(codes).fill(1, 0, 1), trie });
    expect(() => decodeCatalog(other, 'x.bin')).toThrow(/x\.bin: the trie puts item 0 at \(0, 0, 5\), its codes differ/);
  });
});

describe('semid export (Node)', () => {
  let dir: string;
  let run: TinyRun;
  beforeAll(async () => {
    process.env.SEMID_QUIET = '1';
    dir = await mkdtemp(join(tmpdir(), 'semid-web-'));
    run = await buildTinyRun(dir);
  });
  afterAll(async () => {
    delete process.env.SEMID_QUIET;
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a static folder: page, bundle, model, catalog, items, wasm binaries, and a manifest with sizes', async () => {
    const files = [...await readdir(run.web)].sort();
    expect(files).toEqual(['catalog.bin', 'index.html', 'items.json', 'manifest.json', 'model.json', 'semid.js', 'wasm', 'weights.bin']);
    expect((await readdir(join(run.web, 'wasm'))).sort()).toEqual(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm']);
    const manifest = run.exported.manifest;
    const dataset = await readDataset(run.data);
    expect(manifest.items).toBe(dataset.items.keys.length);
    const items = JSON.parse(await readFile(join(run.web, 'items.json'), 'utf8')) as { keys: string[]; texts: string[] };
    expect(items.keys).toEqual(dataset.items.keys);
    expect(items.texts).toEqual(dataset.items.texts);
    // The weights are the trained model's, byte for byte.
    expect(await readFile(join(run.web, 'weights.bin'))).toEqual(await readFile(join(run.model, 'weights.bin')));
    expect(run.exported.totalBytes).toBe(Object.values(manifest.bytes).reduce((a, b) => a + b, 0));
    expect(run.exported.gzipBytes).toBeLessThan(run.exported.totalBytes);
    // Node built-ins are stubbed, not imported: a browser could not resolve `node:` modules.
    const bundle = await readFile(join(run.web, 'semid.js'), 'utf8');
    expect(bundle).not.toMatch(/(from|import) ?\(?["']node:/);
    expect(bundle).toContain('is not available in the browser build of semid');
  });

  it('the browser module, loaded from the folder, gives `semid recommend`\'s top 10', async () => {
    const dataset = await readDataset(run.data);
    const semid = await load(pathToFileURL(run.web).href, { backend: 'current', fetch: fileFetch });
    for (const user of [0, 7]) {
      const seq = dataset.sequences.items[user];
      const history = Array.from(seq.subarray(Math.max(0, seq.length - 3)), (i) => dataset.items.keys[i]);
      const expected = await semidRecommend(run, dir, history);
      const before = tf.memory().numTensors;
      const got = await semid.recommend(history, { topK: 10, beam: 20 });
      expect(tf.memory().numTensors).toBe(before);
      expect(got.map((r) => r.key)).toEqual(expected.keys);
      got.forEach((r, i) => expect(Math.abs(r.score - expected.scores[i])).toBeLessThan(1e-4));
      expect(got[0].text).toBe(dataset.items.texts[got[0].item]);
    }
    expect(await semid.recommend([])).toEqual([]);
    await expect(semid.recommend(['no-such-item'])).rejects.toThrow('unknown item key "no-such-item": not in this export\'s catalog');
    await expect(semid.recommend([dataset.items.keys[0]], { topK: 10, beam: 5 })).rejects.toThrow('`beam` must be an integer >= 10, got 5');
    semid.dispose();
  });

  it('serves the folder on 127.0.0.1 with the types browsers need, and nothing outside it', async () => {
    const server = await serveStatic(run.runDir);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(`${server.url}web/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toContain("import { load } from './semid.js'");
      expect((await fetch(`${server.url}web/wasm/tfjs-backend-wasm-simd.wasm`)).headers.get('content-type')).toBe('application/wasm');
      expect((await fetch(`${server.url}web/nothing.js`)).status).toBe(404);
      expect((await fetch(`${server.url}web/%E0%A4%A`)).status).toBe(400);
      expect((await fetch(`${server.url}web/index.html`, { method: 'POST' })).status).toBe(405);
      await expect(serveStatic(run.runDir, { port: server.port })).rejects.toThrow(`cannot serve on 127.0.0.1:${server.port}: EADDRINUSE (another --port?)`);
    } finally {
      await server.close();
    }
  });

  it('refuses a data set of another catalog, naming both inputs; leaves no folder behind', async () => {
    const other = join(dir, 'other-data');
    await generateDataset(other, { users: 100, items: 90, seed: 9 });
    const out = join(dir, 'web-other');
    await expect(exportWeb({ data: other, tokenizer: run.tokenizer, model: run.model, out }))
      .rejects.toThrow(`the tokenizer ${run.tokenizer} has codes for ${run.exported.manifest.items} items but the data set ${other} has 90`);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });
});

// The data set directory and embeddings files: round trip, atomic replace, validation errors.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Items, Sequences } from '../../pipelines/data/index.js';
import { readDataset, readEmbeddings, readEmbeddingsMeta, writeDataset, writeEmbeddings } from '../../pipelines/data/index.js';

let root: string;
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'semid-dataset-')); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

function sample(): { items: Items; sequences: Sequences } {
  return {
    items: { keys: ['A', 'B', 'C'], texts: ['apple | Acme', 'banana', 'cherry'], categories: [['Food', 'Fruit'], [], ['Food']] },
    sequences: {
      userKeys: ['u1', 'u2'],
      items: [new Int32Array([0, 1, 2, 1]), new Int32Array([2, 0])],
      timestamps: [new Float64Array([1, 2, 2, 5]), new Float64Array([10, 11])],
    },
  };
}

describe('data set directory', () => {
  test('writeDataset then readDataset gives the same data and a manifest with counts', async () => {
    const dir = join(root, 'd1');
    const manifest = await writeDataset(dir, { ...sample(), source: { format: 'test' }, skipped: { 'bad line': 2 } });
    expect(manifest).toMatchObject({ users: 2, items: 3, interactions: 6, source: { format: 'test' }, skipped: { 'bad line': 2 } });
    const ds = await readDataset(dir);
    expect(ds.items).toEqual(sample().items);
    expect(ds.sequences).toEqual(sample().sequences);
    expect(ds.manifest).toEqual(manifest);
    expect((await readdir(dir)).sort()).toEqual(['.semid.json', 'items.parquet', 'manifest.json', 'sequences.parquet']);
  });

  test('without timestamps the column is absent and reads back as null', async () => {
    const dir = join(root, 'd2');
    const { items, sequences } = sample();
    await writeDataset(dir, { items, sequences: { ...sequences, timestamps: null }, source: {} });
    expect((await readDataset(dir)).sequences.timestamps).toBeNull();
  });

  test('a new write replaces the data set, embeddings included, and leaves no temp files', async () => {
    const dir = join(root, 'd3');
    await writeDataset(dir, { ...sample(), source: { v: 1 } });
    await writeEmbeddings(dir, 'default', { rows: 3, dim: 2, data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    await writeDataset(dir, { ...sample(), source: { v: 2 } });
    expect((await readDataset(dir)).manifest.source).toEqual({ v: 2 });
    expect(await readdir(dir)).not.toContain('embeddings');
    expect((await readdir(root)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  test('invalid content is refused before anything is written', async () => {
    const dir = join(root, 'd4');
    const bad = sample();
    bad.sequences.items[1] = new Int32Array([2, 7]);
    await expect(writeDataset(dir, { ...bad, source: {} })).rejects.toThrow('user "u2" (id 1) position 1: item id 7 is not in the catalog [0, 3)');
    const dup = sample();
    dup.items.keys[2] = 'A';
    await expect(writeDataset(dir, { ...dup, source: {} })).rejects.toThrow('duplicate item key "A" (ids 0 and 2)');
    const empty = sample();
    empty.sequences.items[0] = new Int32Array([]);
    empty.sequences.timestamps = null;
    await expect(writeDataset(dir, { ...empty, source: {} })).rejects.toThrow('user "u1" (id 0) has an empty history');
    await expect(readdir(dir)).rejects.toThrow();
  });

  test('a directory that is not a data set, and a manifest that disagrees with the files', async () => {
    await expect(readDataset(join(root, 'none'))).rejects.toThrow(/not a semid data set \(no manifest\.json\)/);
    const dir = join(root, 'd5');
    await writeDataset(dir, { ...sample(), source: {} });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ users: 2, items: 4, interactions: 6 }));
    await expect(readDataset(dir)).rejects.toThrow(/manifest\.json says 2 users, 4 items, 6 interactions, but the Parquet files hold 2, 3, 6/);
  });
});

describe('embeddings', () => {
  test('round trip with metadata', async () => {
    const dir = join(root, 'e1');
    await writeDataset(dir, { ...sample(), source: {} });
    const data = Float32Array.from({ length: 3 * 4 }, (_, i) => Math.sin(i));
    await writeEmbeddings(dir, 'minilm', { rows: 3, dim: 4, data }, { model: 'test-model' });
    expect(await readEmbeddings(dir, 'minilm')).toEqual({ rows: 3, dim: 4, data });
    expect(await readEmbeddingsMeta(dir, 'minilm')).toMatchObject({ model: 'test-model', rows: 3, dim: 4 });
  });

  test('clear errors: wrong row count, NaN, missing, bad name', async () => {
    const dir = join(root, 'e2');
    await writeDataset(dir, { ...sample(), source: {} });
    await expect(writeEmbeddings(dir, 'x', { rows: 2, dim: 1, data: new Float32Array(2) })).rejects.toThrow('2 embedding rows but the data set has 3 items');
    await expect(writeEmbeddings(dir, 'x', { rows: 3, dim: 1, data: new Float32Array([0, NaN, 1]) })).rejects.toThrow('embedding of item 1 has NaN at dimension 0');
    await expect(readEmbeddings(dir, 'absent')).rejects.toThrow(/no embeddings named "absent"/);
    await expect(readEmbeddings(dir, '../x')).rejects.toThrow(/embedding name must be/);
    // A data set re-written with fewer items makes old embeddings detectably stale.
    await writeEmbeddings(dir, 'default', { rows: 3, dim: 1, data: new Float32Array([0, 1, 2]) });
    const manifestPath = join(dir, 'manifest.json');
    await writeFile(manifestPath, JSON.stringify({ users: 2, items: 5, interactions: 6 }));
    await expect(readEmbeddings(dir)).rejects.toThrow('3 embedding rows but the data set has 5 items');
  });
});

// `embed import`: every format, and every way the input can be wrong.
import { readFile, writeFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  fixedSizeListVector, float64ListVector, int32Vector, makeTable, readEmbeddings, readEmbeddingsMeta, utf8Vector, writeParquetTable,
} from '../../pipelines/data/index.js';
import { importEmbeddings } from '../../pipelines/embed/index.js';
import { parseNpy, toNpy } from '../../pipelines/embed/npy.js';
import { fixtureItems, writeFixtureDataset } from './fixtures.js';

const items = fixtureItems();
const n = items.keys.length;
const dim = 4;
/** Item i's vector: distinct and easy to check. */
const vec = (i: number) => [i, i + 0.5, -(i + 1), 1];

let data: string;
let work: string;
beforeAll(async () => {
  data = await writeFixtureDataset();
  work = dirname(data);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function jsonl(name: string, lines: string[]): Promise<string> {
  const path = join(work, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

async function expectImported(from: string, extra: Record<string, unknown> = {}, order = Array.from({ length: n }, (_, i) => i)) {
  const r = await importEmbeddings({ data, from, ...extra });
  expect(r.matched.rows).toBe(n);
  expect(r.matched.dim).toBe(dim);
  const m = await readEmbeddings(data);
  for (const i of order) expect(Array.from(m.data.subarray(i * dim, (i + 1) * dim))).toEqual(vec(i));
  return r;
}

describe('importEmbeddings: formats', () => {
  it('JSONL with string keys, in any order', async () => {
    const lines = items.keys.map((key, i) => JSON.stringify({ key, embedding: vec(i) })).reverse();
    const r = await expectImported(await jsonl('v.jsonl', lines));
    expect(r.matched.format).toBe('jsonl');
    expect(r.matched.keyColumn).toBe('key');
    expect(r.reportPath).toMatch(/default\.report\.json$/);
    const report = JSON.parse(await readFile(r.reportPath, 'utf8'));
    expect(report.dim).toBe(dim);
    expect((await readEmbeddingsMeta(data)).method).toBe('import');
  });

  it('Parquet fixed_size_list<float32> and list<float64>, with key and item_id columns', async () => {
    const order = Array.from({ length: n }, (_, i) => (i * 7) % n); // a permutation (gcd(7, 36) = 1)
    const fixed = join(work, 'fixed.parquet');
    await writeParquetTable(fixed, makeTable({
      key: utf8Vector(order.map((i) => items.keys[i])),
      embedding: fixedSizeListVector(Float32Array.from(order.flatMap(vec)), dim),
    }));
    expect((await expectImported(fixed)).matched.format).toBe('parquet');
    const list = join(work, 'list.parquet');
    await writeParquetTable(list, makeTable({
      item_id: int32Vector(Int32Array.from(order)),
      vector: float64ListVector(order.map((i) => Float64Array.from(vec(i)))),
    }));
    const r = await expectImported(list, { embeddingColumn: 'vector' });
    expect(r.matched.keyColumn).toBe('item_id');
  });

  it('.npy float32 and float64 in item order, and rows matched by a keys file', async () => {
    const f4 = join(work, 'v4.npy');
    await writeFile(f4, toNpy(Float32Array.from(items.keys.flatMap((_, i) => vec(i))), n, dim));
    expect((await expectImported(f4)).matched.format).toBe('npy');
    const f8 = join(work, 'v8.npy');
    const reversed = items.keys.map((_, i) => n - 1 - i);
    await writeFile(f8, toNpy(Float64Array.from(reversed.flatMap(vec)), n, dim));
    const keys = join(work, 'v8.keys.txt');
    await writeFile(keys, `${reversed.map((i) => items.keys[i]).join('\n')}\n`);
    await expectImported(f8, { keys });
  });

  it('.npy parser reads Fortran order, big-endian and version 2 headers', () => {
    const header = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }";
    const padded = header + ' '.repeat(64 - ((12 + header.length + 1) % 64)) + '\n';
    const bytes = new Uint8Array(12 + padded.length + 48);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    new DataView(bytes.buffer).setUint32(8, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 12);
    const view = new DataView(bytes.buffer, 12 + padded.length);
    [1, 4, 2, 5, 3, 6].forEach((v, i) => view.setFloat64(8 * i, v, false)); // columns of [[1,2,3],[4,5,6]]
    const m = parseNpy(bytes, 'x.npy');
    expect([m.rows, m.dim, m.dtype]).toEqual([2, 3, 'float64']);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseNpy(new TextEncoder().encode('hello world!'), 'x.npy')).toThrow('x.npy: not a .npy file');
  });
});

describe('importEmbeddings: bad input names the key and the problem', () => {
  const good = () => items.keys.map((key, i) => ({ key, embedding: vec(i) as unknown[] }));
  const write = (rows: object[], name = 'bad.jsonl') => jsonl(name, rows.map((r) => JSON.stringify(r)));

  it('wrong dimension', async () => {
    const rows = good();
    rows[5].embedding = [1, 2, 3];
    await expect(importEmbeddings({ data, from: await write(rows) })).rejects.toThrow(
      `line 6 (key "${items.keys[5]}"): the embedding has 3 dimensions, but earlier ones have 4`);
  });

  it('NaN and Infinity (.npy, and JSONL as Python writes them), null, and strings', async () => {
    const values = Float32Array.from(items.keys.flatMap((_, i) => vec(i)));
    values[7 * dim + 2] = NaN;
    const npy = join(work, 'nan.npy');
    await writeFile(npy, toNpy(values, n, dim));
    await expect(importEmbeddings({ data, from: npy })).rejects.toThrow(`row 7 (key "7"): dimension 2 is NaN`);
    const path = await jsonl('nan.jsonl', [`{"key": "${items.keys[0]}", "embedding": [1, NaN, 2, 3]}`]);
    await expect(importEmbeddings({ data, from: path })).rejects.toThrow(/line 1: contains NaN/);
    const rows = good();
    rows[2].embedding = [1, null, 2, 3];
    await expect(importEmbeddings({ data, from: await write(rows) })).rejects.toThrow(`line 3 (key "${items.keys[2]}"): dimension 1 is null (not a number)`);
    rows[2].embedding = [1, 2, 1e300, 3];
    await expect(importEmbeddings({ data, from: await write(rows) })).rejects.toThrow(/dimension 2 is 1e\+300 \(beyond float32 range\)/);
  });

  it('missing keys, or the mean vector with --allow-missing', async () => {
    const rows = good().filter((_, i) => i !== 3 && i !== 10);
    const from = await write(rows);
    await expect(importEmbeddings({ data, from })).rejects.toThrow(
      `2 of ${n} items have no vector (missing keys: "${items.keys[3]}", "${items.keys[10]}"); pass --allow-missing`);
    const r = await importEmbeddings({ data, from, allowMissing: true });
    expect(r.matched.filled).toBe(2);
    expect(r.matched.filledKeys).toEqual([items.keys[3], items.keys[10]]);
    expect(r.report.source.filled).toBe(2);
    const m = await readEmbeddings(data);
    const present = items.keys.map((_, i) => i).filter((i) => i !== 3 && i !== 10);
    for (let d = 0; d < dim; d++) {
      const mean = present.reduce((s, i) => s + vec(i)[d], 0) / present.length;
      expect(m.data[3 * dim + d]).toBeCloseTo(mean, 5);
      expect(m.data[10 * dim + d]).toBeCloseTo(mean, 5);
    }
  });

  it('duplicate keys', async () => {
    const rows = good();
    rows.push({ key: items.keys[4], embedding: vec(4) });
    await expect(importEmbeddings({ data, from: await write(rows) })).rejects.toThrow(
      `line ${n + 1} (key "${items.keys[4]}"): duplicate key: item "${items.keys[4]}" already got a vector at line 5`);
  });

  it('unknown keys, or skipped and counted with --ignore-unknown', async () => {
    const rows = [...good(), { key: 'NOPE', embedding: vec(0) }];
    const from = await write(rows);
    await expect(importEmbeddings({ data, from })).rejects.toThrow(/line 37: key "NOPE" is not an item of the data set \(item keys look like "N000", "S000", "H000"\)/);
    const r = await importEmbeddings({ data, from, ignoreUnknown: true });
    expect(r.matched.unknown).toBe(1);
    const ids = join(work, 'ids.parquet');
    await writeParquetTable(ids, makeTable({ item_id: int32Vector(Int32Array.from([0, n])), embedding: fixedSizeListVector(new Float32Array(2 * dim), dim) }));
    await expect(importEmbeddings({ data, from: ids })).rejects.toThrow(`row 1: item_id ${n} is not an item id of the data set (0..${n - 1})`);
  });

  it('wrong shapes and files: row count, key column, column type, extension', async () => {
    const npy = join(work, 'short.npy');
    await writeFile(npy, toNpy(new Float32Array(3 * dim), 3, dim));
    await expect(importEmbeddings({ data, from: npy })).rejects.toThrow(`3 rows but the data set has ${n} items; without --keys, row r must be item r`);
    const noKey = join(work, 'nokey.parquet');
    await writeParquetTable(noKey, makeTable({ asin: utf8Vector(['x']), embedding: fixedSizeListVector(new Float32Array(dim), dim) }));
    await expect(importEmbeddings({ data, from: noKey })).rejects.toThrow(/no key column \(looked for key, item_key, item_id\); columns: asin: Utf8/);
    const badType = join(work, 'badtype.parquet');
    await writeParquetTable(badType, makeTable({ key: utf8Vector(['x']), embedding: utf8Vector(['1,2']) }));
    await expect(importEmbeddings({ data, from: badType })).rejects.toThrow('column "embedding" must be fixed_size_list<float32> or list<float>, got Utf8');
    await expect(importEmbeddings({ data, from: join(work, 'v.csv') })).rejects.toThrow('unknown embeddings format ".csv"');
    await expect(importEmbeddings({ data, from: join(work, 'absent.jsonl') })).rejects.toThrow('absent.jsonl: file not found');
  });
});

// Parquet round trip of every column type the data layer uses, and the readers' checks.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import {
  fixedSizeListVector, float64ListVector, float64Vector, int32ListVector, int32Vector, makeTable, parquetToTable,
  readFixedSizeListColumn, readFloat64Column, readFloat64ListColumn, readInt32Column, readInt32ListColumn, readParquetTable,
  readUtf8Column, readUtf8ListColumn, tableToParquet, utf8ListVector, utf8Vector, writeParquetTable,
} from '../../pipelines/data/index.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'semid-parquet-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('Parquet round trip', () => {
  test('every column type comes back equal', async () => {
    const ints = new Int32Array([0, -5, 2147483647, -2147483648]);
    const floats = new Float64Array([0.5, -1e300, Number.MIN_VALUE, 3]);
    const strings = ['a', '', 'naïve — ünïcode ✓', 'x'.repeat(1000)];
    const intLists = [new Int32Array([1, 2, 3]), new Int32Array([]), new Int32Array([7]), new Int32Array([-1, 0])];
    const strLists = [['x'], [], ['', 'é'], ['a', 'b', 'c']];
    const floatLists = [new Float64Array([1.5]), new Float64Array([2, 1e9]), new Float64Array([]), new Float64Array([-0.25])];
    const emb = Float32Array.from({ length: 4 * 3 }, (_, i) => i / 7);
    const codes = Int32Array.from({ length: 4 * 2 }, (_, i) => i * 11);
    const path = join(dir, 'all.parquet');
    await writeParquetTable(path, makeTable({
      i: int32Vector(ints), f: float64Vector(floats), s: utf8Vector(strings), li: int32ListVector(intLists),
      ls: utf8ListVector(strLists), lf: float64ListVector(floatLists),
      e: fixedSizeListVector(emb, 3), c: fixedSizeListVector(codes, 2),
    }));
    const t = await readParquetTable(path);
    expect(t.numRows).toBe(4);
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'i:Int32', 'f:Float64', 's:Utf8', 'li:List<Int32>', 'ls:List<Utf8>', 'lf:List<Float64>',
      'e:FixedSizeList[3]<Float32>', 'c:FixedSizeList[2]<Int32>',
    ]);
    expect(readInt32Column(t, 'i', path)).toEqual(ints);
    expect(readFloat64Column(t, 'f', path)).toEqual(floats);
    expect(readUtf8Column(t, 's', path)).toEqual(strings);
    expect(readInt32ListColumn(t, 'li', path)).toEqual(intLists);
    expect(readUtf8ListColumn(t, 'ls', path)).toEqual(strLists);
    expect(readFloat64ListColumn(t, 'lf', path)).toEqual(floatLists);
    expect(readFixedSizeListColumn(t, 'e', path, 'float32')).toEqual({ width: 3, data: emb });
    expect(readFixedSizeListColumn(t, 'c', path, 'int32')).toEqual({ width: 2, data: codes });
  });

  test('reads stay valid after wasm memory grows (copied out)', () => {
    const small = parquetToTable(tableToParquet(makeTable({ v: int32Vector(new Int32Array([4, 5, 6])) })));
    // A large write and read grows wasm memory, which would detach zero-copy views.
    const big = Float32Array.from({ length: 2_000_000 }, (_, i) => i);
    const back = parquetToTable(tableToParquet(makeTable({ e: fixedSizeListVector(big, 100) })));
    expect(readFixedSizeListColumn(back, 'e', 'big', 'float32').data[1_999_999]).toBe(1_999_999);
    expect(readInt32Column(small, 'v', 'small')).toEqual(new Int32Array([4, 5, 6]));
  });

  test('many rows across read batches', () => {
    const n = 150_000;
    const lists = Array.from({ length: n }, (_, i) => new Int32Array([i, i + 1]));
    const t = parquetToTable(tableToParquet(makeTable({ id: int32Vector(Int32Array.from({ length: n }, (_, i) => i)), l: int32ListVector(lists) })));
    const ids = readInt32Column(t, 'id', 'x');
    const back = readInt32ListColumn(t, 'l', 'x');
    expect(ids[n - 1]).toBe(n - 1);
    expect(back[n - 1]).toEqual(new Int32Array([n - 1, n]));
    expect(back[70_000]).toEqual(new Int32Array([70_000, 70_001]));
  });
});

describe('Parquet errors name the file and the problem', () => {
  test('missing file', async () => {
    await expect(readParquetTable(join(dir, 'nope.parquet'))).rejects.toThrow(/nope\.parquet: file not found/);
  });
  test('not a Parquet file', async () => {
    const path = join(dir, 'fake.parquet');
    await writeFile(path, 'user,item\n1,2\n');
    await expect(readParquetTable(path)).rejects.toThrow(/fake\.parquet: not a Parquet file/);
  });
  test('missing column, wrong type, nulls', () => {
    const t = parquetToTable(tableToParquet(new arrow.Table({
      s: arrow.vectorFromArray(['a', null, 'c'], new arrow.Utf8()),
      n: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()),
    })));
    expect(() => readInt32Column(t, 'missing', 'f.parquet')).toThrow('f.parquet: missing column "missing" (columns: s, n)');
    expect(() => readInt32Column(t, 's', 'f.parquet')).toThrow('f.parquet: column "s" must be an integer, got Utf8');
    expect(() => readUtf8Column(t, 's', 'f.parquet')).toThrow('f.parquet: column "s" has a null at row 1');
    expect(() => readFixedSizeListColumn(t, 'n', 'f.parquet', 'float32')).toThrow(/must be fixed_size_list<float32>/);
  });
  test('unequal column lengths', () => {
    expect(() => makeTable({ a: int32Vector([1, 2]), b: int32Vector([1]) })).toThrow('columns must have equal lengths, got a=2, b=1');
  });
});

// Parquet files <-> apache-arrow Tables, through parquet-wasm (Rust's parquet crate compiled to wasm).
// Reads are copied out of wasm memory (arrow-js-ffi with copy = true): zero-copy views would detach as
// soon as wasm memory grows on the next read. Writes go Arrow IPC -> wasm -> Parquet (zstd) -> atomic file.
// Below the two file functions: column builders (typed arrays -> arrow Vectors) and column readers
// (Table -> typed arrays) that check name, type and nulls, and name the file in every error.
import { readFile } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import { parseTable } from 'arrow-js-ffi';
import * as parquet from 'parquet-wasm/node';
import { writeFileAtomic } from '../../tokenizer/io/index.js';

const PARQUET_MAGIC = 'PAR1';

export type ParquetCompression = 'zstd' | 'snappy' | 'none';

export interface WriteParquetOptions {
  /** Codec for every column (default zstd). */
  compression?: ParquetCompression;
  /** Rows per row group (default 1,000,000 rows, parquet-wasm's default). */
  rowGroupSize?: number;
}

export interface ReadParquetOptions {
  /** Read only these columns (all by default). */
  columns?: string[];
}

// ---------------------------------------------------------------------------------------------------
// Bytes <-> Table

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Parses Parquet bytes into an apache-arrow Table that lives in JS memory. `source` names the input in errors. */
export function parquetToTable(bytes: Uint8Array, source = 'Parquet buffer', options: ReadParquetOptions = {}): arrow.Table {
  const head = new TextDecoder().decode(bytes.subarray(0, 4));
  const tail = new TextDecoder().decode(bytes.subarray(Math.max(0, bytes.length - 4)));
  if (bytes.length < 12 || head !== PARQUET_MAGIC || tail !== PARQUET_MAGIC) {
    throw new Error(`${source}: not a Parquet file (it does not start and end with "PAR1"; ${bytes.length} bytes)`);
  }
  let wasmTable: parquet.Table;
  try {
    wasmTable = parquet.readParquet(bytes, { batchSize: 65536, ...(options.columns ? { columns: options.columns } : {}) });
  } catch (err) {
    throw new Error(`${source}: cannot read Parquet: ${errorText(err)}`);
  }
  const ffi = wasmTable.intoFFI();
  try {
    // Fetch the buffer after reading: reading may have grown (and so replaced) wasm memory.
    return parseTable(parquet.wasmMemory().buffer, ffi.arrayAddrs(), ffi.schemaAddr(), true);
  } finally {
    ffi.free();
  }
}

function codec(compression: ParquetCompression): parquet.Compression {
  switch (compression) {
    case 'zstd': return parquet.Compression.ZSTD;
    case 'snappy': return parquet.Compression.SNAPPY;
    case 'none': return parquet.Compression.UNCOMPRESSED;
    default: throw new Error(`Parquet compression must be one of zstd, snappy, none; got ${String(compression)}`);
  }
}

/** Serializes an apache-arrow Table to Parquet bytes. */
export function tableToParquet(table: arrow.Table, options: WriteParquetOptions = {}): Uint8Array {
  const wasmTable = parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  let builder = new parquet.WriterPropertiesBuilder().setCompression(codec(options.compression ?? 'zstd'));
  if (options.rowGroupSize !== undefined) builder = builder.setMaxRowGroupSize(options.rowGroupSize);
  // writeParquet consumes (frees) the wasm table; the returned Uint8Array is a JS copy.
  return parquet.writeParquet(wasmTable, builder.build());
}

/** Reads a Parquet file into an apache-arrow Table (copied out of wasm memory, safe to keep). */
export async function readParquetTable(path: string, options: ReadParquetOptions = {}): Promise<arrow.Table> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${errorText(err)})`);
  }
  return parquetToTable(bytes, path, options);
}

/** Writes an apache-arrow Table to a Parquet file atomically (temp name + rename). */
export async function writeParquetTable(path: string, table: arrow.Table, options: WriteParquetOptions = {}): Promise<void> {
  await writeFileAtomic(path, tableToParquet(table, options));
}

// ---------------------------------------------------------------------------------------------------
// Column builders: typed arrays -> arrow Vectors. Values are never null.

export function int32Vector(values: Int32Array | ArrayLike<number>): arrow.Vector<arrow.Int32> {
  return arrow.makeVector(values instanceof Int32Array ? values : Int32Array.from(values));
}

export function float64Vector(values: Float64Array | ArrayLike<number>): arrow.Vector<arrow.Float64> {
  return arrow.makeVector(values instanceof Float64Array ? values : Float64Array.from(values));
}

export function float32Vector(values: Float32Array | ArrayLike<number>): arrow.Vector<arrow.Float32> {
  return arrow.makeVector(values instanceof Float32Array ? values : Float32Array.from(values));
}

export function utf8Vector(values: readonly string[]): arrow.Vector<arrow.Utf8> {
  return arrow.vectorFromArray(values as string[], new arrow.Utf8());
}

function offsetsOf(lists: readonly ArrayLike<unknown>[]): Int32Array {
  const offsets = new Int32Array(lists.length + 1);
  for (let i = 0; i < lists.length; i++) offsets[i + 1] = offsets[i] + lists[i].length;
  return offsets;
}

function numericListVector<T extends arrow.Int32 | arrow.Float64>(
  lists: readonly ArrayLike<number>[], childType: T, Ctor: Int32ArrayConstructor | Float64ArrayConstructor,
): arrow.Vector<arrow.List<T>> {
  const offsets = offsetsOf(lists);
  const values = new Ctor(offsets[lists.length]);
  for (let i = 0; i < lists.length; i++) values.set(lists[i], offsets[i]);
  // apache-arrow's makeData overloads do not resolve for a generic child type; the props are checked by hand.
  const child = (arrow.makeData as (p: unknown) => arrow.Data<T>)({ type: childType, length: values.length, nullCount: 0, data: values });
  const type = new arrow.List<T>(new arrow.Field('item', childType, false));
  return arrow.makeVector(arrow.makeData({ type, length: lists.length, nullCount: 0, valueOffsets: offsets, child }));
}

export function int32ListVector(lists: readonly ArrayLike<number>[]): arrow.Vector<arrow.List<arrow.Int32>> {
  return numericListVector(lists, new arrow.Int32(), Int32Array);
}

export function float64ListVector(lists: readonly ArrayLike<number>[]): arrow.Vector<arrow.List<arrow.Float64>> {
  return numericListVector(lists, new arrow.Float64(), Float64Array);
}

export function utf8ListVector(lists: readonly string[][]): arrow.Vector<arrow.List<arrow.Utf8>> {
  const offsets = offsetsOf(lists);
  const child = utf8Vector(lists.flat()).data[0];
  const type = new arrow.List(new arrow.Field('item', new arrow.Utf8(), false));
  return arrow.makeVector(arrow.makeData({ type, length: lists.length, nullCount: 0, valueOffsets: offsets, child }));
}

/** A `fixed_size_list<float32|int32>[width]` column from row-major data of `data.length / width` rows. */
export function fixedSizeListVector<T extends Float32Array | Int32Array>(
  data: T, width: number,
): arrow.Vector<arrow.FixedSizeList<arrow.Float32 | arrow.Int32>> {
  if (!Number.isInteger(width) || width < 1) throw new Error(`fixed-size list width must be an integer >= 1, got ${width}`);
  if (data.length % width !== 0) throw new Error(`fixed-size list data length ${data.length} is not a multiple of width ${width}`);
  const childType = data instanceof Float32Array ? new arrow.Float32() : new arrow.Int32();
  const child = (arrow.makeData as (p: unknown) => arrow.Data<arrow.Float32 | arrow.Int32>)({ type: childType, length: data.length, nullCount: 0, data });
  const type = new arrow.FixedSizeList<arrow.Float32 | arrow.Int32>(width, new arrow.Field('item', childType, false));
  return arrow.makeVector(arrow.makeData({ type, length: data.length / width, nullCount: 0, child }));
}

/** A Table from named columns of equal length (a clear error otherwise). */
export function makeTable(columns: Record<string, arrow.Vector>): arrow.Table {
  const lengths = Object.entries(columns).map(([name, v]) => [name, v.length] as const);
  if (lengths.some(([, n]) => n !== lengths[0][1])) {
    throw new Error(`columns must have equal lengths, got ${lengths.map(([name, n]) => `${name}=${n}`).join(', ')}`);
  }
  return new arrow.Table(columns);
}

// ---------------------------------------------------------------------------------------------------
// Column readers: Table -> typed arrays, with checks. `source` (the file) is named in every error.

function column(table: arrow.Table, name: string, source: string): arrow.Vector {
  const vector = table.getChild(name);
  if (!vector) {
    const have = table.schema.fields.map((f) => f.name).join(', ');
    throw new Error(`${source}: missing column "${name}" (columns: ${have || 'none'})`);
  }
  return vector;
}

function typeError(source: string, name: string, expected: string, got: arrow.DataType): Error {
  return new Error(`${source}: column "${name}" must be ${expected}, got ${String(got)}`);
}

function checkNoNulls(data: arrow.Data, source: string, name: string, rowBase: number): void {
  if (data.nullCount <= 0) return;
  for (let i = 0; i < data.length; i++) {
    if (!data.getValid(i)) throw new Error(`${source}: column "${name}" has a null at row ${rowBase + i}`);
  }
}

/** Whether the table has a column of this name. */
export function hasColumn(table: arrow.Table, name: string): boolean {
  return table.getChild(name) !== null;
}

function isIntegerType(type: arrow.DataType): boolean {
  return arrow.DataType.isInt(type) && (type as arrow.Int).bitWidth <= 32;
}

/** An integer column (int8..int32, signed or not; int64 when every value is a safe integer) as Int32Array. */
export function readInt32Column(table: arrow.Table, name: string, source: string): Int32Array {
  const vector = column(table, name, source);
  if (!arrow.DataType.isInt(vector.type)) throw typeError(source, name, 'an integer', vector.type);
  const out = new Int32Array(vector.length);
  let row = 0;
  for (const data of vector.data) {
    checkNoNulls(data, source, name, row);
    if (isIntegerType(data.type)) {
      for (let i = 0; i < data.length; i++) out[row + i] = Number(data.values[i]);
    } else {
      for (let i = 0; i < data.length; i++) {
        const v = Number(data.values[i] as bigint);
        if (v > 2147483647 || v < -2147483648) throw new Error(`${source}: column "${name}" row ${row + i}: ${v} does not fit in int32`);
        out[row + i] = v;
      }
    }
    row += data.length;
  }
  return out;
}

/** A numeric column (any int or float type) as Float64Array. */
export function readFloat64Column(table: arrow.Table, name: string, source: string): Float64Array {
  const vector = column(table, name, source);
  if (!arrow.DataType.isInt(vector.type) && !arrow.DataType.isFloat(vector.type)) throw typeError(source, name, 'numeric', vector.type);
  const out = new Float64Array(vector.length);
  let row = 0;
  for (const data of vector.data) {
    checkNoNulls(data, source, name, row);
    for (let i = 0; i < data.length; i++) out[row + i] = Number(data.values[i]);
    row += data.length;
  }
  return out;
}

/** A utf8 column as strings. */
export function readUtf8Column(table: arrow.Table, name: string, source: string): string[] {
  const vector = column(table, name, source);
  if (!arrow.DataType.isUtf8(vector.type) && !arrow.DataType.isLargeUtf8(vector.type)) throw typeError(source, name, 'utf8', vector.type);
  const out = new Array<string>(vector.length);
  let row = 0;
  for (const data of vector.data) {
    checkNoNulls(data, source, name, row);
    row += data.length;
  }
  for (let i = 0; i < vector.length; i++) out[i] = vector.get(i) as string;
  return out;
}

/** Splits each row of a list column into its child data range, checking the child type. */
function listRows<T>(
  table: arrow.Table, name: string, source: string, expected: string,
  childOk: (t: arrow.DataType) => boolean, take: (child: arrow.Data, start: number, end: number) => T,
): T[] {
  const vector = column(table, name, source);
  if (!arrow.DataType.isList(vector.type) || !childOk((vector.type as arrow.List).valueType)) {
    throw typeError(source, name, expected, vector.type);
  }
  const out: T[] = [];
  let row = 0;
  for (const data of vector.data) {
    checkNoNulls(data, source, name, row);
    const child = data.children[0];
    const offsets = data.valueOffsets;
    for (let i = 0; i < data.length; i++) {
      const start = Number(offsets[i]);
      const end = Number(offsets[i + 1]);
      if (child.nullCount > 0) {
        for (let j = start; j < end; j++) {
          if (!child.getValid(j)) throw new Error(`${source}: column "${name}" row ${row + i} has a null element at position ${j - start}`);
        }
      }
      out.push(take(child, start, end));
    }
    row += data.length;
  }
  return out;
}

/** A list<int> column as one Int32Array per row (copies). */
export function readInt32ListColumn(table: arrow.Table, name: string, source: string): Int32Array[] {
  return listRows(table, name, source, 'list<int32>', isIntegerType, (child, start, end) => Int32Array.from(child.values.subarray(start, end) as Int32Array));
}

/** A list<float|int> column as one Float64Array per row (copies). */
export function readFloat64ListColumn(table: arrow.Table, name: string, source: string): Float64Array[] {
  const numeric = (t: arrow.DataType) => arrow.DataType.isFloat(t) || arrow.DataType.isInt(t);
  return listRows(table, name, source, 'list<float64>', numeric, (child, start, end) => {
    const out = new Float64Array(end - start);
    for (let j = start; j < end; j++) out[j - start] = Number(child.values[j]);
    return out;
  });
}

/** A list<utf8> column as string arrays. */
export function readUtf8ListColumn(table: arrow.Table, name: string, source: string): string[][] {
  const decoder = new TextDecoder();
  return listRows(table, name, source, 'list<utf8>', (t) => arrow.DataType.isUtf8(t), (child, start, end) => {
    const out: string[] = [];
    for (let j = start; j < end; j++) {
      out.push(decoder.decode(child.values.subarray(child.valueOffsets[j], child.valueOffsets[j + 1])));
    }
    return out;
  });
}

/** A `fixed_size_list<float32|int32>[width]` column as row-major data. */
export function readFixedSizeListColumn(
  table: arrow.Table, name: string, source: string, valueType: 'float32' | 'int32',
): { width: number; data: Float32Array | Int32Array } {
  const vector = column(table, name, source);
  const expected = `fixed_size_list<${valueType}>`;
  if (!arrow.DataType.isFixedSizeList(vector.type)) throw typeError(source, name, expected, vector.type);
  const type = vector.type as arrow.FixedSizeList;
  const childType = type.valueType;
  const childOk = valueType === 'float32'
    ? arrow.DataType.isFloat(childType) && (childType as arrow.Float).precision === arrow.Precision.SINGLE
    : arrow.DataType.isInt(childType) && (childType as arrow.Int).bitWidth === 32;
  if (!childOk) throw typeError(source, name, expected, vector.type);
  const width = type.listSize;
  const out = valueType === 'float32' ? new Float32Array(vector.length * width) : new Int32Array(vector.length * width);
  let row = 0;
  for (const data of vector.data) {
    checkNoNulls(data, source, name, row);
    const child = data.children[0];
    if (child.nullCount > 0) throw new Error(`${source}: column "${name}" has null elements inside its fixed-size lists`);
    // A sliced chunk may keep its parent's child buffer: start at this chunk's offset then.
    const start = child.length === data.length * width ? 0 : data.offset * width;
    out.set(child.values.subarray(start, start + data.length * width), row * width);
    row += data.length;
  }
  return { width, data: out };
}

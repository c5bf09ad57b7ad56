// Bring-your-own embeddings: vectors computed elsewhere (sentence-T5, an LLM encoder...) matched to the
// data set's items. Formats, by file extension:
//
//   .parquet  a key column plus an embedding column: fixed_size_list<float32|float64> or list<float|int>.
//   .jsonl    one object per line: {"key": "B004756YJA", "embedding": [0.1, ...]}.
//   .npy      a 2-D float32/float64 array (format 1.0-3.0). Row r is item r (dense item-id order) unless
//             `keys` names a text file with one item key per line, line r naming row r's item.
//
// Keys: a column/field named `item_id` holds semid's dense 0-based item ids (as in semid's own
// embeddings files); any other key column holds the items' original keys (Items.keys: the ids of the
// source data, e.g. an ASIN or Beauty's 1-based id). The key column is `keyColumn` when given, else the
// first of `key`, `item_key`, `item_id` present. The embedding column is `embeddingColumn` when given,
// else `embedding`.
//
// Every item must get exactly one vector, all of one dimension, all finite. Otherwise the import fails
// with an error naming the row, the key and the problem. With `allowMissing`, items without a vector get
// the mean of the imported vectors (a neutral point that keeps every row usable), and the count is
// reported; with `ignoreUnknown`, vectors for keys that are not items are skipped and counted.
import { readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import * as arrow from 'apache-arrow';
import type { EmbeddingMatrix } from '../../tokenizer/index.js';
import { writeJsonAtomic } from '../../tokenizer/io/index.js';
import { embeddingsPath, hasColumn, readDataset, readFloat64Column, readParquetTable, readUtf8Column, writeEmbeddings } from '../data/index.js';
import { parseNpy } from './npy.js';
import { computeEmbeddingReport, embeddingReportPath, type EmbeddingReport } from './report.js';

export type ImportFormat = 'parquet' | 'jsonl' | 'npy';

export interface MatchOptions {
  /** Fill items without a vector with the mean vector instead of failing. */
  allowMissing?: boolean;
  /** Skip vectors whose key is not an item instead of failing. */
  ignoreUnknown?: boolean;
}

export interface ImportSourceOptions extends MatchOptions {
  /** The vectors file (.parquet, .jsonl or .npy). */
  from: string;
  /** Parquet column / JSONL field holding the item key (see the file comment for the default). */
  keyColumn?: string;
  /** Parquet column / JSONL field holding the vector (default `embedding`). */
  embeddingColumn?: string;
  /** .npy only: a text file with one item key per line, naming the item of each row. */
  keys?: string;
}

export interface MatchedEmbeddings {
  matrix: EmbeddingMatrix;
  format: ImportFormat;
  /** Vectors read from the file. */
  vectors: number;
  /** Items filled with the mean vector (allowMissing). */
  filled: number;
  /** Some of the filled items' keys (at most 10). */
  filledKeys: string[];
  /** Vectors skipped because their key is not an item (ignoreUnknown). */
  unknown: number;
  keyColumn: string | null;
}

/** How a key in the file names an item: semid's dense id, or the original item key. */
type KeyKind = 'item_id' | 'key';

/** Collects vectors by item, checking each as it arrives. */
class VectorCollector {
  private dim = -1;
  private data: Float32Array | null = null;
  private readonly filledBy: Int32Array; // per item: index in `wheres` + 1, 0 = no vector yet
  private readonly wheres: string[] = []; // where each stored vector was read
  private readonly byKey: Map<string, number>;
  vectors = 0;
  unknown = 0;

  constructor(private readonly itemKeys: readonly string[], private readonly source: string, private readonly kind: KeyKind,
    private readonly options: MatchOptions) {
    this.filledBy = new Int32Array(itemKeys.length);
    this.byKey = kind === 'key' ? new Map(itemKeys.map((k, i) => [k, i])) : new Map();
  }

  private itemOf(key: string, where: string): number {
    if (this.kind === 'item_id') {
      const id = Number(key);
      if (Number.isInteger(id) && id >= 0 && id < this.itemKeys.length) return id;
      if (this.options.ignoreUnknown) return -1;
      throw new Error(`${this.source}: ${where}: item_id ${key} is not an item id of the data set (0..${this.itemKeys.length - 1}); `
        + 'item_id means semid\'s dense 0-based id: to match original item keys, name another key column');
    }
    const item = this.byKey.get(key);
    if (item !== undefined) return item;
    if (this.options.ignoreUnknown) return -1;
    const sample = this.itemKeys.slice(0, 3).map((k) => JSON.stringify(k)).join(', ');
    throw new Error(`${this.source}: ${where}: key ${JSON.stringify(key)} is not an item of the data set (item keys look like ${sample}); `
      + 'pass --ignore-unknown to skip vectors of other items');
  }

  /** Adds the vector of `key`, read at `where` (e.g. "row 12" or "line 3"). */
  add(key: string, vector: ArrayLike<number>, where: string): void {
    this.vectors++;
    const item = this.itemOf(key, where);
    if (item < 0) {
      this.unknown++;
      return;
    }
    const label = `${where} (key ${JSON.stringify(key)})`;
    if (vector.length === 0) throw new Error(`${this.source}: ${label}: the embedding is empty`);
    if (this.dim < 0) {
      this.dim = vector.length;
      this.data = new Float32Array(this.itemKeys.length * this.dim);
    } else if (vector.length !== this.dim) {
      throw new Error(`${this.source}: ${label}: the embedding has ${vector.length} dimensions, but earlier ones have ${this.dim}`);
    }
    if (this.filledBy[item] !== 0) {
      throw new Error(`${this.source}: ${label}: duplicate key: item ${JSON.stringify(this.itemKeys[item])} already got a vector at ${this.wheres[this.filledBy[item] - 1]}`);
    }
    const o = item * this.dim;
    for (let d = 0; d < this.dim; d++) {
      const v = vector[d];
      const stored = Math.fround(v);
      if (typeof v !== 'number' || !Number.isFinite(stored)) {
        const what = typeof v !== 'number' ? `${JSON.stringify(v)} (not a number)` : Number.isFinite(v) ? `${v} (beyond float32 range)` : String(v);
        throw new Error(`${this.source}: ${label}: dimension ${d} is ${what}; every value must be a finite number`);
      }
      this.data![o + d] = stored;
    }
    this.wheres.push(where);
    this.filledBy[item] = this.wheres.length;
  }

  finish(): { matrix: EmbeddingMatrix; filled: number; filledKeys: string[] } {
    if (this.dim < 0 || !this.data) throw new Error(`${this.source}: no vectors for any item of the data set`);
    const missing: number[] = [];
    for (let i = 0; i < this.itemKeys.length; i++) if (this.filledBy[i] === 0) missing.push(i);
    const data = this.data;
    const dim = this.dim;
    if (missing.length > 0) {
      const keys = missing.slice(0, 10).map((i) => JSON.stringify(this.itemKeys[i])).join(', ');
      if (!this.options.allowMissing) {
        throw new Error(`${this.source}: ${missing.length} of ${this.itemKeys.length} items have no vector (missing keys: ${keys}${missing.length > 10 ? ', ...' : ''}); `
          + 'pass --allow-missing to fill them with the mean vector');
      }
      const mean = new Float64Array(dim);
      const present = this.itemKeys.length - missing.length;
      for (let i = 0; i < this.itemKeys.length; i++) {
        if (this.filledBy[i] === 0) continue;
        for (let d = 0; d < dim; d++) mean[d] += data[i * dim + d];
      }
      for (const i of missing) for (let d = 0; d < dim; d++) data[i * dim + d] = mean[d] / present;
    }
    return {
      matrix: { rows: this.itemKeys.length, dim, data },
      filled: missing.length,
      filledKeys: missing.slice(0, 10).map((i) => this.itemKeys[i]),
    };
  }
}

export function importFormatOf(path: string): ImportFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.npy') return 'npy';
  throw new Error(`--from ${path}: unknown embeddings format "${ext || '(no extension)'}"; use .parquet, .jsonl or .npy`);
}

function keyKind(column: string): KeyKind {
  return column === 'item_id' ? 'item_id' : 'key';
}

const DEFAULT_KEY_COLUMNS = ['key', 'item_key', 'item_id'];

function floatList(type: arrow.DataType): boolean {
  if (!(arrow.DataType.isList(type) || arrow.DataType.isFixedSizeList(type))) return false;
  const child = (type as arrow.List | arrow.FixedSizeList).valueType;
  return arrow.DataType.isFloat(child) || arrow.DataType.isInt(child);
}

async function collectParquet(path: string, options: ImportSourceOptions, itemKeys: readonly string[]): Promise<{ c: VectorCollector; keyColumn: string }> {
  const table = await readParquetTable(path);
  const columns = table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ');
  const keyColumn = options.keyColumn ?? DEFAULT_KEY_COLUMNS.find((c) => hasColumn(table, c));
  if (!keyColumn || !hasColumn(table, keyColumn)) {
    throw new Error(`${path}: no key column ${options.keyColumn ? `"${options.keyColumn}"` : `(looked for ${DEFAULT_KEY_COLUMNS.join(', ')})`}; columns: ${columns}; name it with --key-column`);
  }
  const embeddingColumn = options.embeddingColumn ?? 'embedding';
  const vectors = table.getChild(embeddingColumn);
  if (!vectors) throw new Error(`${path}: no embedding column "${embeddingColumn}"; columns: ${columns}; name it with --embedding-column`);
  if (!floatList(vectors.type)) {
    throw new Error(`${path}: column "${embeddingColumn}" must be fixed_size_list<float32> or list<float>, got ${String(vectors.type)}`);
  }
  const keyVector = table.getChild(keyColumn)!;
  let keys: string[];
  if (arrow.DataType.isUtf8(keyVector.type) || arrow.DataType.isLargeUtf8(keyVector.type)) keys = readUtf8Column(table, keyColumn, path);
  else if (arrow.DataType.isInt(keyVector.type)) keys = Array.from(readFloat64Column(table, keyColumn, path), (v) => String(v));
  else throw new Error(`${path}: key column "${keyColumn}" must be a string or integer column, got ${String(keyVector.type)}`);
  const c = new VectorCollector(itemKeys, path, keyKind(keyColumn), options);
  for (let r = 0; r < table.numRows; r++) {
    const row = vectors.get(r) as arrow.Vector | null;
    if (row === null) throw new Error(`${path}: row ${r} (key ${JSON.stringify(keys[r])}): the embedding is null`);
    const values = row.toArray() as ArrayLike<number | null>;
    if (row.nullCount > 0) {
      const d = Array.from(values).findIndex((_, j) => !row.isValid(j));
      throw new Error(`${path}: row ${r} (key ${JSON.stringify(keys[r])}): dimension ${d} is null; every value must be a finite number`);
    }
    c.add(keys[r], values as ArrayLike<number>, `row ${r}`);
  }
  return { c, keyColumn };
}

async function collectJsonl(path: string, options: ImportSourceOptions, itemKeys: readonly string[]): Promise<{ c: VectorCollector; keyColumn: string }> {
  const embeddingField = options.embeddingColumn ?? 'embedding';
  let keyColumn = options.keyColumn;
  let c: VectorCollector | null = null;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (!line.trim()) continue;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        const nonFinite = /(?<![\w"])-?(NaN|Infinity)(?![\w"])/.exec(line);
        if (nonFinite) {
          throw new Error(`${path}: line ${lineNo}: contains ${nonFinite[0]} (Python's json module writes it for non-finite floats); every value must be a finite number`);
        }
        throw new Error(`${path}: line ${lineNo}: not valid JSON (${(err as Error).message})`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`${path}: line ${lineNo}: expected an object like {"key": ..., "embedding": [...]}`);
      const record = obj as Record<string, unknown>;
      if (keyColumn === undefined) keyColumn = DEFAULT_KEY_COLUMNS.find((f) => f in record);
      if (keyColumn === undefined || !(keyColumn in record)) {
        throw new Error(`${path}: line ${lineNo}: no key field ${options.keyColumn ? `"${options.keyColumn}"` : `(looked for ${DEFAULT_KEY_COLUMNS.join(', ')})`}; fields: ${Object.keys(record).join(', ')}`);
      }
      const key = record[keyColumn];
      if (typeof key !== 'string' && typeof key !== 'number') throw new Error(`${path}: line ${lineNo}: key ${JSON.stringify(key)} must be a string or a number`);
      const vector = record[embeddingField];
      if (!Array.isArray(vector)) {
        throw new Error(`${path}: line ${lineNo} (key ${JSON.stringify(String(key))}): field "${embeddingField}" must be an array of numbers, got ${vector === undefined ? 'nothing' : JSON.stringify(vector).slice(0, 40)}`);
      }
      c ??= new VectorCollector(itemKeys, path, keyKind(keyColumn), options);
      c.add(String(key), vector as number[], `line ${lineNo}`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`--from ${path}: file not found`);
    throw err;
  }
  if (!c) throw new Error(`${path}: no vectors (the file is empty)`);
  return { c, keyColumn: keyColumn! };
}

async function readKeyLines(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`--keys ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

async function collectNpy(path: string, options: ImportSourceOptions, itemKeys: readonly string[]): Promise<{ c: VectorCollector; keyColumn: string | null }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`--from ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  const npy = parseNpy(bytes, path);
  let keys: string[];
  let kind: KeyKind;
  if (options.keys) {
    keys = await readKeyLines(options.keys);
    if (keys.length !== npy.rows) throw new Error(`--keys ${options.keys} has ${keys.length} lines but ${path} has ${npy.rows} rows (one key per row)`);
    kind = 'key';
  } else {
    if (npy.rows !== itemKeys.length) {
      throw new Error(`${path}: ${npy.rows} rows but the data set has ${itemKeys.length} items; without --keys, row r must be item r `
        + '(pass --keys FILE with one item key per line to match rows by key)');
    }
    keys = Array.from({ length: npy.rows }, (_, i) => String(i));
    kind = 'item_id';
  }
  const c = new VectorCollector(itemKeys, path, kind, options);
  for (let r = 0; r < npy.rows; r++) c.add(keys[r], npy.data.subarray(r * npy.dim, (r + 1) * npy.dim), `row ${r}`);
  return { c, keyColumn: options.keys ? 'keys file' : null };
}

/** Reads vectors from `options.from` and matches them to `itemKeys` (the data set's Items.keys). */
export async function matchEmbeddings(itemKeys: readonly string[], options: ImportSourceOptions): Promise<MatchedEmbeddings> {
  const format = importFormatOf(options.from);
  if (options.keys && format !== 'npy') throw new Error('--keys is for .npy files; Parquet and JSONL carry their keys in a column (--key-column)');
  const { c, keyColumn } = format === 'parquet' ? await collectParquet(options.from, options, itemKeys)
    : format === 'jsonl' ? await collectJsonl(options.from, options, itemKeys)
      : await collectNpy(options.from, options, itemKeys);
  const { matrix, filled, filledKeys } = c.finish();
  return { matrix, format, vectors: c.vectors, filled, filledKeys, unknown: c.unknown, keyColumn };
}

export interface ImportEmbeddingsOptions extends ImportSourceOptions {
  /** Data set directory. */
  data: string;
  /** Embeddings name (default "default"). */
  name?: string;
}

export interface ImportEmbeddingsResult {
  path: string;
  reportPath: string;
  matched: Omit<MatchedEmbeddings, 'matrix'> & { rows: number; dim: number };
  report: EmbeddingReport;
}

/** `semid embed import`: reads vectors from a file, matches them to the data set's items, writes embeddings NAME and its report. */
export async function importEmbeddings(options: ImportEmbeddingsOptions): Promise<ImportEmbeddingsResult> {
  const name = options.name ?? 'default';
  const path = embeddingsPath(options.data, name);
  const dataset = await readDataset(options.data);
  const start = performance.now();
  const { matrix, ...matched } = await matchEmbeddings(dataset.items.keys, options);
  const meta = {
    method: 'import', from: options.from, format: matched.format, keyColumn: matched.keyColumn,
    vectors: matched.vectors, filled: matched.filled, fill: matched.filled ? 'mean of the imported vectors' : null,
    filledKeys: matched.filledKeys, unknown: matched.unknown, seconds: (performance.now() - start) / 1000,
  };
  await writeEmbeddings(options.data, name, matrix, meta);
  const report = computeEmbeddingReport(matrix, dataset.items, name, {}, meta);
  const reportPath = embeddingReportPath(options.data, name);
  await writeJsonAtomic(reportPath, report);
  return { path, reportPath, matched: { ...matched, rows: matrix.rows, dim: matrix.dim }, report };
}

// Interactions as a table of (user, item[, time][, rating]) rows, in CSV/TSV or Parquet, plus an
// optional items table (CSV, Parquet, or the JSON family of records.ts). Column names come from flags,
// else the first present of common names. Times: numbers are unix seconds (values above 1e11 are taken
// as milliseconds), strings are numbers or ISO dates; without a time column, file order is time order.
// Interactions are read by DuckDB (Parquet always; CSV when every row is clean), else streamed in JS.
import * as arrow from 'apache-arrow';
import { extname } from 'node:path';
import { readParquetTable } from '../parquet.js';
import type { ItemRecord, ReadResult } from './build.js';
import { categoryList, loadCatalog } from './build.js';
import type { ImportContext } from './context.js';
import { streamOptions } from './context.js';
import type { CsvRow } from './csv.js';
import { CsvParser, parseCsv } from './csv.js';
import type { InputIssues } from './issues.js';
import { nativeCsvRows, nativeParquetRows, parquetColumns } from './native.js';
import type { ImportOptions } from './options.js';
import { knownItem, readItemRecords } from './records.js';
import { at, checkFile, fileHead, NotUtf8Error, readText, readTextChunks } from './read.js';

export const USER_COLUMNS = ['user_id', 'user', 'userId', 'reviewerID', 'user_key'];
export const ITEM_COLUMNS = ['item_id', 'item', 'itemId', 'movieId', 'asin', 'key'];
export const TIME_COLUMNS = ['timestamp', 'time', 'ts', 'unixReviewTime', 'datetime', 'date'];
export const RATING_COLUMNS = ['rating', 'overall', 'score'];
export const CATEGORY_COLUMNS = ['categories', 'category', 'genres'];

/** A table seen row by row: column names, a cell getter, and where a row is (for errors). */
interface Rows {
  columns: string[];
  length: number;
  get(column: string, row: number): unknown;
  where(row: number): string;
}

async function csvRows(path: string, delimiter: string | undefined, issues: InputIssues): Promise<Rows> {
  const sep = csvDelimiter(path, delimiter);
  let parsed;
  try {
    parsed = parseCsv(await readText(path), sep);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const header = parsed.shift();
  if (!header) throw new Error(`${path}: empty file (expected a header row)`);
  const columns = header.fields.map((c) => c.trim());
  const rows = parsed.filter((row) => {
    if (row.fields.length === columns.length) return true;
    issues.reject('unparsable line', at(path, row.line), `expected ${columns.length} fields like the header, got ${row.fields.length}`);
    return false;
  });
  const index = new Map(columns.map((c, i) => [c, i]));
  return {
    columns,
    length: rows.length,
    get: (column, row) => rows[row].fields[index.get(column)!],
    where: (row) => at(path, rows[row].line),
  };
}

async function parquetRows(path: string): Promise<Rows> {
  const table = await readParquetTable(path);
  const vectors = new Map(table.schema.fields.map((f) => [f.name, table.getChild(f.name)!]));
  return {
    columns: [...vectors.keys()],
    length: table.numRows,
    get: (column, row) => {
      const vector = vectors.get(column)!;
      const value: unknown = vector.get(row);
      if (value instanceof arrow.Vector) return [...value].map((v) => (v === null ? '' : String(v)));
      if (arrow.DataType.isTimestamp(vector.type) || arrow.DataType.isDate(vector.type)) return typeof value === 'number' ? new Date(value) : value;
      return typeof value === 'bigint' ? Number(value) : value;
    },
    where: (row) => `${path} row ${row}`,
  };
}

async function isParquet(path: string): Promise<boolean> {
  return new TextDecoder().decode(await fileHead(path, 4)) === 'PAR1';
}

function pickColumn(columns: string[], flag: string, given: string | undefined, candidates: string[], path: string, required: boolean): string | undefined {
  if (given !== undefined) {
    if (!columns.includes(given)) throw new Error(`${path}: no column "${given}" (${flag}); columns: ${columns.join(', ')}`);
    return given;
  }
  const found = candidates.find((c) => columns.includes(c));
  if (!found && required) {
    throw new Error(`${path}: none of the columns ${candidates.join(', ')} is present; name one with ${flag} (columns: ${columns.join(', ')})`);
  }
  return found;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return String(value).trim();
}

/** A time cell as unix seconds, or NaN. */
export function timeSeconds(value: unknown): number {
  if (value instanceof Date) return value.getTime() / 1000;
  if (typeof value === 'number') return value > 1e11 ? value / 1000 : value;
  const text = cellText(value);
  if (text === '') return NaN;
  const n = Number(text);
  if (Number.isFinite(n)) return n > 1e11 ? n / 1000 : n;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms / 1000 : NaN;
}

async function readItemsTable(path: string, options: ImportOptions, itemColumn: string, issues: InputIssues): Promise<Map<string, ItemRecord>> {
  const head = new TextDecoder().decode(await fileHead(path, 64)).trimStart();
  if (head.startsWith('{') || head.startsWith('[')) return readItemRecords(path, issues, { keyField: options.itemKeyColumn ?? options.itemKeyField });
  const rows = (await isParquet(path)) ? await parquetRows(path) : await csvRows(path, options.delimiter, issues);
  const keyColumn = pickColumn(rows.columns, '--item-key-column', options.itemKeyColumn, [itemColumn, ...ITEM_COLUMNS], path, true)!;
  const categoriesColumn = pickColumn(rows.columns, '--categories-column', options.categoriesColumn, CATEGORY_COLUMNS, path, false);
  const separator = options.listSeparator ?? '|';
  const records = new Map<string, ItemRecord>();
  for (let r = 0; r < rows.length; r++) {
    const key = cellText(rows.get(keyColumn, r));
    if (key === '') {
      issues.reject('bad value', rows.where(r), `empty item id in column "${keyColumn}"`);
      continue;
    }
    if (records.has(key)) {
      issues.reject('duplicate item', rows.where(r), `duplicate item id "${key}"`);
      continue;
    }
    const fields: Record<string, unknown> = {};
    for (const column of rows.columns) fields[column] = rows.get(column, r);
    const categories = categoriesColumn ? categoryList(fields[categoriesColumn], separator) : [];
    records.set(key, { fields, categories });
  }
  return records;
}

function csvDelimiter(path: string, delimiter: string | undefined): string {
  return delimiter ?? (['.tsv', '.tab'].includes(extname(path).toLowerCase()) ? '\t' : ',');
}

/** CSV rows streamed in chunks, with the header row first. */
async function* streamCsv(ctx: ImportContext, path: string): AsyncGenerator<CsvRow> {
  let parser: CsvParser;
  try {
    parser = new CsvParser(csvDelimiter(path, ctx.options.delimiter));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  try {
    for await (const text of readTextChunks(path, streamOptions(ctx, path))) yield* parser.push(text);
    yield* parser.end();
  } catch (err) {
    if (err instanceof NotUtf8Error || (err as Error).message.startsWith(path)) throw err;
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

async function csvHeader(ctx: ImportContext, path: string): Promise<string[]> {
  for await (const row of streamCsv(ctx, path)) return row.fields.map((c) => c.trim());
  throw new Error(`${path}: empty file (expected a header row)`);
}

interface TableColumns { user: string; item: string; time?: string; rating?: string }

function pickInteractionColumns(columns: string[], options: ImportOptions, path: string): TableColumns {
  return {
    user: pickColumn(columns, '--user-column', options.userColumn, USER_COLUMNS, path, true)!,
    item: pickColumn(columns, '--item-column', options.itemColumn, ITEM_COLUMNS, path, true)!,
    time: pickColumn(columns, '--time-column', options.timeColumn, TIME_COLUMNS, path, false),
    rating: options.minRating !== undefined ? pickColumn(columns, '--rating-column', options.ratingColumn, RATING_COLUMNS, path, true) : undefined,
  };
}

/** The JS reader of CSV interactions: every row checked in order; returns the rows below --min-rating. */
async function readCsvRows(ctx: ImportContext, path: string, header: string[], cols: TableColumns, itemRecords: Map<string, ItemRecord> | null): Promise<number> {
  const { issues, store, options } = ctx;
  const index = new Map(header.map((c, i) => [c, i]));
  const get = (row: CsvRow, column: string) => row.fields[index.get(column)!];
  let filtered = 0;
  let first = true;
  for await (const row of streamCsv(ctx, path)) {
    if (first) { first = false; continue; }
    const where = at(path, row.line);
    if (row.fields.length !== header.length) {
      issues.reject('unparsable line', where, `expected ${header.length} fields like the header, got ${row.fields.length}`);
      continue;
    }
    const user = cellText(get(row, cols.user));
    const item = cellText(get(row, cols.item));
    if (user === '' || item === '') {
      issues.reject('bad value', where, `empty ${user === '' ? `user ("${cols.user}")` : `item ("${cols.item}")`}`);
      continue;
    }
    let time = 0;
    if (cols.time) {
      time = timeSeconds(get(row, cols.time));
      if (!Number.isFinite(time)) {
        issues.reject('bad value', where, `time "${cellText(get(row, cols.time))}" in column "${cols.time}" is not a number or date`);
        continue;
      }
    }
    if (cols.rating) {
      const rating = Number(get(row, cols.rating));
      if (!Number.isFinite(rating)) {
        issues.reject('bad value', where, `rating "${cellText(get(row, cols.rating))}" is not a number`);
        continue;
      }
      if (rating < options.minRating!) {
        filtered += 1;
        continue;
      }
    }
    if (knownItem(itemRecords, item, where, issues)) store.add(user, item, time, row.line);
  }
  return filtered;
}

async function readCsvTable(ctx: ImportContext, path: string, itemsPath: string | undefined): Promise<{ cols: TableColumns; filtered: number; itemRecords: Map<string, ItemRecord> | null }> {
  const { options, engine } = ctx;
  const header = await csvHeader(ctx, path);
  const cols = pickInteractionColumns(header, options, path);
  const itemRecords = itemsPath ? await readItemsTable(itemsPath, options, cols.item, ctx.issues) : null;
  if (itemRecords) await loadCatalog(engine, itemRecords);
  const gzip = (await fileHead(path, 2))[0] === 0x1f;
  const native = options.jsReader ? null : await nativeCsvRows(engine, ctx.store, {
    path, gzip, delimiter: csvDelimiter(path, options.delimiter), columns: header, header: true, quoted: true,
  }, { ...cols, minRating: options.minRating, trim: true, catalog: itemRecords !== null });
  return { cols, itemRecords, filtered: native ?? (await readCsvRows(ctx, path, header, cols, itemRecords)) };
}

async function readParquetInteractions(ctx: ImportContext, path: string, itemsPath: string | undefined): Promise<{ cols: TableColumns; filtered: number; itemRecords: Map<string, ItemRecord> | null }> {
  const { options, engine } = ctx;
  if (!(await isParquet(path))) throw new Error(`${path}: not a Parquet file (it does not start with "PAR1"); use --format csv for text tables`);
  const types = await parquetColumns(engine, path);
  const cols = pickInteractionColumns([...types.keys()], options, path);
  const itemRecords = itemsPath ? await readItemsTable(itemsPath, options, cols.item, ctx.issues) : null;
  if (itemRecords) await loadCatalog(engine, itemRecords);
  const filtered = await nativeParquetRows(engine, ctx.store, { path, types, ...cols, minRating: options.minRating, catalog: itemRecords !== null }, ctx.issues);
  return { cols, itemRecords, filtered };
}

export async function readInteractionTable(ctx: ImportContext): Promise<ReadResult> {
  const { options } = ctx;
  const path = await checkFile(options.interactions, '--interactions');
  const itemsPath = options.items ? await checkFile(options.items, '--items') : undefined;
  const parquetInput = options.format === 'parquet' || (await isParquet(path));
  const { cols, filtered, itemRecords } = parquetInput ? await readParquetInteractions(ctx, path, itemsPath) : await readCsvTable(ctx, path, itemsPath);
  return {
    itemRecords,
    timed: cols.time !== undefined,
    source: {
      format: options.format, interactions: path, items: itemsPath ?? null,
      columns: { user: cols.user, item: cols.item, time: cols.time ?? null, ...(cols.rating ? { rating: cols.rating } : {}) },
      ...(options.minRating !== undefined ? { minRating: options.minRating, belowMinRating: filtered } : {}),
    },
  };
}

// Interactions as a table of (user, item[, time][, rating]) rows, in CSV/TSV or Parquet, plus an
// optional items table (CSV, Parquet, or the JSON family of records.ts). Column names come from flags,
// else the first present of common names. Times: numbers are unix seconds (values above 1e11 are taken
// as milliseconds), strings are numbers or ISO dates; without a time column, file order is time order.
import * as arrow from 'apache-arrow';
import { extname } from 'node:path';
import { readParquetTable } from '../parquet.js';
import type { ItemRecord, RawImport } from './build.js';
import { categoryList, InteractionLog } from './build.js';
import { parseCsv } from './csv.js';
import type { InputIssues } from './issues.js';
import type { ImportOptions } from './options.js';
import { knownItem, readItemRecords } from './records.js';
import { at, checkFile, fileHead, readText } from './read.js';

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
  const sep = delimiter ?? (['.tsv', '.tab'].includes(extname(path).toLowerCase()) ? '\t' : ',');
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

function pickColumn(rows: Rows, flag: string, given: string | undefined, candidates: string[], path: string, required: boolean): string | undefined {
  if (given !== undefined) {
    if (!rows.columns.includes(given)) throw new Error(`${path}: no column "${given}" (${flag}); columns: ${rows.columns.join(', ')}`);
    return given;
  }
  const found = candidates.find((c) => rows.columns.includes(c));
  if (!found && required) {
    throw new Error(`${path}: none of the columns ${candidates.join(', ')} is present; name one with ${flag} (columns: ${rows.columns.join(', ')})`);
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

async function openRows(path: string, options: ImportOptions, issues: InputIssues): Promise<Rows> {
  if (options.format === 'parquet' || (await isParquet(path))) {
    if (!(await isParquet(path))) throw new Error(`${path}: not a Parquet file (it does not start with "PAR1"); use --format csv for text tables`);
    return parquetRows(path);
  }
  return csvRows(path, options.delimiter, issues);
}

async function readItemsTable(path: string, options: ImportOptions, itemColumn: string, issues: InputIssues): Promise<Map<string, ItemRecord>> {
  const head = new TextDecoder().decode(await fileHead(path, 64)).trimStart();
  if (head.startsWith('{') || head.startsWith('[')) return readItemRecords(path, issues, { keyField: options.itemKeyColumn ?? options.itemKeyField });
  const rows = (await isParquet(path)) ? await parquetRows(path) : await csvRows(path, options.delimiter, issues);
  const keyColumn = pickColumn(rows, '--item-key-column', options.itemKeyColumn, [itemColumn, ...ITEM_COLUMNS], path, true)!;
  const categoriesColumn = pickColumn(rows, '--categories-column', options.categoriesColumn, CATEGORY_COLUMNS, path, false);
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

export async function readInteractionTable(options: ImportOptions, issues: InputIssues): Promise<RawImport> {
  const path = await checkFile(options.interactions, '--interactions');
  const itemsPath = options.items ? await checkFile(options.items, '--items') : undefined;
  const rows = await openRows(path, options, issues);
  const userColumn = pickColumn(rows, '--user-column', options.userColumn, USER_COLUMNS, path, true)!;
  const itemColumn = pickColumn(rows, '--item-column', options.itemColumn, ITEM_COLUMNS, path, true)!;
  const timeColumn = pickColumn(rows, '--time-column', options.timeColumn, TIME_COLUMNS, path, false);
  const ratingColumn = options.minRating !== undefined ? pickColumn(rows, '--rating-column', options.ratingColumn, RATING_COLUMNS, path, true) : undefined;
  const itemRecords = itemsPath ? await readItemsTable(itemsPath, options, itemColumn, issues) : null;
  const log = new InteractionLog(timeColumn !== undefined);
  let filtered = 0;
  for (let r = 0; r < rows.length; r++) {
    const user = cellText(rows.get(userColumn, r));
    const item = cellText(rows.get(itemColumn, r));
    if (user === '' || item === '') {
      issues.reject('bad value', rows.where(r), `empty ${user === '' ? `user ("${userColumn}")` : `item ("${itemColumn}")`}`);
      continue;
    }
    let time = 0;
    if (timeColumn) {
      time = timeSeconds(rows.get(timeColumn, r));
      if (!Number.isFinite(time)) {
        issues.reject('bad value', rows.where(r), `time "${cellText(rows.get(timeColumn, r))}" in column "${timeColumn}" is not a number or date`);
        continue;
      }
    }
    if (ratingColumn) {
      const rating = Number(rows.get(ratingColumn, r));
      if (!Number.isFinite(rating)) {
        issues.reject('bad value', rows.where(r), `rating "${cellText(rows.get(ratingColumn, r))}" is not a number`);
        continue;
      }
      if (rating < options.minRating!) {
        filtered += 1;
        continue;
      }
    }
    if (knownItem(itemRecords, item, rows.where(r), issues)) log.add(user, item, time);
  }
  return {
    histories: log.histories(),
    itemRecords,
    source: {
      format: options.format, interactions: path, items: itemsPath ?? null,
      columns: { user: userColumn, item: itemColumn, time: timeColumn ?? null, ...(ratingColumn ? { rating: ratingColumn } : {}) },
      ...(options.minRating !== undefined ? { minRating: options.minRating, belowMinRating: filtered } : {}),
    },
  };
}

// The fast path of the row formats: DuckDB parses the file itself (C++, out of core) and SQL checks
// every row. CSV/TSV and MovieLens ratings are "optimistic": when DuckDB cannot read the file strictly,
// or any row would be refused, skipped or read differently by the JS reader (a bad value, an ISO date,
// an unknown item), the import falls back to the JS streaming reader, whose messages name the file,
// line and value. Parquet has row numbers in the engine, so its checks report errors here directly.
import type { ImportEngine } from './engine.js';
import { sqlString } from './engine.js';
import type { InputIssues, SkipReason } from './issues.js';
import type { InteractionStore } from './store.js';

/** A plain decimal number, as both JS Number() and DuckDB's DOUBLE cast read it alike. */
const DECIMAL = String.raw`^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$`;

export function sqlName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A number cell as DOUBLE (NULL unless a plain finite decimal); `empty` is the value of an empty cell. The cell must
 * match DECIMAL before the cast: DuckDB's cast alone is laxer than JS Number() ("1_000", "+-1").
 */
function decimal(cell: string, empty: string | null): string {
  const value = `CASE WHEN regexp_matches(${cell}, '${DECIMAL}') THEN TRY_CAST(${cell} AS DOUBLE) END`;
  return empty === null ? value : `CASE WHEN trim(coalesce(${cell}, '')) = '' THEN ${empty} ELSE ${value} END`;
}

/** Unix seconds from a number (values above 1e11 are milliseconds). */
function seconds(number: string): string {
  return `CASE WHEN ${number} > 1e11 THEN ${number} / 1000 ELSE ${number} END`;
}

export interface NativeCsv {
  path: string;
  gzip: boolean;
  delimiter: string;
  /** Column names (from the header row, or given for header-less files). */
  columns: string[];
  header: boolean;
  /** Quotes are field delimiters (RFC 4180), else plain characters. */
  quoted: boolean;
}

export interface NativeRowSpec {
  user: string;
  item: string;
  time?: string;
  rating?: string;
  minRating?: number;
  /** Cells are used as they are (MovieLens), else trimmed (csv). */
  trim: boolean;
  /** An items file was given: every item must be in table `catalog`. */
  catalog: boolean;
}

/**
 * Reads the file into the temporary table `csv_typed(u, i, t, r, bad)` in one pass (file order: its rowid is the
 * row's place); false when DuckDB refuses the file. Only the named columns are kept, typed as they are read: the
 * raw text of the other columns never lands in a table. User and item cells are kept as read: trimming, and the
 * checks of keys (empty, spaced, unknown), run on the distinct keys (checkKeys), not on every row. A temporary
 * table lives in the buffer pool (spilling past the memory limit), not in the database file: writing 25M rows of
 * strings to the file took twice as long as reading the CSV.
 */
async function loadCsv(engine: ImportEngine, csv: NativeCsv, spec: NativeRowSpec): Promise<boolean> {
  const columns = csv.columns.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ');
  const quote = csv.quoted ? `quote='"', escape='"'` : `quote='', escape=''`;
  const time = spec.time ? seconds(decimal(sqlName(spec.time), null)) : '0';
  const rating = spec.rating ? decimal(sqlName(spec.rating), '0') : '0';
  try {
    await engine.run(`CREATE OR REPLACE TEMP TABLE csv_typed AS SELECT u, i, t, r, (t IS NULL OR NOT isfinite(t) OR r IS NULL OR NOT isfinite(r)) AS bad
      FROM (SELECT ${sqlName(spec.user)} AS u, ${sqlName(spec.item)} AS i, ${time} AS t, ${rating} AS r
        FROM read_csv(${sqlString(csv.path)}, header=${csv.header}, auto_detect=false, columns={${columns}},
          delim=${sqlString(csv.delimiter)}, ${quote}, strict_mode=true, null_padding=false, compression='${csv.gzip ? 'gzip' : 'none'}'))`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The checks of user and item cells, on their distinct values: an empty (or, trimmed, blank) key, a key with
 * whitespace where cells are used as they are (the JS reader splits some MovieLens layouts on any of it), an item
 * missing from the items file. True when every key passes. Where trimming changes a key, the table's cells are
 * trimmed (a rare file: the common one pays for 220k keys, not for 50M cells).
 */
async function checkKeys(engine: ImportEngine, spec: NativeRowSpec): Promise<boolean> {
  const key = spec.trim ? 'trim(key)' : 'key';
  const blank = spec.trim ? `key IS NULL OR trim(key) = ''` : `key IS NULL OR key = '' OR regexp_matches(key, '\\s')`;
  const unknown = spec.catalog ? ` OR (side = 'i' AND ${key} NOT IN (SELECT key FROM catalog))` : '';
  await engine.run(`CREATE OR REPLACE TEMP TABLE csv_keys AS SELECT 'u' AS side, u AS key FROM (SELECT DISTINCT u FROM csv_typed)
    UNION ALL SELECT 'i', i FROM (SELECT DISTINCT i FROM csv_typed)`);
  const [bad, padded] = (await engine.rows(`SELECT count(*) FILTER (WHERE ${blank}${unknown}), count(*) FILTER (WHERE key <> trim(key)) FROM csv_keys`))[0].map(Number);
  await engine.run('DROP TABLE csv_keys');
  if (bad > 0) return false;
  if (spec.trim && padded > 0) {
    await engine.run('CREATE OR REPLACE TEMP TABLE csv_trimmed AS SELECT trim(u) AS u, trim(i) AS i, t, r, bad FROM csv_typed ORDER BY rowid');
    await engine.run('DROP TABLE csv_typed');
    await engine.run('ALTER TABLE csv_trimmed RENAME TO csv_typed');
  }
  return true;
}

/**
 * CSV rows into the store when every row is clean; returns the number of rows below --min-rating, or
 * null when the JS reader must read the file instead.
 */
export async function nativeCsvRows(engine: ImportEngine, store: InteractionStore, csv: NativeCsv, spec: NativeRowSpec): Promise<number | null> {
  if (!(await loadCsv(engine, csv, spec))) return null;
  const keep = spec.minRating !== undefined ? `r >= ${spec.minRating}` : 'true';
  const [bad, below] = (await engine.rows(`SELECT count(*) FILTER (WHERE bad), count(*) FILTER (WHERE NOT bad AND NOT (${keep})) FROM csv_typed`))[0].map(Number);
  if (bad > 0 || !(await checkKeys(engine, spec))) {
    await engine.run('DROP TABLE csv_typed');
    return null;
  }
  await store.adopt('csv_typed', keep, 'rowid');
  return below;
}

// ---------------------------------------------------------------------------------------------------
// Parquet: columns typed by the file; every check in SQL, errors named by row number.

export type ColumnTypes = Map<string, string>;

export async function parquetColumns(engine: ImportEngine, path: string): Promise<ColumnTypes> {
  const rows = await engine.rows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
  return new Map(rows.map((r) => [r[0] as string, r[1] as string]));
}

const isTemporal = (type: string) => /^(TIMESTAMP|DATE)/.test(type);
const isNumeric = (type: string) => /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/.test(type);

/** A cell as the JS reader's text: trimmed strings, integers without ".0", dates in ISO form, '' for null. */
function cellText(column: string, type: string): string {
  const c = sqlName(column);
  if (isTemporal(type)) return `coalesce(strftime(CAST(${c} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ'), '')`;
  if (/^(FLOAT|DOUBLE|DECIMAL)/.test(type)) {
    return `coalesce(CASE WHEN ${c} = trunc(${c}) AND abs(${c}) < 1e15 THEN CAST(CAST(${c} AS BIGINT) AS VARCHAR) ELSE CAST(CAST(${c} AS DOUBLE) AS VARCHAR) END, '')`;
  }
  return `coalesce(trim(CAST(${c} AS VARCHAR)), '')`;
}

function timeValue(column: string, type: string): string {
  const c = sqlName(column);
  if (isTemporal(type)) return `epoch_ms(CAST(${c} AS TIMESTAMP)) / 1000`;
  if (isNumeric(type)) return seconds(`CAST(${c} AS DOUBLE)`);
  const number = decimal(`trim(${c})`, null);
  return `coalesce(${seconds(number)}, epoch_ms(TRY_CAST(trim(${c}) AS TIMESTAMPTZ)) / 1000)`;
}

function ratingValue(column: string, type: string): string {
  const c = sqlName(column);
  if (isNumeric(type)) return `coalesce(CAST(${c} AS DOUBLE), 0)`;
  return decimal(`CAST(${c} AS VARCHAR)`, '0');
}

interface ParquetSpec {
  path: string;
  types: ColumnTypes;
  user: string;
  item: string;
  time?: string;
  rating?: string;
  minRating?: number;
  catalog: boolean;
}

/** Parquet rows into the store, refusing (or with --skip-invalid counting) bad rows; returns rows below --min-rating. */
export async function nativeParquetRows(engine: ImportEngine, store: InteractionStore, spec: ParquetSpec, issues: InputIssues): Promise<number> {
  const { types } = spec;
  const time = spec.time ? timeValue(spec.time, types.get(spec.time)!) : '0';
  const timeText = spec.time ? cellText(spec.time, types.get(spec.time)!) : `''`;
  const rating = spec.rating ? ratingValue(spec.rating, types.get(spec.rating)!) : '0';
  const ratingText = spec.rating ? cellText(spec.rating, types.get(spec.rating)!) : `''`;
  await engine.run(`CREATE OR REPLACE TABLE pq_rows AS SELECT ${cellText(spec.user, types.get(spec.user)!)} AS u,
    ${cellText(spec.item, types.get(spec.item)!)} AS i, ${time} AS t, ${timeText} AS t_text, ${rating} AS r, ${ratingText} AS r_text,
    file_row_number AS seq FROM read_parquet(${sqlString(spec.path)}, file_row_number=true)`);
  const below = spec.minRating !== undefined ? `r < ${spec.minRating}` : 'false';
  const unknown = spec.catalog ? 'i NOT IN (SELECT key FROM catalog)' : 'false';
  // One problem per row, in the order the JS reader checks them.
  await engine.run(`CREATE OR REPLACE TABLE pq_checked AS SELECT *, CASE
      WHEN u = '' THEN 'user' WHEN i = '' THEN 'item'
      WHEN t IS NULL OR NOT isfinite(t) THEN 'time' WHEN r IS NULL OR NOT isfinite(r) THEN 'rating'
      WHEN ${below} THEN 'below' WHEN ${unknown} THEN 'unknown' END AS problem FROM pq_rows`);
  await engine.run('DROP TABLE pq_rows');
  const messages: Record<string, [SkipReason, (r: unknown[]) => string]> = {
    user: ['bad value', () => `empty user ("${spec.user}")`],
    item: ['bad value', () => `empty item ("${spec.item}")`],
    time: ['bad value', (r) => `time "${String(r[2])}" in column "${spec.time}" is not a number or date`],
    rating: ['bad value', (r) => `rating "${String(r[3])}" is not a number`],
    unknown: ['unknown item', (r) => `item id "${String(r[1])}" is not in the items file`],
  };
  const problems = await engine.rows(`SELECT problem, count(*), arg_min([seq::VARCHAR, i, t_text, r_text], seq) FROM pq_checked
    WHERE problem IS NOT NULL AND problem <> 'below' GROUP BY problem ORDER BY min(seq)`);
  for (const [problem, n, first] of problems) {
    const example = (first as { items: unknown[] }).items;
    const [reason, message] = messages[problem as string];
    issues.rejectMany(reason, Number(n), `${spec.path} row ${String(example[0])}`, message(example));
  }
  const filtered = await engine.count(`SELECT count(*) FROM pq_checked WHERE problem = 'below'`);
  await store.adopt('pq_checked', 'problem IS NULL', 'seq');
  return filtered;
}

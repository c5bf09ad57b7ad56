// What every importer shares: item records with their categories, and the final step from the
// interactions table (store.ts) to the canonical data set, run in the engine: k-core filtering, dense
// ids in natural key order, time order (ties in file order), sequences.parquet written by DuckDB.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ITEMS_FILE, makeManifest, SEQUENCES_FILE, SEQUENCES_ROW_GROUP, writeDatasetFiles, writeItemsFile } from '../dataset.js';
import { compileTextTemplate, DEFAULT_TEXT_TEMPLATE } from '../text.js';
import type { Items, Manifest } from '../types.js';
import type { ImportEngine } from './engine.js';
import { sqlString } from './engine.js';
import type { InputIssues } from './issues.js';
import { dropInteractions, INTERACTIONS_TABLE as X } from './store.js';

/** An item's fields as read from the items file, and its category path (most general first). */
export interface ItemRecord {
  fields: Record<string, unknown>;
  categories: string[];
}

/** What an importer leaves besides the interactions table. */
export interface ReadResult {
  itemRecords: Map<string, ItemRecord> | null;
  /** Whether the source has times (else `t` is 0 and file order is time order). */
  timed: boolean;
  source: Record<string, unknown>;
}

export interface BuildOptions {
  textTemplate?: string;
  /** k-core: drop users and items with fewer interactions, repeatedly until stable (0 = off). */
  minInteractions?: number;
  /** Keep items of the items file that no user interacted with (default: only interacted items). */
  allItems?: boolean;
}

/** A category list from an array (nested lists: the first path) or a string split on `separator`. */
export function categoryList(value: unknown, separator = ','): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) {
    const path = value.length > 0 && Array.isArray(value[0]) ? value[0] : value;
    return (path as unknown[]).flat(Infinity).map((v) => String(v).trim()).filter((v) => v.length > 0);
  }
  return String(value).split(separator).map((v) => v.trim()).filter((v) => v.length > 0);
}

/** The items file's keys as the engine table `catalog(key)` (unknown-item checks, --all-items). */
export async function loadCatalog(engine: ImportEngine, records: Map<string, ItemRecord>): Promise<void> {
  await engine.run('CREATE OR REPLACE TABLE catalog (key VARCHAR NOT NULL)');
  const appender = await engine.appender('catalog');
  for (const key of records.keys()) {
    appender.appendVarchar(key);
    appender.endRow();
  }
  appender.closeSync();
}

interface Counts { users: number; items: number; interactions: number }

/** The integer interactions table: (u, i) ids of user_keys/item_keys, t, seq; 24 bytes a row, no strings. */
const PAIRS = 'pairs';

async function counts(engine: ImportEngine): Promise<Counts> {
  const [row] = await engine.rows(`SELECT count(DISTINCT u), count(DISTINCT i), count(*) FROM ${PAIRS}`);
  return { users: Number(row[0]), items: Number(row[1]), interactions: Number(row[2]) };
}

/** Drops users and items with fewer than k interactions until none is left; returns what was removed. */
export async function kCore(engine: ImportEngine, k: number): Promise<{ before: Counts; removed: Counts }> {
  const before = await counts(engine);
  let size = before.interactions;
  for (;;) {
    await engine.run(`DELETE FROM ${PAIRS} WHERE i IN (SELECT i FROM ${PAIRS} GROUP BY i HAVING count(*) < ${k})`);
    await engine.run(`DELETE FROM ${PAIRS} WHERE u IN (SELECT u FROM ${PAIRS} GROUP BY u HAVING count(*) < ${k})`);
    const left = await engine.count(`SELECT count(*) FROM ${PAIRS}`);
    if (left === size) break;
    size = left;
  }
  const after = await counts(engine);
  return {
    before,
    removed: { users: before.users - after.users, items: before.items - after.items, interactions: before.interactions - after.interactions },
  };
}

/**
 * Dense ids 0..n-1 of the keys from `keysSql`, in natural order: numeric when every key is an integer
 * (so "10" follows "9"), else by code points. Creates table `name(key, id)`; returns its size.
 */
async function denseIds(engine: ImportEngine, name: string, keysSql: string): Promise<number> {
  await engine.run(`CREATE OR REPLACE TABLE ${name}_keys AS ${keysSql}`);
  const numeric = await engine.count(`SELECT coalesce(bool_and(regexp_full_match(key, '-?[0-9]{1,15}')), false)::INTEGER FROM ${name}_keys`);
  const order = numeric ? 'CAST(key AS BIGINT), key' : 'key';
  await engine.run(`CREATE OR REPLACE TABLE ${name} AS SELECT key, (row_number() OVER (ORDER BY ${order}) - 1)::INTEGER AS id FROM ${name}_keys`);
  await engine.run(`DROP TABLE ${name}_keys`);
  return engine.count(`SELECT count(*) FROM ${name}`);
}

/**
 * The string-keyed interactions table as integer pairs: users and items get ids in natural key order (user_keys,
 * item_keys), so that k-core filtering and the per-user aggregation below group 4-byte integers, not strings.
 */
async function toPairs(engine: ImportEngine): Promise<void> {
  await denseIds(engine, 'user_keys', `SELECT DISTINCT u AS key FROM ${X}`);
  await denseIds(engine, 'item_keys', `SELECT DISTINCT i AS key FROM ${X}`);
  await engine.run(`CREATE OR REPLACE TABLE ${PAIRS} AS SELECT us.id AS u, it.id AS i, x.t, x.seq FROM ${X} x
    JOIN user_keys us ON x.u = us.key JOIN item_keys it ON x.i = it.key`);
  await dropInteractions(engine);
}

/**
 * Final dense ids, user_ids/item_ids(key, id): the keys left after k-core (items: and the catalog's with
 * --all-items) in natural order. When keys were dropped or added, `pairs` is renumbered to them.
 */
async function finalIds(engine: ImportEngine, withCatalog: string): Promise<{ users: number; items: number }> {
  const users = await denseIds(engine, 'user_ids', `SELECT key FROM user_keys WHERE id IN (SELECT DISTINCT u FROM ${PAIRS})`);
  const items = await denseIds(engine, 'item_ids', `SELECT key FROM item_keys WHERE id IN (SELECT DISTINCT i FROM ${PAIRS})${withCatalog}`);
  const same = await engine.count(`SELECT ((SELECT count(*) FROM user_keys) = ${users} AND (SELECT count(*) FROM item_keys) = ${items})::INTEGER`);
  if (!same) {
    await engine.run(`CREATE OR REPLACE TABLE ${PAIRS} AS SELECT un.id AS u, itn.id AS i, p.t, p.seq FROM ${PAIRS} p
      JOIN user_keys uo ON p.u = uo.id JOIN user_ids un ON uo.key = un.key
      JOIN item_keys io ON p.i = io.id JOIN item_ids itn ON io.key = itn.key`);
  }
  await engine.run('DROP TABLE user_keys');
  await engine.run('DROP TABLE item_keys');
  return { users, items };
}

/**
 * Row groups of 2,048 users: the writer holds a row group in memory, and the default (122,880 rows) of
 * MovieLens-length histories is 19M list values (the 25M-row import ran out of 512MB writing it).
 */
const SEQUENCES_PARQUET = `FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${SEQUENCES_ROW_GROUP}`;

/**
 * Writes user-id-ordered histories (dense item ids in time order, ties in file order) as Parquet. Users
 * are aggregated in batches of about `batchInteractions` (engine.ts) interactions into part files (ordered list
 * states of every user at once would not fit the memory limit), which are then streamed into one file in order.
 */
async function writeSequences(engine: ImportEngine, path: string, timed: boolean, users: number, interactions: number): Promise<void> {
  // An unordered list of (t, seq, i) structs sorted per user: ORDER BY inside the aggregate keeps a sort buffer
  // per group, which ran a 2M-interaction batch of 12k users past 512MB; list_sort of a plain list does not.
  const times = timed ? ', list_transform(events, e -> e.t) AS timestamps' : '';
  const usersPerBatch = Math.max(1, Math.floor((users * engine.config.batchInteractions) / interactions));
  const parts: string[] = [];
  for (let first = 0; first < users; first += usersPerBatch) {
    const part = `${path}.part${parts.length}`;
    await engine.run(`COPY (
      SELECT d.u AS user_id, us.key AS user_key, list_transform(events, e -> e.i) AS items${times}
      FROM (SELECT u, list_sort(list({'t': t, 'seq': seq, 'i': i})) AS events FROM ${PAIRS}
            WHERE u >= ${first} AND u < ${first + usersPerBatch} GROUP BY u) d
      JOIN user_ids us ON us.id = d.u ORDER BY d.u
    ) TO ${sqlString(part)} (${SEQUENCES_PARQUET})`);
    parts.push(part);
  }
  await engine.run(`COPY (SELECT * FROM read_parquet([${parts.map(sqlString).join(', ')}]))
    TO ${sqlString(path)} (${SEQUENCES_PARQUET})`);
  await Promise.all(parts.map((part) => rm(part)));
}

/** Item texts from the template, in id order. */
async function catalogItems(engine: ImportEngine, records: Map<string, ItemRecord> | null, textTemplate: string | undefined): Promise<Items> {
  const template = compileTextTemplate(textTemplate);
  const keys = (await engine.rows('SELECT key FROM item_ids ORDER BY id')).map((r) => r[0] as string);
  const items: Items = { keys, texts: [], categories: [] };
  for (const key of keys) {
    const record = records?.get(key);
    items.categories.push(record?.categories ?? []);
    items.texts.push(template({ ...(record?.fields ?? {}), key, categories: record?.categories ?? [] }, key));
  }
  return items;
}

/** The canonical data set from the interactions table, written to `out` through writeDatasetFiles (locked, checked, marked, atomic). */
export async function buildDataset(engine: ImportEngine, read: ReadResult, options: BuildOptions, issues: InputIssues, out: string): Promise<Manifest> {
  const k = options.minInteractions ?? 0;
  if (!Number.isInteger(k) || k < 0) throw new Error(`--min-interactions must be an integer >= 0, got ${k}`);
  await toPairs(engine);
  const core = k > 1 ? await kCore(engine, k) : null;
  const interactions = await engine.count(`SELECT count(*) FROM ${PAIRS}`);
  if (interactions === 0) {
    throw new Error(`no users left${k > 1 ? ` after ${k}-core filtering (--min-interactions ${k})` : ''}: nothing to import`);
  }
  const withCatalog = options.allItems && read.itemRecords ? ' UNION SELECT key FROM catalog' : '';
  if (withCatalog) await loadCatalog(engine, read.itemRecords!);
  const { users, items } = await finalIds(engine, withCatalog);
  const source: Record<string, unknown> = { ...read.source, textTemplate: options.textTemplate ?? DEFAULT_TEXT_TEMPLATE };
  if (core) source.kCore = { minInteractions: k, before: { users: core.before.users, interactions: core.before.interactions }, removed: core.removed };
  if (options.allItems) source.allItems = true;
  const manifest = makeManifest({ users, items, interactions, timestamps: read.timed }, { source, skipped: { ...issues.skipped } });
  const catalog = await catalogItems(engine, read.itemRecords, options.textTemplate);
  return writeDatasetFiles(out, manifest, async (tmp) => {
    await writeSequences(engine, join(tmp, SEQUENCES_FILE), read.timed, users, interactions);
    await writeItemsFile(join(tmp, ITEMS_FILE), catalog);
  });
}

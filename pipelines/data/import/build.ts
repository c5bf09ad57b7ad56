// What every importer shares: item records with their categories, and the final step from the
// interactions table (store.ts) to the canonical data set, run in the engine: k-core filtering, dense
// ids in natural key order, time order (ties in file order), sequences.parquet written by DuckDB.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ITEMS_FILE, makeManifest, SEQUENCES_FILE, writeDatasetFiles, writeItemsFile } from '../dataset.js';
import { compileTextTemplate, DEFAULT_TEXT_TEMPLATE } from '../text.js';
import type { Items, Manifest } from '../types.js';
import type { ImportEngine } from './engine.js';
import { sqlString } from './engine.js';
import type { InputIssues } from './issues.js';
import { INTERACTIONS_TABLE as X } from './store.js';

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

async function counts(engine: ImportEngine): Promise<Counts> {
  const [row] = await engine.rows(`SELECT count(DISTINCT u), count(DISTINCT i), count(*) FROM ${X}`);
  return { users: Number(row[0]), items: Number(row[1]), interactions: Number(row[2]) };
}

/** Drops users and items with fewer than k interactions until none is left; returns what was removed. */
export async function kCore(engine: ImportEngine, k: number): Promise<{ before: Counts; removed: Counts }> {
  const before = await counts(engine);
  let size = before.interactions;
  for (;;) {
    await engine.run(`DELETE FROM ${X} WHERE i IN (SELECT i FROM ${X} GROUP BY i HAVING count(*) < ${k})`);
    await engine.run(`DELETE FROM ${X} WHERE u IN (SELECT u FROM ${X} GROUP BY u HAVING count(*) < ${k})`);
    const left = await engine.count(`SELECT count(*) FROM ${X}`);
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
 * Writes user-id-ordered histories (dense item ids in time order, ties in file order) as Parquet. Users
 * are aggregated in batches of about `batchInteractions` (engine.ts) interactions into part files (list states of
 * every user at once would not fit the memory limit), which are then streamed into one file in order.
 */
async function writeSequences(engine: ImportEngine, path: string, timed: boolean, users: number, interactions: number): Promise<void> {
  await engine.run(`CREATE OR REPLACE TABLE dense AS SELECT us.id AS uid, it.id AS iid, x.t, x.seq FROM ${X} x
    JOIN user_ids us ON x.u = us.key JOIN item_ids it ON x.i = it.key ORDER BY uid`);
  const times = timed ? ', list(t ORDER BY t, seq) AS timestamps' : '';
  const usersPerBatch = Math.max(1, Math.floor((users * engine.config.batchInteractions) / interactions));
  const parts: string[] = [];
  for (let first = 0; first < users; first += usersPerBatch) {
    const part = `${path}.part${parts.length}`;
    await engine.run(`COPY (
      SELECT d.uid AS user_id, us.key AS user_key, d.items${timed ? ', d.timestamps' : ''}
      FROM (SELECT uid, list(iid ORDER BY t, seq) AS items${times} FROM dense
            WHERE uid >= ${first} AND uid < ${first + usersPerBatch} GROUP BY uid) d
      JOIN user_ids us ON us.id = d.uid ORDER BY d.uid
    ) TO ${sqlString(part)} (FORMAT parquet, COMPRESSION zstd)`);
    parts.push(part);
  }
  await engine.run('DROP TABLE dense');
  await engine.run(`COPY (SELECT * FROM read_parquet([${parts.map(sqlString).join(', ')}]))
    TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`);
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
  const core = k > 1 ? await kCore(engine, k) : null;
  const interactions = await engine.count(`SELECT count(*) FROM ${X}`);
  if (interactions === 0) {
    throw new Error(`no users left${k > 1 ? ` after ${k}-core filtering (--min-interactions ${k})` : ''}: nothing to import`);
  }
  const withCatalog = options.allItems && read.itemRecords ? ' UNION SELECT key FROM catalog' : '';
  if (withCatalog) await loadCatalog(engine, read.itemRecords!);
  const items = await denseIds(engine, 'item_ids', `SELECT DISTINCT i AS key FROM ${X}${withCatalog}`);
  const users = await denseIds(engine, 'user_ids', `SELECT DISTINCT u AS key FROM ${X}`);
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

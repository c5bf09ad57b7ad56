// A data set's users read from sequences.parquet one row group at a time (2,048 users a group as the import
// engine and writeDataset write them), so that a pass over all users (recommend) holds one group, not every
// history: memory stays flat in the number of users. Each group is checked as readDataset checks the whole file
// (dense user ids in row order, item ids in the catalog, no empty history); timestamps are not read.
import { join } from 'node:path';
import { readInt32Column, readInt32ListColumn, readUtf8Column } from './parquet.js';
import { ParquetRowGroups } from './parquetStream.js';
import { readManifest, SEQUENCES_FILE } from './dataset.js';

/** Users `first`, `first + 1`, ... with their keys and time-ordered item ids. */
export interface UserChunk {
  first: number;
  userKeys: string[];
  items: Int32Array[];
}

export interface UserStreamOptions {
  /** Users [from, to) (default: all). */
  from?: number;
  to?: number;
  /** Catalog size: item ids must be in [0, items). */
  items: number;
}

/** The number of users of a data set directory (its manifest, checked against sequences.parquet's row count). */
export async function datasetUserCount(dir: string): Promise<number> {
  const manifest = await readManifest(dir);
  const groups = await ParquetRowGroups.open(join(dir, SEQUENCES_FILE));
  try {
    if (groups.numRows !== manifest.users) throw new Error(`${dir}: manifest.json says ${manifest.users} users but ${SEQUENCES_FILE} has ${groups.numRows} rows`);
    return manifest.users;
  } finally {
    groups.close();
  }
}

/** Reads users [from, to) of the data set in `dir`, one sequences.parquet row group per chunk. */
export async function* readUserChunks(dir: string, options: UserStreamOptions): AsyncGenerator<UserChunk> {
  const path = join(dir, SEQUENCES_FILE);
  const groups = await ParquetRowGroups.open(path);
  try {
    const total = groups.numRows;
    const from = options.from ?? 0;
    const to = options.to ?? total;
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= total)) {
      throw new Error(`${path}: users [${from}, ${to}) are not within its ${total} rows`);
    }
    let start = 0;
    for (let g = 0; g < groups.rowGroupRows.length && start < to; g++) {
      const end = start + groups.rowGroupRows[g];
      if (end > from) {
        const table = await groups.read(g, ['user_id', 'user_key', 'items']);
        const ids = readInt32Column(table, 'user_id', path);
        const keys = readUtf8Column(table, 'user_key', path);
        const items = readInt32ListColumn(table, 'items', path);
        const lo = Math.max(from, start) - start;
        const hi = Math.min(to, end) - start;
        for (let r = lo; r < hi; r++) checkUser(path, start + r, ids[r], keys[r], items[r], options.items);
        yield { first: start + lo, userKeys: keys.slice(lo, hi), items: items.slice(lo, hi) };
      }
      start = end;
    }
  } finally {
    groups.close();
  }
}

function checkUser(path: string, user: number, id: number, key: string, items: Int32Array, catalog: number): void {
  if (id !== user) throw new Error(`${path}: column "user_id" must be 0..n-1 in row order; row ${user} has ${id}`);
  if (items.length === 0) throw new Error(`${path}: user "${key}" (id ${user}) has an empty history`);
  for (let j = 0; j < items.length; j++) {
    const item = items[j];
    if (item < 0 || item >= catalog) throw new Error(`${path}: user "${key}" (id ${user}) position ${j}: item id ${item} is not in the catalog [0, ${catalog})`);
  }
}

/**
 * The data set's user keys (and a multi-domain data set's user domains) without their sequences: what resolving an
 * --input table with histories needs (a known user's id and domain), read one row group at a time.
 */
export async function readUserKeys(dir: string): Promise<{ userKeys: string[]; domains?: string[] }> {
  const path = join(dir, SEQUENCES_FILE);
  const groups = await ParquetRowGroups.open(path);
  try {
    const withDomains = groups.hasColumn('domain');
    const userKeys: string[] = [];
    const domains: string[] = [];
    for (let g = 0; g < groups.rowGroupRows.length; g++) {
      const table = await groups.read(g, withDomains ? ['user_key', 'domain'] : ['user_key']);
      for (const key of readUtf8Column(table, 'user_key', path)) userKeys.push(key);
      if (withDomains) for (const d of readUtf8Column(table, 'domain', path)) domains.push(d);
    }
    return withDomains ? { userKeys, domains } : { userKeys };
  } finally {
    groups.close();
  }
}

/** The `domain` column of sequences.parquet alone (a multi-domain data set's user domains), or undefined. */
export async function readUserDomains(dir: string): Promise<string[] | undefined> {
  const path = join(dir, SEQUENCES_FILE);
  const groups = await ParquetRowGroups.open(path);
  try {
    if (!groups.hasColumn('domain')) return undefined;
    const domains: string[] = [];
    for (let g = 0; g < groups.rowGroupRows.length; g++) domains.push(...readUtf8Column(await groups.read(g, ['domain']), 'domain', path));
    return domains;
  } finally {
    groups.close();
  }
}

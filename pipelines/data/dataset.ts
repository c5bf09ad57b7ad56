// The canonical data set directory (README "Data formats"):
//   items.parquet      item_id int32 (dense, 0..items-1, row order), key utf8, text utf8, categories list<utf8>
//   sequences.parquet  user_id int32 (dense, row order), user_key utf8, items list<int32> (time order),
//                      timestamps list<float64> (unix seconds; only when the source has times)
//   manifest.json      { version, users, items, interactions, source, createdAt, skipped?, domains?, ... }
// A multi-domain data set (`semid data merge`, merge.ts) adds a `domain` utf8 column to both files.
//   embeddings/        NAME.parquet (+ NAME.json), see embeddings.ts
// The directory is written as a whole (writeDirAtomic): a new import REPLACES the data set, embeddings/
// included, because embeddings of another catalog would silently misalign with the new item ids.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkNotInput, checkOutputDir, outputMark, withLock, writeDirAtomic, writeJsonAtomic, writeMark, type OutputRule,
} from '../../tokenizer/io/index.js';
import {
  float64ListVector, hasColumn, int32ListVector, int32Vector, makeTable, readInt32Column,
  readParquetTable, readUtf8Column, readUtf8ListColumn, utf8ListVector, utf8Vector, writeParquetTable,
} from './parquet.js';
import { readSequencesFile } from './sequencesFile.js';
import type { Dataset, Items, Manifest, Sequences } from './types.js';

export const DATASET_VERSION = 1;
export const ITEMS_FILE = 'items.parquet';
export const SEQUENCES_FILE = 'sequences.parquet';
export const MANIFEST_FILE = 'manifest.json';
export const EMBEDDINGS_DIR = 'embeddings';
/** Users per row group of sequences.parquet (the import engine writes the same): the unit users are streamed in. */
export const SEQUENCES_ROW_GROUP = 2048;

export interface DatasetContent {
  items: Items;
  sequences: Sequences;
  /** Where it came from: format, files, options (stored in the manifest). */
  source: Record<string, unknown>;
  /** Rows skipped with --skip-invalid, by reason. */
  skipped?: Record<string, number>;
  /** Extra manifest fields (e.g. generator settings). */
  extra?: Record<string, unknown>;
}

export function countInteractions(sequences: Sequences): number {
  let n = 0;
  for (const s of sequences.items) n += s.length;
  return n;
}

function checkUnique(keys: readonly string[], what: string, source: string): void {
  const seen = new Map<string, number>();
  keys.forEach((key, i) => {
    const first = seen.get(key);
    if (first !== undefined) throw new Error(`${source}: duplicate ${what} "${key}" (ids ${first} and ${i})`);
    seen.set(key, i);
  });
}

/**
 * Domains come on both items and users or on neither, and every item of a user's sequence belongs to the user's
 * domain: decoding restricted to the user's domain relies on it.
 */
function checkDomains(items: Items, sequences: Sequences, source: string): void {
  if (!items.domains && !sequences.domains) return;
  if (!items.domains || !sequences.domains) {
    throw new Error(`${source}: a domain column on ${items.domains ? 'items' : 'users'} only; a multi-domain data set has one on both`);
  }
  if (items.domains.length !== items.keys.length) throw new Error(`${source}: ${items.keys.length} items but ${items.domains.length} item domains`);
  if (sequences.domains.length !== sequences.userKeys.length) throw new Error(`${source}: ${sequences.userKeys.length} users but ${sequences.domains.length} user domains`);
  sequences.items.forEach((seq, u) => {
    const domain = sequences.domains![u];
    for (let j = 0; j < seq.length; j++) {
      const itemDomain = items.domains![seq[j]];
      if (itemDomain !== domain) {
        throw new Error(`${source}: user "${sequences.userKeys[u]}" (domain "${domain}") position ${j}: item "${items.keys[seq[j]]}" is of domain "${itemDomain}"`);
      }
    }
  });
}

/** Checks the invariants every reader relies on; `source` names the data in errors. */
export function validateDataset(items: Items, sequences: Sequences, source: string): void {
  const nItems = items.keys.length;
  if (items.texts.length !== nItems || items.categories.length !== nItems) {
    throw new Error(`${source}: items have ${nItems} keys but ${items.texts.length} texts and ${items.categories.length} category lists`);
  }
  const nUsers = sequences.userKeys.length;
  if (sequences.items.length !== nUsers) {
    throw new Error(`${source}: ${nUsers} user keys but ${sequences.items.length} sequences`);
  }
  if (sequences.timestamps && sequences.timestamps.length !== nUsers) {
    throw new Error(`${source}: ${nUsers} sequences but ${sequences.timestamps.length} timestamp lists`);
  }
  checkUnique(items.keys, 'item key', source);
  checkUnique(sequences.userKeys, 'user key', source);
  for (let u = 0; u < nUsers; u++) {
    const seq = sequences.items[u];
    if (seq.length === 0) throw new Error(`${source}: user "${sequences.userKeys[u]}" (id ${u}) has an empty history`);
    for (let j = 0; j < seq.length; j++) {
      const item = seq[j];
      if (!Number.isInteger(item) || item < 0 || item >= nItems) {
        throw new Error(`${source}: user "${sequences.userKeys[u]}" (id ${u}) position ${j}: item id ${item} is not in the catalog [0, ${nItems})`);
      }
    }
    const times = sequences.timestamps?.[u];
    if (times) {
      if (times.length !== seq.length) {
        throw new Error(`${source}: user "${sequences.userKeys[u]}" has ${seq.length} items but ${times.length} timestamps`);
      }
      for (let j = 0; j < times.length; j++) {
        if (!Number.isFinite(times[j])) throw new Error(`${source}: user "${sequences.userKeys[u]}" position ${j}: timestamp ${times[j]} is not finite`);
        if (j > 0 && times[j] < times[j - 1]) {
          throw new Error(`${source}: user "${sequences.userKeys[u]}" position ${j}: timestamps go back in time (${times[j - 1]} then ${times[j]})`);
        }
      }
    }
  }
  checkDomains(items, sequences, source);
}

/** A data set directory semid may replace: its own (marked, or with the files of an older semid's data set). */
export const DATASET_RULE: OutputRule = { kind: 'dataset', signature: [MANIFEST_FILE, ITEMS_FILE, SEQUENCES_FILE] };

/** Import options that name input files (by their `semid data import` flag names). */
const INPUT_FLAGS = ['sequences', 'interactions', 'items', 'ratings', 'movies', 'reviews', 'meta'] as const;

/**
 * Checks, before any work, that a data set may be written to `out` from these inputs: `out` is missing, empty or
 * a semid data set, is none of the inputs, and every input file exists and is not empty (errors name the file).
 */
export async function checkDatasetOutput(out: string, inputs: Partial<Record<(typeof INPUT_FLAGS)[number], string>> = {}): Promise<void> {
  const named = Object.fromEntries(INPUT_FLAGS.filter((f) => typeof inputs[f] === 'string').map((f) => [`--${f}`, inputs[f]]));
  checkNotInput(out, named);
  for (const [flag, path] of Object.entries(named)) {
    const info = await stat(path!).catch(() => null);
    if (!info) throw new Error(`${flag} ${path}: no such file`);
    if (info.isFile() && info.size === 0) throw new Error(`${flag} ${path} is empty (0 bytes): nothing to import`);
  }
  await checkOutputDir(out, DATASET_RULE);
}

/** The manifest of a data set with these counts (`source`, `skipped` and `extra` from `data`). */
export function makeManifest(counts: { users: number; items: number; interactions: number; timestamps: boolean }, data: Omit<DatasetContent, 'items' | 'sequences'>): Manifest {
  return {
    version: DATASET_VERSION,
    ...counts,
    source: data.source,
    createdAt: new Date().toISOString(),
    ...(data.skipped && Object.keys(data.skipped).length ? { skipped: data.skipped } : {}),
    ...(data.extra ?? {}),
  };
}

/** items.parquet of `items` (dense ids in row order). */
export async function writeItemsFile(path: string, items: Items): Promise<void> {
  await writeParquetTable(path, makeTable({
    item_id: int32Vector(Int32Array.from(items.keys, (_, i) => i)),
    key: utf8Vector(items.keys),
    text: utf8Vector(items.texts),
    categories: utf8ListVector(items.categories),
    ...(items.domains ? { domain: utf8Vector(items.domains) } : {}),
  }));
}

/** sequences.parquet of `sequences` (dense user ids in row order). */
export async function writeSequencesFile(path: string, sequences: Sequences, options: { rowGroupSize?: number } = {}): Promise<void> {
  const columns: Parameters<typeof makeTable>[0] = {
    user_id: int32Vector(Int32Array.from(sequences.userKeys, (_, i) => i)),
    user_key: utf8Vector(sequences.userKeys),
    items: int32ListVector(sequences.items),
  };
  if (sequences.timestamps) columns.timestamps = float64ListVector(sequences.timestamps);
  if (sequences.domains) columns.domain = utf8Vector(sequences.domains);
  await writeParquetTable(path, makeTable(columns), { rowGroupSize: options.rowGroupSize ?? SEQUENCES_ROW_GROUP });
}

/** Writes items.parquet and sequences.parquet of a data set into the staging directory `tmp`. */
export type DatasetFilesWriter = (tmp: string) => Promise<void>;

/**
 * The one writer path of every data set (in-memory content or an import engine's tables): with `dir` locked, checks
 * that it may be written (checkDatasetOutput, with the inputs named in `manifest.source`), lets `writeFiles` fill a
 * staging directory, adds the manifest and the output mark, and swaps the directory in atomically (replacing a
 * previous data set, embeddings included).
 */
export async function writeDatasetFiles(dir: string, manifest: Manifest, writeFiles: DatasetFilesWriter): Promise<Manifest> {
  const inputs = Object.fromEntries(INPUT_FLAGS.map((f) => [f, manifest.source[f]]).filter(([, v]) => typeof v === 'string'));
  return withLock(dir, async () => {
    await checkDatasetOutput(dir, inputs);
    await writeDirAtomic(dir, async (tmp) => {
      await writeFiles(tmp);
      await writeJsonAtomic(join(tmp, MANIFEST_FILE), manifest);
      await writeMark(tmp, outputMark('dataset'));
    });
    return manifest;
  });
}

/**
 * Writes a complete data set directory atomically (replacing a previous data set, embeddings included), with
 * `dir` locked; refuses a directory that is not semid's or that holds one of the inputs named in `data.source`.
 */
export async function writeDataset(dir: string, data: DatasetContent): Promise<Manifest> {
  const { items, sequences } = data;
  validateDataset(items, sequences, dir);
  const manifest = makeManifest({
    users: sequences.userKeys.length,
    items: items.keys.length,
    interactions: countInteractions(sequences),
    timestamps: sequences.timestamps !== null,
  }, data);
  return writeDatasetFiles(dir, manifest, async (tmp) => {
    await writeItemsFile(join(tmp, ITEMS_FILE), items);
    await writeSequencesFile(join(tmp, SEQUENCES_FILE), sequences);
  });
}

/** Reads manifest.json of a data set directory. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${dir}: not a semid data set (no ${MANIFEST_FILE}); create one with "semid data import" or "semid data generate"`);
    }
    throw err;
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  for (const field of ['users', 'items', 'interactions'] as const) {
    if (!Number.isInteger(manifest[field]) || manifest[field] < 0) {
      throw new Error(`${path}: "${field}" must be an integer >= 0, got ${JSON.stringify(manifest[field])}`);
    }
  }
  return manifest;
}

function checkDenseIds(ids: Int32Array, source: string, name: string): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== i) throw new Error(`${source}: column "${name}" must be 0..${ids.length - 1} in row order; row ${i} has ${ids[i]}`);
  }
}

/** A data set's catalog alone: manifest and items (what inference needs besides the users it streams). */
export type DatasetCatalog = Pick<Dataset, 'dir' | 'manifest' | 'items'>;

/** Reads a data set's manifest and items.parquet (checked: dense ids, the manifest's item count); no sequences. */
export async function readCatalog(dir: string): Promise<DatasetCatalog> {
  const manifest = await readManifest(dir);
  const items = await readItems(dir);
  if (manifest.items !== items.keys.length) throw new Error(`${dir}: ${MANIFEST_FILE} says ${manifest.items} items but ${ITEMS_FILE} holds ${items.keys.length}`);
  checkUnique(items.keys, 'item key', dir);
  return { dir, manifest, items };
}

async function readItems(dir: string): Promise<Items> {
  const itemsPath = join(dir, ITEMS_FILE);
  const itemsTable = await readParquetTable(itemsPath);
  checkDenseIds(readInt32Column(itemsTable, 'item_id', itemsPath), itemsPath, 'item_id');
  const items: Items = {
    keys: readUtf8Column(itemsTable, 'key', itemsPath),
    texts: readUtf8Column(itemsTable, 'text', itemsPath),
    categories: hasColumn(itemsTable, 'categories')
      ? readUtf8ListColumn(itemsTable, 'categories', itemsPath)
      : Array.from({ length: itemsTable.numRows }, () => []),
    ...(hasColumn(itemsTable, 'domain') ? { domains: readUtf8Column(itemsTable, 'domain', itemsPath) } : {}),
  };
  return items;
}

/**
 * Reads and validates a data set directory written by writeDataset. `timestamps: false` leaves them on disk
 * (`sequences.timestamps` null): training and evaluation never read them, and at 8 bytes an interaction they are
 * twice the items.
 */
export async function readDataset(dir: string, options: { timestamps?: boolean } = {}): Promise<Dataset> {
  const manifest = await readManifest(dir);
  const items = await readItems(dir);
  const sequencesPath = join(dir, SEQUENCES_FILE);
  const sequences = await readSequencesFile(sequencesPath, { timestamps: options.timestamps ?? true, interactions: manifest.interactions });
  validateDataset(items, sequences, dir);
  const interactions = countInteractions(sequences);
  if (manifest.items !== items.keys.length || manifest.users !== sequences.userKeys.length || manifest.interactions !== interactions) {
    throw new Error(
      `${dir}: ${MANIFEST_FILE} says ${manifest.users} users, ${manifest.items} items, ${manifest.interactions} interactions, ` +
      `but the Parquet files hold ${sequences.userKeys.length}, ${items.keys.length}, ${interactions}`,
    );
  }
  return { dir, manifest, items, sequences };
}

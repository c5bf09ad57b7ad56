// Item embeddings of a data set: DIR/embeddings/NAME.parquet with `item_id` int32 and `embedding`
// fixed_size_list<float32>[dim], one row per item in item-id order, plus NAME.json (dim, rows, and what
// made them: model, template...). Both the writer and the reader check shape and finiteness.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmbeddingMatrix } from '../../tokenizer/index.js';
import { writeJsonAtomic } from '../../tokenizer/io/index.js';
import { EMBEDDINGS_DIR, readManifest } from './dataset.js';
import { fixedSizeListVector, int32Vector, makeTable, readFixedSizeListColumn, readInt32Column, readParquetTable, writeParquetTable } from './parquet.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`embedding name must be letters, digits, ".", "_" or "-" (not starting with a dot), got "${name}"`);
  }
}

export function embeddingsPath(dataDir: string, name = 'default'): string {
  checkName(name);
  return join(dataDir, EMBEDDINGS_DIR, `${name}.parquet`);
}

function embeddingsMetaPath(dataDir: string, name: string): string {
  return join(dataDir, EMBEDDINGS_DIR, `${name}.json`);
}

/** Throws on the first NaN/Inf, naming the item and dimension. */
function checkFinite(m: EmbeddingMatrix, source: string): void {
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      throw new Error(`${source}: embedding of item ${Math.floor(i / m.dim)} has ${m.data[i]} at dimension ${i % m.dim}`);
    }
  }
}

/** Writes embeddings for every item of the data set in `dataDir` (atomically), with optional metadata. */
export async function writeEmbeddings(dataDir: string, name: string, m: EmbeddingMatrix, meta: Record<string, unknown> = {}): Promise<void> {
  const path = embeddingsPath(dataDir, name);
  if (!Number.isInteger(m.dim) || m.dim < 1) throw new Error(`${path}: embedding dim must be an integer >= 1, got ${m.dim}`);
  if (m.data.length !== m.rows * m.dim) throw new Error(`${path}: data has ${m.data.length} values, expected rows x dim = ${m.rows} x ${m.dim}`);
  const manifest = await readManifest(dataDir);
  if (m.rows !== manifest.items) {
    throw new Error(`${path}: ${m.rows} embedding rows but the data set has ${manifest.items} items`);
  }
  checkFinite(m, path);
  await writeEmbeddingsFiles(dataDir, name, m, meta);
}

/**
 * The files of writeEmbeddings without its check against the manifest: for a writer that builds a whole data set
 * directory (merge.ts, in its staging directory before the manifest is there) and has checked the rows itself.
 */
export async function writeEmbeddingsFiles(dataDir: string, name: string, m: EmbeddingMatrix, meta: Record<string, unknown> = {}): Promise<void> {
  const table = makeTable({
    item_id: int32Vector(Int32Array.from({ length: m.rows }, (_, i) => i)),
    embedding: fixedSizeListVector(m.data, m.dim),
  });
  await mkdir(join(dataDir, EMBEDDINGS_DIR), { recursive: true });
  await writeParquetTable(embeddingsPath(dataDir, name), table);
  await writeJsonAtomic(embeddingsMetaPath(dataDir, name), { ...meta, name, rows: m.rows, dim: m.dim, createdAt: new Date().toISOString() });
}

/** Reads the metadata written beside an embeddings file ({} when there is none). */
export async function readEmbeddingsMeta(dataDir: string, name = 'default'): Promise<Record<string, unknown>> {
  checkName(name);
  try {
    return JSON.parse(await readFile(embeddingsMetaPath(dataDir, name), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${embeddingsMetaPath(dataDir, name)}: ${(err as Error).message}`);
  }
}

/** Reads embeddings of the data set in `dataDir`: one row per item, checked for count and finiteness. */
export async function readEmbeddings(dataDir: string, name = 'default'): Promise<EmbeddingMatrix> {
  const path = embeddingsPath(dataDir, name);
  const manifest = await readManifest(dataDir);
  let table;
  try {
    table = await readParquetTable(path);
  } catch (err) {
    if ((err as Error).message.endsWith('file not found')) {
      throw new Error(`${path}: no embeddings named "${name}" for this data set; compute them first (semid embed)`);
    }
    throw err;
  }
  const ids = readInt32Column(table, 'item_id', path);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== i) throw new Error(`${path}: rows must be in item-id order 0..${ids.length - 1}; row ${i} has item_id ${ids[i]}`);
  }
  if (ids.length !== manifest.items) {
    throw new Error(`${path}: ${ids.length} embedding rows but the data set has ${manifest.items} items (re-embed after a re-import)`);
  }
  const { width, data } = readFixedSizeListColumn(table, 'embedding', path, 'float32');
  const m: EmbeddingMatrix = { rows: ids.length, dim: width, data: data as Float32Array };
  checkFinite(m, path);
  return m;
}

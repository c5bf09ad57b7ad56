// Where the benchmarks' real data comes from: Amazon Beauty in the public-data folder (../shared/data
// beside the repository, or SEMID_DATA_DIR / --data-dir), imported with the same importer users run.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importDataset, readDataset, type Dataset, type ImportResult } from '../pipelines/index.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The public-data folder: SEMID_DATA_DIR, else ../shared/data beside the repository; null when absent. */
export function defaultDataDir(): string | null {
  const dir = process.env.SEMID_DATA_DIR ?? join(REPO_ROOT, '..', 'shared', 'data');
  return existsSync(dir) ? dir : null;
}

export interface BeautyFiles {
  sequences: string;
  items: string;
}

/** Beauty.txt and Beauty.items.jsonl, or null (with nothing thrown) when the data set is absent. */
export function beautyFiles(dataDir: string | null): BeautyFiles | null {
  if (!dataDir) return null;
  const sequences = join(dataDir, 'beauty', 'Beauty.txt');
  const items = join(dataDir, 'beauty', 'Beauty.items.jsonl');
  return existsSync(sequences) && existsSync(items) ? { sequences, items } : null;
}

/** The message a suite records when Beauty is absent. */
export function beautyAbsent(dataDir: string | null): string {
  return `Amazon Beauty not found (${dataDir ? `${dataDir}/beauty/Beauty.txt` : 'no public-data folder: set SEMID_DATA_DIR or --data-dir'}): skipped`;
}

/** Imports Beauty (s3rec format, as `semid data import --format s3rec`) into `out`. */
export function importBeauty(files: BeautyFiles, out: string): Promise<ImportResult> {
  return importDataset({ format: 's3rec', sequences: files.sequences, items: files.items, out, quiet: true });
}

/** Beauty imported into `out` and read back. */
export async function loadBeauty(files: BeautyFiles, out: string): Promise<Dataset> {
  await importBeauty(files, out);
  return readDataset(out);
}

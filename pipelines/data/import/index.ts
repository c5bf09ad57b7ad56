// `semid data import`: read a public format into the canonical data set (README "Data formats").
import type { Manifest } from '../types.js';
import { writeDataset } from '../dataset.js';
import { compileTextTemplate } from '../text.js';
import { AMAZON_DEFAULT_MIN_INTERACTIONS, readAmazon } from './amazon.js';
import type { RawImport } from './build.js';
import { buildDataset } from './build.js';
import { readInterJson } from './interJson.js';
import { InputIssues } from './issues.js';
import { readMovieLens } from './movielens.js';
import type { ImportFormat, ImportOptions } from './options.js';
import { IMPORT_FORMATS } from './options.js';
import { readS3Rec } from './s3rec.js';
import { readInteractionTable } from './table.js';

export type { ImportFormat, ImportOptions } from './options.js';
export { IMPORT_FORMATS } from './options.js';
export type { ItemRecord, History, RawImport, BuildOptions } from './build.js';
export { buildDataset, kCore, sortKeys, categoryList, InteractionLog } from './build.js';
export { InputIssues } from './issues.js';
export type { SkipReason } from './issues.js';
export { parseJsonOrPython } from './pyLiteral.js';
export { parseCsv } from './csv.js';

const READERS: Record<ImportFormat, (o: ImportOptions, issues: InputIssues) => Promise<RawImport>> = {
  's3rec': readS3Rec,
  'inter-json': readInterJson,
  'movielens': readMovieLens,
  'amazon': readAmazon,
  'csv': readInteractionTable,
  'parquet': readInteractionTable,
};

export interface ImportResult {
  manifest: Manifest;
  /** Skipped-row lines (reason, count, first example), empty when nothing was skipped. */
  warnings: string[];
  seconds: number;
}

/** Reads `options.format` and writes the data set to `options.out` (atomically, replacing it). */
export async function importDataset(options: ImportOptions): Promise<ImportResult> {
  const start = performance.now();
  const read = READERS[options.format];
  if (!read) throw new Error(`--format must be one of ${IMPORT_FORMATS.join(', ')}; got "${options.format}"`);
  if (!options.out) throw new Error('--out DIR is required');
  compileTextTemplate(options.textTemplate); // validate the template before reading anything
  const issues = new InputIssues(Boolean(options.skipInvalid));
  const raw = await read(options, issues);
  const minInteractions = options.minInteractions ?? (options.format === 'amazon' ? AMAZON_DEFAULT_MIN_INTERACTIONS : 0);
  const content = buildDataset(raw, { ...options, minInteractions }, issues);
  const manifest = await writeDataset(options.out, content);
  return { manifest, warnings: issues.summary(), seconds: (performance.now() - start) / 1000 };
}

// `semid data import`: read a public format into the canonical data set (README "Data formats").
import type { Manifest } from '../types.js';
import { compileTextTemplate } from '../text.js';
import { AMAZON_DEFAULT_MIN_INTERACTIONS, readAmazon } from './amazon.js';
import type { ReadResult } from './build.js';
import { buildDataset } from './build.js';
import type { ImportContext } from './context.js';
import { withEngine } from './engine.js';
import { readInterJson } from './interJson.js';
import { InputIssues } from './issues.js';
import { readMovieLens } from './movielens.js';
import type { ImportFormat, ImportOptions } from './options.js';
import { IMPORT_FORMATS } from './options.js';
import { NotUtf8Error } from './read.js';
import { readS3Rec } from './s3rec.js';
import { InteractionStore } from './store.js';
import { readInteractionTable } from './table.js';

export type { ImportFormat, ImportOptions } from './options.js';
export { IMPORT_FORMATS } from './options.js';
export type { ItemRecord, ReadResult, BuildOptions } from './build.js';
export { categoryList } from './build.js';
export { ImportEngine, withEngine, resolveEngine, DEFAULT_ENGINE } from './engine.js';
export type { EngineConfig } from './engine.js';
export { readLines, readTextChunks } from './read.js';
export { InputIssues } from './issues.js';
export type { SkipReason } from './issues.js';
export { parseJsonOrPython } from './pyLiteral.js';
export { parseCsv, CsvParser } from './csv.js';

const READERS: Record<ImportFormat, (ctx: ImportContext) => Promise<ReadResult>> = {
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

/**
 * Reads `options.format` and writes the data set to `options.out` (atomically, replacing it). The rows
 * go through the engine (engine.ts): memory is bounded by DuckDB's limit, not by the input size. A file
 * that turns out not to be UTF-8 is read again from the start as Latin-1.
 */
export async function importDataset(options: ImportOptions): Promise<ImportResult> {
  const start = performance.now();
  const read = READERS[options.format];
  if (!read) throw new Error(`--format must be one of ${IMPORT_FORMATS.join(', ')}; got "${options.format}"`);
  if (!options.out) throw new Error('--out DIR is required');
  compileTextTemplate(options.textTemplate); // validate the template before reading anything
  const minInteractions = options.minInteractions ?? (options.format === 'amazon' ? AMAZON_DEFAULT_MIN_INTERACTIONS : 0);
  const latin1 = new Set<string>();
  return withEngine(async (engine) => {
    for (;;) {
      const issues = new InputIssues(Boolean(options.skipInvalid));
      const store = await InteractionStore.create(engine);
      try {
        const result = await read({ options, issues, engine, store, latin1 });
        store.finish();
        const manifest = await buildDataset(engine, result, { ...options, minInteractions }, issues, options.out);
        return { manifest, warnings: issues.summary(), seconds: (performance.now() - start) / 1000 };
      } catch (err) {
        try { store.finish(); } catch { /* the appender of a failed attempt may already be closed */ }
        if (!(err instanceof NotUtf8Error) || latin1.has(err.path)) throw err;
        latin1.add(err.path);
      }
    }
  });
}

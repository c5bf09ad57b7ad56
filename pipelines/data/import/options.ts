// Options of `semid data import` (the CLI flags, camel-cased). Which files a format reads:
//   s3rec       --sequences FILE [--items FILE]
//   inter-json  --interactions FILE [--items FILE]
//   movielens   --ratings FILE [--movies FILE]
//   amazon      --reviews FILE [--meta FILE]          (k-core 5 by default)
//   csv/parquet --interactions FILE [--items FILE]    (column-name flags below)
import type { BuildOptions } from './build.js';

export const IMPORT_FORMATS = ['s3rec', 'inter-json', 'movielens', 'amazon', 'csv', 'parquet'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportOptions extends BuildOptions {
  format: ImportFormat;
  /** Data set directory to write (replaced as a whole). */
  out: string;
  sequences?: string;
  interactions?: string;
  items?: string;
  ratings?: string;
  movies?: string;
  reviews?: string;
  meta?: string;
  /** Skip and count bad rows instead of stopping at the first. */
  skipInvalid?: boolean;
  /** movielens/amazon/csv/parquet: drop interactions rated below this. */
  minRating?: number;
  /** Field naming the item id in JSONL item files. */
  itemKeyField?: string;
  /** csv/parquet column names (defaults: the first present of common names). */
  userColumn?: string;
  itemColumn?: string;
  timeColumn?: string;
  ratingColumn?: string;
  itemKeyColumn?: string;
  categoriesColumn?: string;
  /** csv: field delimiter (default "," or tab for .tsv); list separator inside a cell (default "|"). */
  delimiter?: string;
  listSeparator?: string;
  /** Bytes per read when streaming a file (default 1 MiB; tests use a few bytes). */
  chunkBytes?: number;
  /** csv/movielens: read with the JS reader only, not DuckDB's (a benchmark compares the two). */
  jsReader?: boolean;
  /** No progress lines on stderr. */
  quiet?: boolean;
}

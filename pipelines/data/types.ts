// The canonical on-disk data set (see README "Data formats"): items.parquet, sequences.parquet,
// manifest.json, and embeddings/NAME.parquet. Item and user ids are dense 0-based integers.

export interface Items {
  /** Original item key as in the source data, by dense item id. */
  keys: string[];
  /** Text built from the item's fields by the import template. */
  texts: string[];
  /** Category path, most general first (may be empty per item). */
  categories: string[][];
  /** Domain name per item (multi-domain data sets, `semid data merge`); absent in a single-domain data set. */
  domains?: string[];
}

export interface Sequences {
  /** Original user key, by dense user id. */
  userKeys: string[];
  /** Time-ordered dense item ids per user. */
  items: Int32Array[];
  /** Unix seconds per interaction, parallel to `items`, when the source has them. */
  timestamps: Float64Array[] | null;
  /** Domain name per user (multi-domain data sets); a user's items all belong to its domain. */
  domains?: string[];
}

export interface Manifest {
  users: number;
  items: number;
  interactions: number;
  /** Where it came from: format, files, options. */
  source: Record<string, unknown>;
  createdAt: string;
  /** Rows skipped with --skip-invalid, by reason. */
  skipped?: Record<string, number>;
  [key: string]: unknown;
}

export interface Dataset {
  dir: string;
  manifest: Manifest;
  items: Items;
  sequences: Sequences;
}

/** One training or evaluation example of the leave-one-out protocol. */
export interface Example {
  user: number;
  /** The last `maxHistory` items before the target, oldest first. */
  history: Int32Array;
  target: number;
}

export type SplitName = 'train' | 'valid' | 'test';

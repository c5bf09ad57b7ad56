// The types every tokenizer shares. A tokenizer turns item embeddings into semantic IDs: one code per level.

/** A dense row-major float32 matrix: one row per item. */
export interface EmbeddingMatrix {
  rows: number;
  dim: number;
  data: Float32Array; // [rows, dim]
}

/**
 * Semantic IDs of `rows` items: `codes[r * levels.length + l]` is item r's code at position l, in
 * `[0, levels[l])`. When collisions were resolved, the last position is the disambiguation code.
 */
export interface SemanticIds {
  levels: number[];
  codes: Int32Array; // [rows, levels.length]
}

/** Options for one `fit` call (the method's own settings live in its config). */
export interface FitOptions {
  /** Seed for every random choice (k-means++ draws, initial weights, batch order). */
  seed?: number;
  /** Print nothing (tests). */
  silent?: boolean;
  /** IDs made elsewhere, one row per item (`fixed` imports them; other methods ignore them). */
  importedIds?: SemanticIds;
  /** Domain id per row (multi-domain data): RQ-VAE's `domainContrastive` term uses it; other methods ignore it. */
  domains?: Int32Array;
}

/** Health of one code position: how much of its codebook is in use. */
export interface LevelReport {
  /** Codes available at this position. */
  size: number;
  /** Distinct codes that some item uses. */
  used: number;
  /** used / size. */
  usage: number;
  /** exp(entropy) of the code distribution: the effective number of codes (size when perfectly balanced). */
  perplexity: number;
  /** size - used. */
  dead: number;
}

/** One point of a training curve (RQ-VAE, FSQ). */
export interface TrainingPoint {
  epoch: number;
  /** Mean reconstruction error per item (sum of squared errors over dimensions). */
  reconstruction: number;
  /** Total loss the optimiser saw (reconstruction plus codebook/commitment terms). */
  loss: number;
  /** Codes used at the first position on this epoch's batches. */
  firstLevelUsed?: number;
  /** Codes re-initialised because they went unused (dead-code restarts). */
  restarts?: number;
}

/** What `fit` learnt, before collisions are resolved (the pipeline adds the ID-level figures). */
export interface FitReport {
  method: string;
  items: number;
  dim: number;
  seconds: number;
  /** Mean squared reconstruction error per item, sum over dimensions: mean_i ||x_i - decode(encode(x_i))||^2. */
  reconstruction: number;
  /** The same as a fraction of mean ||x_i - mean(x)||^2 (0 = perfect, 1 = no better than the mean). */
  relativeReconstruction: number;
  /** Training curve for the methods trained by gradient descent. */
  curve?: TrainingPoint[];
  /** Anything else the method wants to report (k-means inertia per level...). */
  details?: Record<string, unknown>;
}

/**
 * An item tokenizer: embeddings in, semantic IDs out (one code per position, without the
 * disambiguation position, which `collisions.ts` adds). `decode` is the approximate inverse.
 */
export interface ItemTokenizer {
  readonly method: string;
  /** Code count per position, known once fitted (or from the config where fixed). */
  readonly levels: number[];
  /** The method's resolved config, saved in tokenizer.json. */
  readonly config: object;
  fit(x: EmbeddingMatrix, opts?: FitOptions): Promise<FitReport>;
  encode(x: EmbeddingMatrix): SemanticIds;
  decode(ids: SemanticIds): EmbeddingMatrix;
  /** Writes the method's state files into `dir` (tokenizer.json is written by the registry's `saveTokenizer`). */
  save(dir: string): Promise<void>;
}

/** How a method is made: from a (partial, user-given) config, or from a saved directory. */
export interface TokenizerFactory {
  /** One-line description for help texts. */
  description: string;
  create(config: Record<string, unknown>): ItemTokenizer;
  /** Restores a fitted tokenizer from `dir`, given the config saved in its tokenizer.json. */
  load(dir: string, config: Record<string, unknown>): Promise<ItemTokenizer>;
}

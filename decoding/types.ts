// The decoder sees a model only through a StepScorer: it asks for log-probabilities of the next code
// given prefixes, and never imports a tensor library.

/** One decoding step for a batch of rows (each row is one beam of one user). */
export interface DecodeStepInput {
  /** Position being generated, 0-based (0 = first code of the semantic ID). */
  step: number;
  /** Codes chosen so far per row, per-level code indices (not vocabulary tokens). */
  prefixes: Int32Array; // [rows, step]
  /** Which of the session's users (index into the contexts given to `start`) each row belongs to. */
  rowUser: Int32Array; // [rows]
  /** Which row of the previous step each row extends (-1 at step 0): lets a scorer reorder its cache. */
  rowParent: Int32Array; // [rows]
}

/** A scoring session for a fixed batch of users: encoder work is done once, in `start`. */
export interface ScoringSession {
  /**
   * Log-probabilities of every code of level `input.step` for every row: row-major, a slice of the
   * model's log-softmax (so scores add up across steps into the sequence log-probability).
   */
  next(input: DecodeStepInput): Promise<Float32Array>; // [rows, levels[step]]
  /** Releases whatever the session holds (tensors, caches). */
  close(): void;
}

/** A model as the decoder sees it. `C` is the per-user context (history, user id: the scorer decides). */
export interface StepScorer<C = unknown> {
  /** Code count of each position of the semantic ID, the disambiguation position included. */
  readonly levels: readonly number[];
  start(contexts: readonly C[]): Promise<ScoringSession>;
}

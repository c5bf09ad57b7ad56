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
  /**
   * The most users one session should hold (what it keeps between steps grows with its users): beam search
   * splits a larger batch into sessions of at most this many users. Absent: no limit.
   */
  readonly maxUsersPerSession?: number;
  start(contexts: readonly C[]): Promise<ScoringSession>;
}

/** What a logits processor sees at one step: the scorer's input plus the search's trie position per row. */
export interface ProcessorStep extends DecodeStepInput {
  /** Rows in this step. */
  rows: number;
  /** Codes at this position (`levels[step]`): the row stride of the log-probs. */
  width: number;
  /** Trie node (depth `step`) of each row's prefix, -1 where the prefix is no catalog item's prefix. */
  nodes: Int32Array; // [rows]
}

/** A Hugging Face `LogitsProcessor`-style mask: sets disallowed entries of `logProbs` to -Infinity, in place. */
export interface LogitsProcessor {
  apply(step: ProcessorStep, logProbs: Float32Array): void; // logProbs: [rows, width]
}

/** One recommended item: its semantic ID and the sequence log-probability of that ID. */
export interface Candidate {
  item: number;
  ids: Int32Array; // [levels.length]
  score: number;
}

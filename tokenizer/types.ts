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

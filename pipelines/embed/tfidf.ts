// Term lists -> a sublinear TF-IDF matrix in CSR form (items x vocabulary).
//
//   weight(t, d) = (1 + ln tf(t, d)) * idf(t),   idf(t) = ln((1 + n) / (1 + df(t))) + 1     (scikit-learn's
//   smoothed idf), for terms with minDf <= df(t) <= maxDfRatio * n, at most maxFeatures of them (highest df).
//
// Terms come in families (the first character: `w` words, `c` character n-grams, `p` SentencePiece
// pieces). Each row's family blocks are L2-normalised separately and scaled to share the row's unit norm
// by `familyWeights`, so one family with many terms (character n-grams) cannot drown another (words).
import type { CsrMatrix } from './sparse.js';

export interface TfidfConfig {
  /** Drop terms found in fewer items (default 2: a term in one item links it to nothing). */
  minDf: number;
  /** Drop terms found in more than this fraction of items (default 1: keep all; idf already discounts them). */
  maxDfRatio: number;
  /** Keep at most this many terms, most frequent first (default 262,144). */
  maxFeatures: number;
  /** Share of each row's squared norm by term family (default: equal shares among the families present). */
  familyWeights: Record<string, number>;
}

export const DEFAULT_TFIDF: TfidfConfig = { minDf: 2, maxDfRatio: 1, maxFeatures: 262_144, familyWeights: { w: 1, c: 1, p: 1 } };

export function resolveTfidf(partial: Partial<TfidfConfig> = {}): TfidfConfig {
  const config = { ...DEFAULT_TFIDF, ...partial, familyWeights: { ...DEFAULT_TFIDF.familyWeights, ...partial.familyWeights } };
  if (!Number.isInteger(config.minDf) || config.minDf < 1) throw new Error(`\`minDf\` must be an integer >= 1, got ${config.minDf}`);
  if (!(config.maxDfRatio > 0 && config.maxDfRatio <= 1)) throw new Error(`\`maxDfRatio\` must be in (0, 1], got ${config.maxDfRatio}`);
  if (!Number.isInteger(config.maxFeatures) || config.maxFeatures < 1) {
    throw new Error(`\`maxFeatures\` must be an integer >= 1, got ${config.maxFeatures}`);
  }
  for (const [family, w] of Object.entries(config.familyWeights)) {
    if (!(Number.isFinite(w) && w >= 0)) throw new Error(`\`familyWeights.${family}\` must be a finite number >= 0, got ${w}`);
  }
  return config;
}

export interface TfidfResult {
  matrix: CsrMatrix;
  /** Kept terms, by column. */
  vocabulary: string[];
  /** idf by column. */
  idf: Float64Array;
  /** Distinct terms seen before pruning. */
  termsSeen: number;
  /** Rows with no kept term (their row is empty: an item whose text has no known term). */
  emptyRows: number[];
}

/** A growable Int32 buffer. */
class IntBuffer {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/** Builds the TF-IDF matrix of `docs` (one term list per row). */
export function tfidfMatrix(docs: readonly string[][], partial: Partial<TfidfConfig> = {}): TfidfResult {
  const config = resolveTfidf(partial);
  const n = docs.length;

  // Pass 1: ids by first appearance, document frequencies, and each row's (id, count) pairs.
  const ids = new Map<string, number>();
  const terms: string[] = [];
  const df: number[] = [];
  const lastRow: number[] = [];
  const slot: number[] = [];
  const rowStart = new Int32Array(n + 1);
  const rowIds = new IntBuffer();
  const rowCounts = new IntBuffer();
  for (let d = 0; d < n; d++) {
    for (const term of docs[d]) {
      let id = ids.get(term);
      if (id === undefined) {
        id = terms.length;
        ids.set(term, id);
        terms.push(term);
        df.push(0);
        lastRow.push(-1);
        slot.push(0);
      }
      if (lastRow[id] !== d) {
        lastRow[id] = d;
        slot[id] = rowIds.length;
        rowIds.push(id);
        rowCounts.push(1);
        df[id]++;
      } else {
        rowCounts.data[slot[id]]++;
      }
    }
    rowStart[d + 1] = rowIds.length;
  }

  // Pass 2: prune, then renumber the kept terms in first-appearance order (deterministic).
  const maxDf = config.maxDfRatio * n;
  const familyWeight = (term: string) => config.familyWeights[term[0]] ?? 1;
  let candidates: number[] = [];
  for (let id = 0; id < terms.length; id++) {
    if (df[id] >= config.minDf && df[id] <= maxDf && familyWeight(terms[id]) > 0) candidates.push(id);
  }
  if (candidates.length > config.maxFeatures) {
    candidates = candidates.sort((x, y) => df[y] - df[x] || x - y).slice(0, config.maxFeatures).sort((x, y) => x - y);
  }
  const column = new Int32Array(terms.length).fill(-1);
  candidates.forEach((id, col) => { column[id] = col; });
  const vocabulary = candidates.map((id) => terms[id]);
  const idf = Float64Array.from(candidates, (id) => Math.log((1 + n) / (1 + df[id])) + 1);
  const families = [...new Set(vocabulary.map((t) => t[0]))].sort();
  const familyOf = Uint8Array.from(vocabulary, (t) => families.indexOf(t[0]));
  const weightOf = families.map((f) => config.familyWeights[f] ?? 1);

  // Pass 3: CSR with ascending columns, sublinear tf x idf, per-family block normalisation.
  const indptr = new Int32Array(n + 1);
  let nnz = 0;
  for (let d = 0; d < n; d++) {
    for (let p = rowStart[d]; p < rowStart[d + 1]; p++) if (column[rowIds.data[p]] >= 0) nnz++;
    indptr[d + 1] = nnz;
  }
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const countByColumn = new Int32Array(vocabulary.length);
  const familySq = new Float64Array(families.length);
  const emptyRows: number[] = [];
  for (let d = 0; d < n; d++) {
    const start = indptr[d];
    let fill = start;
    for (let p = rowStart[d]; p < rowStart[d + 1]; p++) {
      const col = column[rowIds.data[p]];
      if (col < 0) continue;
      indices[fill++] = col;
      countByColumn[col] = rowCounts.data[p];
    }
    const end = fill;
    if (end === start) {
      emptyRows.push(d);
      continue;
    }
    indices.subarray(start, end).sort();
    familySq.fill(0);
    for (let p = start; p < end; p++) {
      const col = indices[p];
      const w = (1 + Math.log(countByColumn[col])) * idf[col];
      values[p] = w;
      familySq[familyOf[col]] += w * w;
    }
    let presentWeight = 0;
    for (let f = 0; f < families.length; f++) if (familySq[f] > 0) presentWeight += weightOf[f];
    for (let p = start; p < end; p++) {
      const f = familyOf[indices[p]];
      values[p] *= Math.sqrt(weightOf[f] / presentWeight) / Math.sqrt(familySq[f]);
    }
  }
  return {
    matrix: { rows: n, cols: vocabulary.length, indptr, indices, values },
    vocabulary,
    idf,
    termsSeen: terms.length,
    emptyRows,
  };
}

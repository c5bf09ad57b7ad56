// Okapi BM25 over the catalog's item texts: the lexical baseline of `semid eval --task search` (and what a search
// engine without a model returns). Words as the embedder sees them (embed/textTerms.ts: NFKC, lower case, runs of
// letters and digits). score(q, d) = sum over query words w in d of
//   idf(w) * tf(w, d) * (k1 + 1) / (tf(w, d) + k1 * (1 - b + b * |d| / avgdl)),   idf(w) = ln(1 + (N - df + .5) / (df + .5))
// (the non-negative idf of Lucene). Written here rather than taken from a package: a few dozen lines, no dependency.
import { normalizeText, splitWords } from '../embed/index.js';

export interface Bm25Config {
  k1: number;
  b: number;
}

export const DEFAULT_BM25: Bm25Config = { k1: 1.2, b: 0.75 };

export class Bm25Index {
  private readonly postings = new Map<string, { docs: Int32Array; tf: Int32Array }>();
  private readonly docLength: Int32Array;
  private readonly avgLength: number;
  readonly size: number;

  constructor(texts: readonly string[], readonly config: Bm25Config = DEFAULT_BM25) {
    if (!(config.k1 >= 0) || !(config.b >= 0 && config.b <= 1)) throw new Error(`BM25: k1 must be >= 0 and b in [0, 1], got k1 ${config.k1}, b ${config.b}`);
    this.size = texts.length;
    this.docLength = new Int32Array(texts.length);
    const lists = new Map<string, { docs: number[]; tf: number[] }>();
    texts.forEach((text, d) => {
      const words = splitWords(normalizeText(text));
      this.docLength[d] = words.length;
      const counts = new Map<string, number>();
      for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
      for (const [w, n] of counts) {
        const list = lists.get(w) ?? lists.set(w, { docs: [], tf: [] }).get(w)!;
        list.docs.push(d);
        list.tf.push(n);
      }
    });
    for (const [w, l] of lists) this.postings.set(w, { docs: Int32Array.from(l.docs), tf: Int32Array.from(l.tf) });
    let total = 0;
    for (const n of this.docLength) total += n;
    this.avgLength = texts.length > 0 ? total / texts.length : 0;
  }

  /** Scores of every item for a query (0 where no query word occurs). */
  scores(query: string): Float64Array {
    const out = new Float64Array(this.size);
    const { k1, b } = this.config;
    for (const w of new Set(splitWords(normalizeText(query)))) {
      const p = this.postings.get(w);
      if (!p) continue;
      const idf = Math.log(1 + (this.size - p.docs.length + 0.5) / (p.docs.length + 0.5));
      for (let i = 0; i < p.docs.length; i++) {
        const d = p.docs[i];
        const tf = p.tf[i];
        out[d] += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * this.docLength[d]) / (this.avgLength || 1)));
      }
    }
    return out;
  }

  /** The top `k` items (score > 0), best first; ties by item id. */
  search(query: string, k: number): { item: number; score: number }[] {
    const s = this.scores(query);
    const hits: { item: number; score: number }[] = [];
    for (let d = 0; d < s.length; d++) if (s[d] > 0) hits.push({ item: d, score: s[d] });
    hits.sort((x, y) => y.score - x.score || x.item - y.item);
    return hits.slice(0, k);
  }
}

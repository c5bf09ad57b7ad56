// Exact ranking of the whole catalog, for models that score every item at once: a SETRec/RPG-style parallel
// head (an item's score is the sum of its codes' per-level log-probabilities: a gather-add over the
// [items, levels] code table) or SASRec's softmax over item ids. No search, no trie: a partial sort per user.
import { topItems } from './exactScoring.js';
import type { Candidate } from './types.js';

/** A model that scores every catalog item for a batch of users. `C` is the per-user context. */
export interface CatalogScorer<C = unknown> {
  /** Catalog size: the width of each user's row of scores. */
  readonly items: number;
  /** The most users one call should hold (the score matrix grows with them). Absent: no limit. */
  readonly maxUsersPerCall?: number;
  /** Scores [users, items], row-major, higher is better (log-probabilities for a generative model). */
  scoreCatalog(contexts: readonly C[]): Promise<Float32Array>;
}

/**
 * Item scores [users, items] from per-level log-probabilities [users, sum(levels)] (level l's codes at columns
 * offset(l) .. offset(l) + levels[l] - 1) and the code table [items, L]: score(u, i) = sum_l logp(u, l, code(i, l)).
 */
export function sumLevelScores(levelLogProbs: Float32Array, levels: readonly number[], codes: Int32Array): Float32Array {
  const L = levels.length;
  const width = levels.reduce((a, b) => a + b, 0);
  const items = codes.length / L;
  if (!Number.isInteger(items)) throw new Error(`the code table has ${codes.length} codes, not a multiple of its ${L} levels`);
  if (levelLogProbs.length % width !== 0) throw new Error(`level log-probabilities have ${levelLogProbs.length} values, not a multiple of sum(levels) = ${width}`);
  const users = levelLogProbs.length / width;
  // Column of each item's code per level, level-major, so the inner loop reads one column table.
  const columns = new Int32Array(L * items); // [L, items]
  let offset = 0;
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < items; i++) {
      const c = codes[i * L + l];
      if (c < 0 || c >= levels[l]) throw new Error(`item ${i} has code ${c} at level ${l}, outside [0, ${levels[l]})`);
      columns[l * items + i] = offset + c;
    }
    offset += levels[l];
  }
  const out = new Float32Array(users * items); // [users, items]
  for (let u = 0; u < users; u++) {
    const row = out.subarray(u * items, (u + 1) * items);
    const lp = levelLogProbs.subarray(u * width, (u + 1) * width);
    for (let l = 0; l < L; l++) {
      const col = columns.subarray(l * items, (l + 1) * items);
      for (let i = 0; i < items; i++) row[i] += lp[col[i]];
    }
  }
  return out;
}

/** scores [users, items] with row u shifted by -offsets[u], in place (logits minus their log-normaliser). */
export function subtractRows(scores: Float32Array, offsets: ArrayLike<number>): Float32Array {
  const users = offsets.length;
  const items = users > 0 ? scores.length / users : 0;
  if (!Number.isInteger(items)) throw new Error(`${scores.length} scores are not a whole number of rows for ${users} users`);
  for (let u = 0; u < users; u++) {
    const o = offsets[u];
    for (let i = u * items, end = i + items; i < end; i++) scores[i] -= o;
  }
  return scores;
}

export interface CatalogRankOptions {
  topK: number;
  /** Leave out the user's history items (the masked protocol of S3-Rec's full-sort evaluation). */
  excludeHistory?: boolean;
  /** Each item's semantic ID, for the candidates' `ids` (empty arrays when absent). */
  idsOf?: (item: number) => Int32Array;
  /** Only these items may be returned (e.g. the users' domain's items; null/absent: all), as beam search's `allowItems`. */
  allowItems?: ArrayLike<number> | null;
}

/** 1 for each allowed item (null: every item is); the error names an item outside the catalog. */
function allowMask(items: number, allowItems: ArrayLike<number> | null | undefined): Uint8Array | null {
  if (!allowItems) return null;
  const mask = new Uint8Array(items);
  for (let i = 0; i < allowItems.length; i += 1) {
    const item = allowItems[i];
    if (!Number.isInteger(item) || item < 0 || item >= items) throw new Error(`allowItems: item ${item} is not in the catalog (items are 0..${items - 1})`);
    mask[item] = 1;
  }
  return mask;
}

/** The exact top-K items of every user, best first, with their scores. */
export async function rankCatalog<C extends { history: Int32Array }>(scorer: CatalogScorer<C>, contexts: readonly C[], options: CatalogRankOptions): Promise<Candidate[][]> {
  const { topK } = options;
  if (!Number.isInteger(topK) || topK < 1) throw new Error(`\`topK\` must be an integer >= 1, got ${topK}`);
  const chunk = scorer.maxUsersPerCall ?? contexts.length;
  const allowed = allowMask(scorer.items, options.allowItems);
  const out: Candidate[][] = [];
  for (let first = 0; first < contexts.length; first += chunk) {
    const part = contexts.slice(first, first + chunk);
    const scores = await scorer.scoreCatalog(part);
    if (scores.length !== part.length * scorer.items) throw new Error(`scoreCatalog returned ${scores.length} scores for ${part.length} users x ${scorer.items} items`);
    part.forEach((ctx, u) => {
      const row = scores.subarray(u * scorer.items, (u + 1) * scorer.items);
      const history = options.excludeHistory ? new Set(ctx.history) : null;
      const skip = history && allowed ? (item: number) => !allowed[item] || history.has(item)
        : history ? (item: number) => history.has(item)
          : allowed ? (item: number) => !allowed[item] : undefined;
      const top = topItems(row, topK, skip);
      out.push(Array.from(top, (item) => ({ item, score: row[item], ids: options.idsOf?.(item) ?? new Int32Array(0) })));
    });
  }
  return out;
}

// Ranking metrics of the leave-one-out protocol (TIGER, S3-Rec, SASRec): one held-out target per user,
// ranked against the full catalog. With a single relevant item, Recall@K is the hit rate and the ideal
// DCG is 1, so NDCG@K = 1 / log2(rank + 2) for a 0-based rank < K, else 0.

/** Metric name -> value, with keys `recall@10`, `ndcg@10`, ... plus `users`. */
export type Metrics = Record<string, number>;

/** 0-based position of `target` in `recommended`, or -1 when it is absent. */
export function rankOf(recommended: ArrayLike<number>, target: number): number {
  for (let i = 0; i < recommended.length; i += 1) if (recommended[i] === target) return i;
  return -1;
}

/** Recall@K of one example: 1 when the target is in the first K. */
export function recallAtK(rank: number, k: number): number {
  return rank >= 0 && rank < k ? 1 : 0;
}

/** NDCG@K of one example with a single relevant item. */
export function ndcgAtK(rank: number, k: number): number {
  return rank >= 0 && rank < k ? 1 / Math.log2(rank + 2) : 0;
}

/** Parses "5,10,20" into sorted distinct cutoffs; names the bad value. */
export function parseKs(text: string | readonly number[]): number[] {
  const parts = typeof text === 'string' ? text.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : text.map(String);
  if (parts.length === 0) throw new Error(`--k needs at least one cutoff, got "${String(text)}"`);
  const ks = parts.map((p) => {
    const k = Number(p);
    if (!Number.isInteger(k) || k < 1) throw new Error(`--k: each cutoff must be an integer >= 1, got "${p}"`);
    return k;
  });
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** Mean Recall@K and NDCG@K over examples given by their target ranks (-1 = not recommended). */
export function metricsFromRanks(ranks: ArrayLike<number>, ks: readonly number[], select?: (example: number) => boolean): Metrics {
  const out: Metrics = {};
  let users = 0;
  const recall = new Float64Array(ks.length);
  const ndcg = new Float64Array(ks.length);
  for (let i = 0; i < ranks.length; i += 1) {
    if (select && !select(i)) continue;
    users += 1;
    const rank = ranks[i];
    ks.forEach((k, j) => {
      recall[j] += recallAtK(rank, k);
      ndcg[j] += ndcgAtK(rank, k);
    });
  }
  ks.forEach((k, j) => {
    out[`recall@${k}`] = users > 0 ? recall[j] / users : 0;
    out[`ndcg@${k}`] = users > 0 ? ndcg[j] / users : 0;
  });
  out.users = users;
  return out;
}

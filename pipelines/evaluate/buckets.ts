// Popularity buckets: items split by training popularity (head / torso / tail, a third of the interactions each;
// cold: never seen), and every method's metrics on the users whose target falls in each bucket.
import type { Example } from '../data/index.js';
import { metricsFromRanks } from '../metrics.js';

export interface PopularityBucket {
  name: string;
  /** Training interaction counts of the bucket's items: [min, max]. */
  minCount: number;
  maxCount: number;
  items: number;
}

/**
 * Splits items by training popularity into `head` / `torso` / `tail`, each holding about a third of the
 * training interactions (most popular first), plus `cold` for items never seen in training. Returns the
 * buckets and each item's bucket index.
 */
export function popularityBuckets(counts: Float64Array): { buckets: PopularityBucket[]; bucketOf: Int8Array } {
  const order = Array.from(counts.keys()).sort((a, b) => counts[b] - counts[a] || a - b);
  const totalCount = counts.reduce((s, c) => s + c, 0);
  const names = ['head', 'torso', 'tail', 'cold'];
  const bucketOf = new Int8Array(counts.length);
  let cumulative = 0;
  for (const item of order) {
    if (counts[item] === 0) bucketOf[item] = 3;
    else {
      bucketOf[item] = Math.min(2, Math.floor((3 * cumulative) / Math.max(totalCount, 1)));
      cumulative += counts[item];
    }
  }
  const buckets = names.map((name, b) => {
    let min = Infinity;
    let max = -Infinity;
    let items = 0;
    for (let i = 0; i < counts.length; i += 1) {
      if (bucketOf[i] !== b) continue;
      items += 1;
      min = Math.min(min, counts[i]);
      max = Math.max(max, counts[i]);
    }
    return { name, minCount: items ? min : 0, maxCount: items ? max : 0, items };
  });
  return { buckets, bucketOf };
}

/** Per popularity bucket: its items, their training counts and each method's metrics on the users whose target is in it. */
export function metricsByPopularity(counts: Float64Array, examples: readonly Example[], ks: readonly number[], ranks: Record<string, Int32Array>): Record<string, unknown> {
  const { buckets, bucketOf } = popularityBuckets(counts);
  const out: Record<string, unknown> = {};
  buckets.forEach((bucket, b) => {
    const select = (i: number): boolean => bucketOf[examples[i].target] === b;
    out[bucket.name] = {
      items: bucket.items,
      trainingInteractions: [bucket.minCount, bucket.maxCount],
      ...Object.fromEntries(Object.entries(ranks).map(([method, r]) => [method, metricsFromRanks(r, ks, select)])),
    };
  });
  return out;
}

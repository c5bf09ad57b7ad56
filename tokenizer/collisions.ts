// Collisions (TIGER): items whose codes are identical get one more position, a disambiguation code
// 0, 1, 2, ... in item order, so that every item has a distinct semantic ID. New items encoded later
// (cold start) take the smallest free disambiguation code of their prefix; existing IDs never change.
import type { SemanticIds } from './types.js';

export interface CollisionStats {
  items: number;
  /** Distinct IDs before disambiguation. */
  distinctIds: number;
  /** Items that share their ID with an earlier item, as a fraction of all items: 1 - distinctIds / items. */
  collisionRate: number;
  /** Items that share their ID with any other item, as a fraction. */
  collidingItems: number;
  /** Size of the largest group of items with identical IDs. */
  maxBucket: number;
}

function key(codes: Int32Array, row: number, width: number): string {
  let s = '';
  for (let l = 0; l < width; l++) s += (l ? ',' : '') + codes[row * width + l];
  return s;
}

/** Collision figures of IDs without a disambiguation position. */
export function collisionStats(ids: SemanticIds): CollisionStats {
  const width = ids.levels.length;
  const rows = width ? ids.codes.length / width : 0;
  const buckets = new Map<string, number>();
  for (let r = 0; r < rows; r++) {
    const k = key(ids.codes, r, width);
    buckets.set(k, (buckets.get(k) ?? 0) + 1);
  }
  let maxBucket = 0;
  let colliding = 0;
  for (const n of buckets.values()) {
    if (n > maxBucket) maxBucket = n;
    if (n > 1) colliding += n;
  }
  return {
    items: rows,
    distinctIds: buckets.size,
    collisionRate: rows ? 1 - buckets.size / rows : 0,
    collidingItems: rows ? colliding / rows : 0,
    maxBucket,
  };
}

function bucketError(count: number, prefix: string, dedupSize: number): Error {
  return new Error(
    `collisions: ${count} items share the codes (${prefix}), more than the disambiguation range of ${dedupSize} ` +
    `(--dedup-size ${dedupSize}); raise --dedup-size, or use more levels or larger codebooks`,
  );
}

/**
 * Appends the disambiguation position to `ids`: the i-th item (in row order) of a group with identical
 * codes gets code i. Throws when a group is larger than `dedupSize`.
 */
export function disambiguate(ids: SemanticIds, dedupSize: number): SemanticIds {
  if (!Number.isInteger(dedupSize) || dedupSize < 1) throw new Error(`\`dedupSize\` must be an integer >= 1, got ${dedupSize}`);
  const width = ids.levels.length;
  const rows = ids.codes.length / width;
  const out = new Int32Array(rows * (width + 1));
  const seen = new Map<string, number>();
  for (let r = 0; r < rows; r++) {
    const k = key(ids.codes, r, width);
    const n = seen.get(k) ?? 0;
    if (n >= dedupSize) {
      let total = 0;
      for (let s = 0; s < rows; s++) if (key(ids.codes, s, width) === k) total++;
      throw bucketError(total, k, dedupSize);
    }
    seen.set(k, n + 1);
    out.set(ids.codes.subarray(r * width, (r + 1) * width), r * (width + 1));
    out[r * (width + 1) + width] = n;
  }
  return { levels: [...ids.levels, dedupSize], codes: out };
}

/**
 * Gives new items (`fresh`, without a disambiguation position) IDs that do not clash with `existing`
 * (with one): each takes the smallest disambiguation code not yet used by its prefix. `existing` is
 * not changed, so IDs already handed out stay stable.
 */
export function disambiguateNew(existing: SemanticIds, fresh: SemanticIds): SemanticIds {
  const width = fresh.levels.length;
  if (existing.levels.length !== width + 1) {
    throw new Error(`collisions: existing IDs have ${existing.levels.length} positions, expected ${width + 1} (codes plus disambiguation)`);
  }
  const dedupSize = existing.levels[width];
  const used = new Map<string, Set<number>>();
  const existingRows = existing.codes.length / (width + 1);
  for (let r = 0; r < existingRows; r++) {
    const k = key(existing.codes, r, width + 1).split(',').slice(0, width).join(',');
    let set = used.get(k);
    if (!set) used.set(k, (set = new Set()));
    set.add(existing.codes[r * (width + 1) + width]);
  }
  const rows = fresh.codes.length / width;
  const out = new Int32Array(rows * (width + 1));
  for (let r = 0; r < rows; r++) {
    const k = key(fresh.codes, r, width);
    let set = used.get(k);
    if (!set) used.set(k, (set = new Set()));
    let code = 0;
    while (set.has(code)) code++;
    if (code >= dedupSize) throw bucketError(set.size + 1, k, dedupSize);
    set.add(code);
    out.set(fresh.codes.subarray(r * width, (r + 1) * width), r * (width + 1));
    out[r * (width + 1) + width] = code;
  }
  return { levels: [...fresh.levels, dedupSize], codes: out };
}

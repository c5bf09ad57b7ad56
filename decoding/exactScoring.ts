// Exact scoring: the teacher-forced log-probability of every catalog item's full ID for a user, by walking
// the trie level by level. Items share prefixes, so each trie node is scored once per user (one scorer row
// per node), not once per item. Ranks the whole catalog exactly; the yardstick for beam search's misses.
import { TopK } from './topK.js';
import type { PrefixTrie } from './trie.js';
import type { DecodeStepInput, ScoringSession, StepScorer } from './types.js';

export interface ExactScoringOptions {
  /** Most scorer rows in one `next` call (bounds memory: rows x codes floats); default 65,536. */
  maxRows?: number;
}

/** Log-probability of every item for every context: row-major `[contexts, trie.items]`. */
export async function exactScores<C>(
  scorer: StepScorer<C>,
  trie: PrefixTrie,
  contexts: readonly C[],
  options: ExactScoringOptions = {},
): Promise<Float64Array> {
  const L = trie.depth;
  const levels = scorer.levels;
  if (L !== levels.length || levels.some((v, l) => v !== trie.levels[l])) {
    throw new Error(`the scorer's levels [${levels.join(', ')}] differ from the catalog's [${trie.levels.join(', ')}]`);
  }
  const maxRows = options.maxRows ?? 65_536;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new Error(`\`maxRows\` must be an integer >= 1, got ${maxRows}`);
  let widest = 1;
  for (let d = 0; d < L; d += 1) widest = Math.max(widest, trie.nodeCount[d]);
  const usersPerCall = Math.max(1, Math.floor(maxRows / widest));
  const nodePrefixes = prefixesByDepth(trie);
  const n = trie.items;
  const leaves = trie.nodeCount[L];
  const result = new Float64Array(contexts.length * n);
  for (let first = 0; first < contexts.length; first += usersPerCall) {
    const batch = contexts.slice(first, first + usersPerCall);
    const session = await scorer.start(batch);
    try {
      const leafScore = await scoreLeaves(session, trie, nodePrefixes, batch.length); // [users, leaves]
      for (let u = 0; u < batch.length; u += 1) {
        const out = (first + u) * n;
        for (let item = 0; item < n; item += 1) result[out + item] = leafScore[u * leaves + trie.itemLeaf[item]];
      }
    } finally {
      session.close();
    }
  }
  return result;
}

/** The prefix of every node at every depth d < L, `[nodeCount[d], d]`, built once and shared by all users. */
function prefixesByDepth(trie: PrefixTrie): Int32Array[] {
  const nodePrefixes: Int32Array[] = [new Int32Array(0)];
  for (let d = 1; d < trie.depth; d += 1) {
    const count = trie.nodeCount[d];
    const out = new Int32Array(count * d);
    const above = nodePrefixes[d - 1];
    const parent = trie.parent[d];
    const codes = trie.childCode[d - 1];
    for (let j = 0; j < count; j += 1) {
      out.set(above.subarray(parent[j] * (d - 1), (parent[j] + 1) * (d - 1)), j * d);
      out[j * d + d - 1] = codes[j];
    }
    nodePrefixes.push(out);
  }
  return nodePrefixes;
}

/** Teacher-forced log-probability of every leaf for `users` users: one scorer row per (user, node) per depth. */
async function scoreLeaves(session: ScoringSession, trie: PrefixTrie, nodePrefixes: readonly Int32Array[], users: number): Promise<Float64Array> {
  let nodeScore = new Float64Array(users); // [users, nodeCount[0] = 1]
  for (let d = 0; d < trie.depth; d += 1) {
    const count = trie.nodeCount[d];
    const width = trie.levels[d];
    const rows = users * count;
    const logProbs = await session.next(everyNodeStep(trie, nodePrefixes, d, users));
    if (logProbs.length !== rows * width) {
      throw new Error(`the scorer returned ${logProbs.length} log-probs at position ${d}, expected ${rows} rows x ${width} codes = ${rows * width}`);
    }
    const childCount = trie.nodeCount[d + 1];
    const start = trie.childStart[d];
    const codes = trie.childCode[d];
    const childScore = new Float64Array(users * childCount); // [users, nodeCount[d + 1]]
    for (let u = 0; u < users; u += 1) {
      for (let node = 0; node < count; node += 1) {
        const row = u * count + node;
        const s0 = nodeScore[row];
        for (let j = start[node]; j < start[node + 1]; j += 1) {
          childScore[u * childCount + j] = s0 + logProbs[row * width + codes[j]];
        }
      }
    }
    nodeScore = childScore;
  }
  return nodeScore;
}

/** The scorer input of depth d: one row per (user, node), user-major; row parents are the nodes' parents. */
function everyNodeStep(trie: PrefixTrie, nodePrefixes: readonly Int32Array[], d: number, users: number): DecodeStepInput {
  const count = trie.nodeCount[d];
  const rows = users * count;
  const rowUser = new Int32Array(rows);
  const rowParent = new Int32Array(rows);
  const prefixes = new Int32Array(rows * d);
  for (let u = 0; u < users; u += 1) {
    rowUser.fill(u, u * count, (u + 1) * count);
    prefixes.set(nodePrefixes[d], u * count * d);
    if (d === 0) rowParent[u] = -1;
    else {
      const parent = trie.parent[d];
      const above = trie.nodeCount[d - 1];
      for (let j = 0; j < count; j += 1) rowParent[u * count + j] = u * above + parent[j];
    }
  }
  return { step: d, prefixes, rowUser, rowParent };
}

/**
 * The `k` best items of one score row (ties: lower item first), skipping items `skip` rejects. Items arrive in
 * increasing order, so once k are kept an item must score strictly above the worst kept one (a tie loses on its
 * later index): one comparison per item, and `skip` is asked only of items that would enter.
 */
export function topItems(scores: ArrayLike<number>, k: number, skip?: (item: number) => boolean): Int32Array {
  const best = new TopK(Math.max(0, k));
  let floor = -Infinity;
  for (let item = 0; item < scores.length; item += 1) {
    const s = scores[item];
    if (!(s > floor) || (skip && skip(item))) continue; // also drops NaN and -Infinity
    best.offer(s, item);
    floor = best.floor;
  }
  const items = new Int32Array(best.size);
  best.drainBestFirst(new Float64Array(best.size), items, 0);
  return items;
}

/**
 * How much of the exact top-k beam search missed: 1 - |beam top-k ∩ exact top-k| / |exact top-k|, for one
 * user. 0 means beam search found the exact top-k.
 */
export function beamMissRate(beamItems: ArrayLike<number>, exactItems: ArrayLike<number>): number {
  if (exactItems.length === 0) return 0;
  const found = new Set(Array.from(beamItems));
  let hits = 0;
  for (let i = 0; i < exactItems.length; i += 1) if (found.has(exactItems[i])) hits += 1;
  return 1 - hits / exactItems.length;
}

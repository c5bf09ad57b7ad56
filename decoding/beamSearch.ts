// Beam search over a StepScorer, batched across users and beams: one `session.next` call per position for
// every live row of every user. Each user keeps its `beamSize` best prefixes by cumulative log-probability;
// the trie processor keeps them catalog prefixes (constrained mode), so every result is a real item.
// Selection is a bounded heap per user over typed arrays: no row of the vocabulary is ever sorted.
import { ItemFilter, TrieProcessor } from './processors.js';
import type { PrefixTrie } from './trie.js';
import type { Candidate, LogitsProcessor, ProcessorStep, StepScorer } from './types.js';

export interface BeamSearchConfig {
  /** Prefixes kept per user at every position. */
  beamSize: number;
  /** Items returned per user (<= beamSize). */
  topK: number;
  /** Mask every code that leaves the catalog's trie (default true). */
  constrained: boolean;
  /** Never recommend an item of the user's own history (needs `historyOf` or a `history` field). */
  excludeHistory: boolean;
  /** Only these items may be returned (null: all). */
  allowItems: ArrayLike<number> | null;
  /** These items are never returned. */
  denyItems: ArrayLike<number> | null;
}

export const DEFAULT_BEAM_SEARCH: BeamSearchConfig = {
  beamSize: 20,
  topK: 10,
  constrained: true,
  excludeHistory: false,
  allowItems: null,
  denyItems: null,
};

export function resolveBeamSearch(partial: Partial<BeamSearchConfig> = {}): BeamSearchConfig {
  const config = { ...DEFAULT_BEAM_SEARCH, ...stripUndefined(partial) };
  if (!Number.isInteger(config.beamSize) || config.beamSize < 1) throw new Error(`\`beamSize\` must be an integer >= 1, got ${config.beamSize}`);
  if (!Number.isInteger(config.topK) || config.topK < 1) throw new Error(`\`topK\` must be an integer >= 1, got ${config.topK}`);
  if (config.topK > config.beamSize) throw new Error(`\`topK\` (${config.topK}) must be <= \`beamSize\` (${config.beamSize}): the search returns at most one item per beam`);
  return config;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Maps full IDs that are no catalog item (unconstrained search) to items; -1 where it finds none. */
export type InvalidIdFallback = (ids: Int32Array /* [n, L] */, n: number) => Int32Array | number[] | Promise<Int32Array | number[]>;

export interface BeamSearchOptions<C> extends Partial<BeamSearchConfig> {
  /** The items of a user's history, for `excludeHistory` (default: the context's `history` field). */
  historyOf?: (context: C) => ArrayLike<number>;
  /** Extra per-user items to exclude, parallel to the contexts. */
  excludeItems?: readonly (ArrayLike<number> | null | undefined)[];
  /** Unconstrained mode: maps generated IDs that are no catalog item to their nearest item. */
  fallback?: InvalidIdFallback;
  /**
   * More processors, applied after the built-in ones. Where the scorer caps users per session
   * (`maxUsersPerSession`), a larger batch is searched in consecutive sessions and `rowUser` counts from
   * each session's first user.
   */
  processors?: readonly LogitsProcessor[];
}

export interface BeamSearchStats {
  users: number;
  /** Full IDs generated (final beams). */
  generated: number;
  /** Final beams whose ID is no catalog item (always 0 when constrained). */
  invalid: number;
  invalidRate: number;
  /** Invalid IDs the fallback mapped to an item. */
  fallbackMapped: number;
  /** Time inside the scorer (start + next calls) and in the search itself, ms. */
  scorerMs: number;
  searchMs: number;
}

export interface BeamSearchResult {
  /** Per user, best first: at most `topK` distinct items. */
  candidates: Candidate[][];
  stats: BeamSearchStats;
}

function historyFromContext<C>(context: C): ArrayLike<number> {
  const history = (context as { history?: unknown } | null)?.history;
  if (history && typeof (history as ArrayLike<number>).length === 'number') return history as ArrayLike<number>;
  throw new Error('`excludeHistory` needs `historyOf` or contexts with a `history` array');
}

/** "worse" order of the selection heap: lower score, then (for ties) the later row/code. */
function worse(sa: number, ka: number, sb: number, kb: number): boolean {
  return sa < sb || (sa === sb && ka > kb);
}

/**
 * Top-`beamSize` prefixes per user, then the best `topK` items per user. Users are the scorer's contexts
 * (one scoring session for all of them; callers batch).
 */
export async function beamSearch<C>(
  scorer: StepScorer<C>,
  trie: PrefixTrie,
  contexts: readonly C[],
  options: BeamSearchOptions<C> = {},
): Promise<BeamSearchResult> {
  const config = resolveBeamSearch(options);
  const levels = scorer.levels;
  const L = levels.length;
  if (L !== trie.depth || levels.some((v, l) => v !== trie.levels[l])) {
    throw new Error(`the scorer's levels [${levels.join(', ')}] differ from the catalog's [${trie.levels.join(', ')}]`);
  }
  const U = contexts.length;
  const B = config.beamSize;
  const stats: BeamSearchStats = { users: U, generated: 0, invalid: 0, invalidRate: 0, fallbackMapped: 0, scorerMs: 0, searchMs: 0 };
  if (U === 0) return { candidates: [], stats };
  const perSession = scorer.maxUsersPerSession;
  if (perSession !== undefined && (!Number.isInteger(perSession) || perSession < 1)) {
    throw new Error(`the scorer's maxUsersPerSession must be an integer >= 1, got ${perSession}`);
  }
  if (perSession !== undefined && U > perSession) {
    // Users are independent: search them in sessions small enough for the scorer's memory, then merge.
    const candidates: Candidate[][] = [];
    for (let first = 0; first < U; first += perSession) {
      const last = Math.min(U, first + perSession);
      const part = await beamSearch(scorer, trie, contexts.slice(first, last), {
        ...options, excludeItems: options.excludeItems?.slice(first, last),
      });
      candidates.push(...part.candidates);
      for (const key of ['generated', 'invalid', 'fallbackMapped', 'scorerMs', 'searchMs'] as const) stats[key] += part.stats[key];
    }
    stats.invalidRate = stats.generated > 0 ? stats.invalid / stats.generated : 0;
    return { candidates, stats };
  }
  const tStart = performance.now();

  const userItems: (ArrayLike<number> | null)[] = [];
  for (let u = 0; u < U; u += 1) {
    const own = options.excludeItems?.[u] ?? null;
    if (!config.excludeHistory) userItems.push(own);
    else {
      const history = (options.historyOf ?? historyFromContext)(contexts[u]);
      userItems.push(own ? [...Array.from(history), ...Array.from(own)] : history);
    }
  }
  const filter = new ItemFilter(trie, { allowItems: config.allowItems, denyItems: config.denyItems, userItems, users: U });
  const processors: LogitsProcessor[] = [];
  const trieProcessor = config.constrained ? new TrieProcessor(trie) : null;
  if (!filter.empty) processors.push(filter);
  if (options.processors) processors.push(...options.processors);

  let t0 = performance.now();
  const session = await scorer.start(contexts);
  stats.scorerMs += performance.now() - t0;
  // Live rows, grouped by user in user order: rows userStart[u] .. userStart[u+1]-1 belong to user u.
  let rows = U;
  let rowUser = new Int32Array(U);
  for (let u = 0; u < U; u += 1) rowUser[u] = u;
  let rowParent = new Int32Array(U).fill(-1);
  let prefixes = new Int32Array(0);
  let nodes = new Int32Array(U); // all at the root
  let scores = new Float64Array(U);
  let userStart = new Int32Array(U + 1);
  for (let u = 0; u <= U; u += 1) userStart[u] = u;
  const heapScore = new Float64Array(B);
  const heapKey = new Float64Array(B);
  try {
    for (let step = 0; step < L && rows > 0; step += 1) {
      const width = levels[step];
      t0 = performance.now();
      const logProbs = await session.next({ step, prefixes, rowUser, rowParent });
      stats.scorerMs += performance.now() - t0;
      if (logProbs.length !== rows * width) {
        throw new Error(`the scorer returned ${logProbs.length} log-probs at position ${step}, expected ${rows} rows x ${width} codes = ${rows * width}`);
      }
      const processorStep: ProcessorStep = { step, prefixes, rowUser, rowParent, rows, width, nodes };
      // The trie constraint is applied sparsely (the selection below visits only allowed codes); its
      // check still runs, so an empty allowed set is the same error as with the mask.
      if (trieProcessor) trieProcessor.check(processorStep);
      for (const p of processors) p.apply(processorStep, logProbs);
      const sparse = trieProcessor !== null;
      const childStart = trie.childStart[step];
      const childCode = trie.childCode[step];

      // Select each user's best B extensions (bounded min-heap keyed by row * width + code).
      const nextUserStart = new Int32Array(U + 1);
      const selKey = new Float64Array(U * B);
      const selScore = new Float64Array(U * B);
      const counts = new Int32Array(U);
      let total = 0;
      for (let u = 0; u < U; u += 1) {
        let count = 0;
        for (let row = userStart[u]; row < userStart[u + 1]; row += 1) {
          const base = row * width;
          const s0 = scores[row];
          // Constrained: only the trie's children can be finite after the mask, so visit only them.
          const lo = sparse ? childStart[nodes[row]] : 0;
          const hi = sparse ? childStart[nodes[row] + 1] : width;
          for (let j = lo; j < hi; j += 1) {
            const c = sparse ? childCode[j] : j;
            const v = logProbs[base + c];
            if (!(v > -Infinity)) {
              if (v !== v) throw new Error(`the scorer returned NaN at position ${step}, row ${row}, code ${c}`);
              continue;
            }
            const s = s0 + v;
            const key = base + c;
            if (count < B) {
              // sift up
              let i = count;
              count += 1;
              while (i > 0) {
                const p = (i - 1) >> 1;
                if (!worse(s, key, heapScore[p], heapKey[p])) break;
                heapScore[i] = heapScore[p];
                heapKey[i] = heapKey[p];
                i = p;
              }
              heapScore[i] = s;
              heapKey[i] = key;
            } else if (worse(heapScore[0], heapKey[0], s, key)) {
              // replace the worst, sift down
              let i = 0;
              for (;;) {
                const l = 2 * i + 1;
                if (l >= count) break;
                const r = l + 1;
                const m = r < count && worse(heapScore[r], heapKey[r], heapScore[l], heapKey[l]) ? r : l;
                if (!worse(heapScore[m], heapKey[m], s, key)) break;
                heapScore[i] = heapScore[m];
                heapKey[i] = heapKey[m];
                i = m;
              }
              heapScore[i] = s;
              heapKey[i] = key;
            }
          }
        }
        // Pop worst-first into the user's slots from the back: best first in the output.
        const at = u * B;
        for (let k = count - 1; k >= 0; k -= 1) {
          selScore[at + k] = heapScore[0];
          selKey[at + k] = heapKey[0];
          const lastS = heapScore[k];
          const lastK = heapKey[k];
          let i = 0;
          for (;;) {
            const l = 2 * i + 1;
            if (l >= k) break;
            const r = l + 1;
            const m = r < k && worse(heapScore[r], heapKey[r], heapScore[l], heapKey[l]) ? r : l;
            if (!worse(heapScore[m], heapKey[m], lastS, lastK)) break;
            heapScore[i] = heapScore[m];
            heapKey[i] = heapKey[m];
            i = m;
          }
          heapScore[i] = lastS;
          heapKey[i] = lastK;
        }
        nextUserStart[u] = total;
        total += count;
        nextUserStart[u + 1] = total;
        counts[u] = count;
      }

      const nextRows = total;
      const nextPrefixes = new Int32Array(nextRows * (step + 1));
      const nextRowUser = new Int32Array(nextRows);
      const nextRowParent = new Int32Array(nextRows);
      const nextNodes = new Int32Array(nextRows);
      const nextScores = new Float64Array(nextRows);
      for (let u = 0; u < U; u += 1) {
        for (let k = 0; k < counts[u]; k += 1) {
          const row = nextUserStart[u] + k;
          const key = selKey[u * B + k];
          const parent = Math.floor(key / width);
          const code = key - parent * width;
          nextRowUser[row] = u;
          nextRowParent[row] = parent;
          nextScores[row] = selScore[u * B + k];
          nextPrefixes.set(prefixes.subarray(parent * step, (parent + 1) * step), row * (step + 1));
          nextPrefixes[row * (step + 1) + step] = code;
          const node = nodes[parent];
          nextNodes[row] = node >= 0 ? trie.child(step, node, code) : -1;
        }
      }
      rows = nextRows;
      prefixes = nextPrefixes;
      rowUser = nextRowUser;
      rowParent = nextRowParent;
      nodes = nextNodes;
      scores = nextScores;
      userStart = nextUserStart;
    }
  } finally {
    session.close();
  }
  // A user whose every prefix was masked (all its items blocked) has no rows left and gets no candidates;
  // if that happened to every user the loop stopped early with rows = 0.

  const candidates: Candidate[][] = [];
  const invalidRows: number[] = [];
  for (let row = 0; row < rows; row += 1) if (nodes[row] < 0) invalidRows.push(row);
  stats.generated = rows;
  stats.invalid = invalidRows.length;
  stats.invalidRate = stats.generated > 0 ? stats.invalid / stats.generated : 0;
  const mapped = new Map<number, number>();
  if (invalidRows.length > 0 && options.fallback) {
    const ids = new Int32Array(invalidRows.length * L);
    invalidRows.forEach((row, k) => ids.set(prefixes.subarray(row * L, (row + 1) * L), k * L));
    t0 = performance.now();
    const items = await options.fallback(ids, invalidRows.length);
    stats.scorerMs += performance.now() - t0;
    invalidRows.forEach((row, k) => {
      const item = items[k];
      if (item !== undefined && item >= 0 && item < trie.items) mapped.set(row, item);
    });
    stats.fallbackMapped = mapped.size;
  }
  for (let u = 0; u < U; u += 1) {
    const out: Candidate[] = [];
    const seen = new Set<number>();
    const push = (item: number, row: number): void => {
      if (out.length >= config.topK || seen.has(item) || !filter.allows(u, item)) return;
      seen.add(item);
      out.push({ item, ids: prefixes.slice(row * L, (row + 1) * L), score: scores[row] });
    };
    for (let row = userStart[u]; row < userStart[u + 1] && out.length < config.topK; row += 1) {
      const leaf = nodes[row];
      if (leaf >= 0) {
        for (const item of trie.itemsOfLeaf(leaf)) push(item, row);
      } else {
        const item = mapped.get(row);
        if (item !== undefined) push(item, row);
      }
    }
    candidates.push(out);
  }
  stats.searchMs = performance.now() - tStart - stats.scorerMs;
  return { candidates, stats };
}

// Beam search over a StepScorer, batched across users and beams: one `session.next` call per position for
// every live row of every user. Each user keeps its `beamSize` best prefixes by cumulative log-probability.
// Constraints are LogitsProcessors applied in order: the trie processor (constrained mode) keeps every prefix
// a catalog prefix, so every result is a real item; then the item filter; then the caller's processors.
import { extendBeams, initialBeams, selectExtensions, type Beams, type CodeRanges } from './beams.js';
import { ItemFilter, TrieProcessor } from './processors.js';
import type { PrefixTrie } from './trie.js';
import type { Candidate, LogitsProcessor, ScoringSession, StepScorer } from './types.js';

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
   * More processors, applied in order after the built-in ones (the trie's mask when constrained, then the
   * item filter), so they see the catalog's mask. They remove codes (set -Infinity); a constrained search
   * never extends a prefix off the trie, whatever a processor writes there. Where the scorer caps users
   * per session (`maxUsersPerSession`), a larger batch is searched in consecutive sessions and `rowUser`
   * counts from each session's first user.
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

/**
 * Top-`beamSize` prefixes per user, then the best `topK` items per user. Users are the scorer's contexts:
 * one scoring session for all of them, or consecutive sessions where the scorer caps users per session.
 */
export async function beamSearch<C>(
  scorer: StepScorer<C>,
  trie: PrefixTrie,
  contexts: readonly C[],
  options: BeamSearchOptions<C> = {},
): Promise<BeamSearchResult> {
  const config = resolveBeamSearch(options);
  const levels = scorer.levels;
  if (levels.length !== trie.depth || levels.some((v, l) => v !== trie.levels[l])) {
    throw new Error(`the scorer's levels [${levels.join(', ')}] differ from the catalog's [${trie.levels.join(', ')}]`);
  }
  if (contexts.length === 0) return { candidates: [], stats: emptyStats(0) };
  const perSession = usersPerSession(scorer);
  if (contexts.length <= perSession) return searchSession(scorer, trie, contexts, config, options);
  return searchInSessions(scorer, trie, contexts, config, options, perSession);
}

/** The scorer's `maxUsersPerSession`, checked; Infinity when it sets none. */
function usersPerSession(scorer: StepScorer<unknown>): number {
  const perSession = scorer.maxUsersPerSession;
  if (perSession === undefined) return Infinity;
  if (!Number.isInteger(perSession) || perSession < 1) {
    throw new Error(`the scorer's maxUsersPerSession must be an integer >= 1, got ${perSession}`);
  }
  return perSession;
}

function emptyStats(users: number): BeamSearchStats {
  return { users, generated: 0, invalid: 0, invalidRate: 0, fallbackMapped: 0, scorerMs: 0, searchMs: 0 };
}

/** Users are independent: search them in sessions small enough for the scorer's memory, then merge. */
async function searchInSessions<C>(
  scorer: StepScorer<C>, trie: PrefixTrie, contexts: readonly C[], config: BeamSearchConfig, options: BeamSearchOptions<C>, perSession: number,
): Promise<BeamSearchResult> {
  const candidates: Candidate[][] = [];
  const stats = emptyStats(contexts.length);
  for (let first = 0; first < contexts.length; first += perSession) {
    const last = Math.min(contexts.length, first + perSession);
    const part = await searchSession(scorer, trie, contexts.slice(first, last), config, {
      ...options, excludeItems: options.excludeItems?.slice(first, last),
    });
    candidates.push(...part.candidates);
    for (const key of ['generated', 'invalid', 'fallbackMapped', 'scorerMs', 'searchMs'] as const) stats[key] += part.stats[key];
  }
  stats.invalidRate = stats.generated > 0 ? stats.invalid / stats.generated : 0;
  return { candidates, stats };
}

/** Adds the time `work` takes to `stats.scorerMs` (the model's share; the rest is the search's). */
type ScorerClock = <T>(work: () => Promise<T> | T) => Promise<T>;

/** One scoring session: every position, then the fallback for invalid IDs, then each user's items. */
async function searchSession<C>(
  scorer: StepScorer<C>, trie: PrefixTrie, contexts: readonly C[], config: BeamSearchConfig, options: BeamSearchOptions<C>,
): Promise<BeamSearchResult> {
  const tStart = performance.now();
  const stats = emptyStats(contexts.length);
  const timeScorer: ScorerClock = async (work) => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      stats.scorerMs += performance.now() - t0;
    }
  };
  const filter = itemFilter(trie, contexts, config, options);
  const processors = processorChain(trie, filter, config, options.processors);
  const session = await timeScorer(() => scorer.start(contexts));
  let beams: Beams;
  try {
    beams = await searchPositions(session, trie, processors, config, contexts.length, timeScorer);
  } finally {
    session.close();
  }
  // A user whose every prefix was masked (all its items blocked) has no rows left and gets no candidates;
  // if that happened to every user the positions stopped early with no rows.
  const invalidRows = rowsOffTrie(beams);
  stats.generated = beams.rows;
  stats.invalid = invalidRows.length;
  stats.invalidRate = stats.generated > 0 ? stats.invalid / stats.generated : 0;
  const mapped = options.fallback ? await mapInvalidIds(beams, invalidRows, trie, options.fallback, timeScorer) : new Map<number, number>();
  stats.fallbackMapped = mapped.size;
  const candidates = assembleCandidates(beams, trie, filter, config.topK, mapped);
  stats.searchMs = performance.now() - tStart - stats.scorerMs;
  return { candidates, stats };
}

function historyFromContext<C>(context: C): ArrayLike<number> {
  const history = (context as { history?: unknown } | null)?.history;
  if (history && typeof (history as ArrayLike<number>).length === 'number') return history as ArrayLike<number>;
  throw new Error('`excludeHistory` needs `historyOf` or contexts with a `history` array');
}

/** The allow/deny lists and each user's excluded items (its history with `excludeHistory`). */
function itemFilter<C>(trie: PrefixTrie, contexts: readonly C[], config: BeamSearchConfig, options: BeamSearchOptions<C>): ItemFilter {
  const userItems = contexts.map((context, u): ArrayLike<number> | null => {
    const own = options.excludeItems?.[u] ?? null;
    if (!config.excludeHistory) return own;
    const history = (options.historyOf ?? historyFromContext)(context);
    return own ? [...Array.from(history), ...Array.from(own)] : history;
  });
  return new ItemFilter(trie, { allowItems: config.allowItems, denyItems: config.denyItems, userItems, users: contexts.length });
}

/** The processors in the order they run: the trie's mask, the item filter, then the caller's. */
function processorChain(trie: PrefixTrie, filter: ItemFilter, config: BeamSearchConfig, extra: readonly LogitsProcessor[] | undefined): LogitsProcessor[] {
  const chain: LogitsProcessor[] = [];
  if (config.constrained) chain.push(new TrieProcessor(trie));
  if (!filter.empty) chain.push(filter);
  if (extra) chain.push(...extra);
  return chain;
}

/** Scores, masks and selects position by position; returns the final beams (full IDs). */
async function searchPositions(
  session: ScoringSession, trie: PrefixTrie, processors: readonly LogitsProcessor[], config: BeamSearchConfig, users: number, timeScorer: ScorerClock,
): Promise<Beams> {
  let beams = initialBeams(users);
  for (let step = 0; step < trie.depth && beams.rows > 0; step += 1) {
    const width = trie.levels[step];
    const { rows, prefixes, rowUser, rowParent, nodes } = beams;
    const logProbs = await timeScorer(() => session.next({ step, prefixes, rowUser, rowParent }));
    if (logProbs.length !== rows * width) {
      throw new Error(`the scorer returned ${logProbs.length} log-probs at position ${step}, expected ${rows} rows x ${width} codes = ${rows * width}`);
    }
    for (const p of processors) p.apply({ step, prefixes, rowUser, rowParent, rows, width, nodes }, logProbs);
    // After the trie processor's mask only a row's trie children can be finite: the selection reads only those.
    const visit: CodeRanges | null = config.constrained ? { start: trie.childStart[step], code: trie.childCode[step] } : null;
    const selection = selectExtensions(beams, logProbs, width, config.beamSize, step, visit);
    beams = extendBeams(beams, selection, width, step, trie);
  }
  return beams;
}

/** Final rows whose full ID is no catalog item (only in unconstrained search). */
function rowsOffTrie(beams: Beams): number[] {
  const rows: number[] = [];
  for (let row = 0; row < beams.rows; row += 1) if (beams.nodes[row] < 0) rows.push(row);
  return rows;
}

/** Row -> item for the invalid rows the fallback maps to a catalog item. */
async function mapInvalidIds(
  beams: Beams, invalidRows: readonly number[], trie: PrefixTrie, fallback: InvalidIdFallback, timeScorer: ScorerClock,
): Promise<Map<number, number>> {
  const mapped = new Map<number, number>();
  if (invalidRows.length === 0) return mapped;
  const L = trie.depth;
  const ids = new Int32Array(invalidRows.length * L);
  invalidRows.forEach((row, k) => ids.set(beams.prefixes.subarray(row * L, (row + 1) * L), k * L));
  const items = await timeScorer(() => fallback(ids, invalidRows.length));
  invalidRows.forEach((row, k) => {
    const item = items[k];
    if (item !== undefined && item >= 0 && item < trie.items) mapped.set(row, item);
  });
  return mapped;
}

/** Per user, walking its rows best first: the rows' items (leaf items, or the fallback's), distinct, allowed, at most `topK`. */
function assembleCandidates(beams: Beams, trie: PrefixTrie, filter: ItemFilter, topK: number, mapped: ReadonlyMap<number, number>): Candidate[][] {
  const L = trie.depth;
  const candidates: Candidate[][] = [];
  for (let u = 0; u + 1 < beams.userStart.length; u += 1) {
    const out: Candidate[] = [];
    const seen = new Set<number>();
    const push = (item: number, row: number): void => {
      if (out.length >= topK || seen.has(item) || !filter.allows(u, item)) return;
      seen.add(item);
      out.push({ item, ids: beams.prefixes.slice(row * L, (row + 1) * L), score: beams.scores[row] });
    };
    for (let row = beams.userStart[u]; row < beams.userStart[u + 1] && out.length < topK; row += 1) {
      const leaf = beams.nodes[row];
      if (leaf >= 0) {
        for (const item of trie.itemsOfLeaf(leaf)) push(item, row);
      } else {
        const item = mapped.get(row);
        if (item !== undefined) push(item, row);
      }
    }
    candidates.push(out);
  }
  return candidates;
}

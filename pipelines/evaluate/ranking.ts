// Ranking users with a model: beam search through a StepScorer, or exact scores of the whole catalog, in batches;
// each target's rank and the metrics of training's validation (evaluateModel). On a multi-domain data set a user is
// ranked within its own domain only (GMC: decoding never crosses domains): its context carries its domain (the
// model's domain token) and the catalog is restricted to the domain's items (beam search's `allowItems`, which
// masks every trie prefix with no item of the domain; exact catalog ranking's `allowItems`).
import {
  beamSearch, PrefixTrie, rankCatalog, type BeamSearchStats, type CatalogScorer, type Candidate, type InvalidIdFallback, type StepScorer,
} from '../../decoding/index.js';
import type { ModelScorer, UserContext } from '../../seq2seq/index.js';
import type { SemanticIds } from '../../tokenizer/index.js';
import { Progress } from '../../tokenizer/io/index.js';
import { contextDomain, type DomainIndex, type Example } from '../data/index.js';
import { metricsFromRanks, rankOf, type Metrics } from '../metrics.js';
import { throwIfStopped, type StopRequest } from '../stop.js';

export type { UserContext };

/** A model as evaluation sees it: beam search through a StepScorer, or exact scores of the whole catalog. */
export type Ranker = StepScorer<UserContext> | CatalogScorer<UserContext>;

export function isCatalogScorer(r: Ranker): r is CatalogScorer<UserContext> {
  return typeof (r as CatalogScorer<UserContext>).scoreCatalog === 'function';
}

/** The ranker of a model's scorer (seq2seq's createScorer). */
export function rankerOf(s: ModelScorer): Ranker {
  return s.kind === 'catalog' ? s.catalog : s.step;
}

export interface RankOptions {
  scorer: Ranker;
  /** The catalog trie (beam search; unused by exact catalog scorers). */
  trie: PrefixTrie;
  /** Examples, each with its text vector (a preference, a query) for a model with text tokens. */
  examples: readonly (Example & { text?: Float32Array | null })[];
  /** Items recommended per user (the largest K). */
  topK: number;
  beamSize: number;
  /** Users per scoring session (default 256). */
  batchSize?: number;
  excludeHistory?: boolean;
  constrained?: boolean;
  /** Unconstrained search: maps invalid IDs to items (see `nearestItemFallback`). */
  fallback?: InvalidIdFallback;
  /** true (default): a progress bar / log lines on stderr; false: silent. */
  progress?: boolean;
  label?: string;
  /** A multi-domain data set's domains: each user is ranked within its domain (null/absent: one catalog). */
  domains?: DomainIndex | null;
  /**
   * Which examples' recommended lists to keep (default all): the others get NOT_KEPT, so a pass over many users
   * keeps 4 bytes a user (its rank) and not its list.
   */
  keepRecommended?: (example: number) => boolean;
  /** A signal's stop request (stop.ts): the next batch throws `Stopped` instead of running. */
  stop?: StopRequest;
}

/** The `recommended` entry of an example whose list was not kept (one shared empty array). */
export const NOT_KEPT: Int32Array = new Int32Array(0);

export interface ModelRanks {
  /** Per example: 0-based rank of the target among the recommendations, -1 when not recommended. */
  ranks: Int32Array;
  /** Per example, the recommended items (best first); NOT_KEPT where `keepRecommended` said no. */
  recommended: Int32Array[];
  stats: BeamSearchStats;
  usersPerSecond: number;
}

/** Runs beam search for every example, in batches, and ranks each target. */
export async function rankWithModel(options: RankOptions): Promise<ModelRanks> {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`\`batchSize\` must be an integer >= 1, got ${batchSize}`);
  const { examples } = options;
  const ranks = new Int32Array(examples.length);
  const recommended: Int32Array[] = [];
  const total: BeamSearchStats = { users: 0, generated: 0, invalid: 0, invalidRate: 0, fallbackMapped: 0, scorerMs: 0, searchMs: 0 };
  const progress = new Progress({ label: options.label ?? 'eval', total: examples.length, unit: 'user', silent: options.progress === false });
  const t0 = performance.now();
  for (let first = 0; first < examples.length; first += batchSize) {
    const batch = examples.slice(first, first + batchSize);
    const contexts = batch.map((e) => ({ user: e.user, history: e.history, text: e.text ?? null }));
    const { candidates, stats } = await recommendBatch(options, contexts);
    batch.forEach((e, i) => {
      const items = Int32Array.from(candidates[i], (c) => c.item);
      recommended.push(!options.keepRecommended || options.keepRecommended(first + i) ? items : NOT_KEPT);
      ranks[first + i] = rankOf(items, e.target);
    });
    total.users += stats.users;
    total.generated += stats.generated;
    total.invalid += stats.invalid;
    total.fallbackMapped += stats.fallbackMapped;
    total.scorerMs += stats.scorerMs;
    total.searchMs += stats.searchMs;
    const seconds = (performance.now() - t0) / 1000;
    progress.update(first + batch.length, { 'users/s': (first + batch.length) / Math.max(seconds, 1e-9) });
  }
  total.invalidRate = total.generated > 0 ? total.invalid / total.generated : 0;
  const seconds = (performance.now() - t0) / 1000;
  progress.finish();
  return { ranks, recommended, stats: total, usersPerSecond: examples.length / Math.max(seconds, 1e-9) };
}

type BatchOptions = Pick<RankOptions, 'scorer' | 'trie' | 'topK' | 'beamSize' | 'excludeHistory' | 'constrained' | 'fallback' | 'domains' | 'stop'>;

/**
 * One batch of users through the ranker: beam search, or the exact top-K of the whole catalog. With `domains`, the
 * users of each domain are ranked together over that domain's items, with their domain in the context; a user whose
 * domain is unknown (not in the data set, no history) gets no candidates.
 */
export async function recommendBatch(options: BatchOptions, contexts: UserContext[]): Promise<{ candidates: Candidate[][]; stats: BeamSearchStats }> {
  throwIfStopped(options.stop, 'stopped before a batch');
  const { domains } = options;
  if (!domains) return recommendWithin(options, contexts, null);
  const byDomain = new Map<number, number[]>();
  contexts.forEach((c, i) => {
    const d = contextDomain(domains, c.user, c.history);
    const rows = byDomain.get(d);
    if (rows) rows.push(i);
    else byDomain.set(d, [i]);
  });
  const candidates: Candidate[][] = contexts.map(() => []);
  const stats: BeamSearchStats = { users: contexts.length, generated: 0, invalid: 0, invalidRate: 0, fallbackMapped: 0, scorerMs: 0, searchMs: 0 };
  for (const [d, rows] of byDomain) {
    if (d < 0) continue;
    const part = await recommendWithin(options, rows.map((i) => ({ ...contexts[i], domain: d })), domains.items[d]);
    rows.forEach((i, k) => { candidates[i] = part.candidates[k]; });
    for (const key of ['generated', 'invalid', 'fallbackMapped', 'scorerMs', 'searchMs'] as const) stats[key] += part.stats[key];
  }
  stats.invalidRate = stats.generated > 0 ? stats.invalid / stats.generated : 0;
  return { candidates, stats };
}

/** Users ranked over the whole catalog, or over `allowItems` only. */
async function recommendWithin(options: BatchOptions, contexts: UserContext[], allowItems: Int32Array | null): Promise<{ candidates: Candidate[][]; stats: BeamSearchStats }> {
  const { scorer } = options;
  if (isCatalogScorer(scorer)) {
    if (options.constrained === false) throw new Error('unconstrained search needs a beam-search model: this model ranks the whole catalog exactly (no invalid IDs)');
    const t0 = performance.now();
    const candidates = await rankCatalog(scorer, contexts, {
      topK: options.topK, excludeHistory: options.excludeHistory ?? false, allowItems, idsOf: (item) => options.trie.prefixOf(options.trie.depth, options.trie.itemLeaf[item]),
    });
    const ms = performance.now() - t0;
    return { candidates, stats: { users: contexts.length, generated: 0, invalid: 0, invalidRate: 0, fallbackMapped: 0, scorerMs: ms, searchMs: 0 } };
  }
  return beamSearch(scorer, options.trie, contexts, {
    beamSize: options.beamSize,
    topK: options.topK,
    excludeHistory: options.excludeHistory ?? false,
    constrained: options.constrained ?? true,
    fallback: options.fallback,
    allowItems,
  });
}

export interface EvaluateModelOptions {
  scorer: Ranker;
  itemCodes: SemanticIds;
  examples: readonly Example[];
  ks: readonly number[];
  beamSize: number;
  batchSize?: number;
  progress?: boolean;
  excludeHistory?: boolean;
  /** A trie already built from `itemCodes` (saves the build when called every epoch). */
  trie?: PrefixTrie;
  /** A multi-domain data set's domains: each user is ranked within its domain. */
  domains?: DomainIndex | null;
}

/**
 * Recall@K and NDCG@K (keys `recall@10`, `ndcg@10`, ...) of the model's beam search over the full
 * catalog, plus `users`, `usersPerSecond` and `invalidRate`. The validation callback of training.
 */
export async function evaluateModel(options: EvaluateModelOptions): Promise<Metrics> {
  const ks = [...options.ks].sort((a, b) => a - b);
  if (ks.length === 0) throw new Error('`ks` needs at least one cutoff, got []');
  const topK = ks[ks.length - 1];
  checkTopK(options.scorer, topK, options.beamSize);
  const trie = options.trie ?? PrefixTrie.build(options.itemCodes);
  const result = await rankWithModel({
    scorer: options.scorer,
    trie,
    examples: options.examples,
    topK,
    beamSize: options.beamSize,
    batchSize: options.batchSize,
    excludeHistory: options.excludeHistory,
    progress: options.progress ?? false,
    domains: options.domains,
  });
  return { ...metricsFromRanks(result.ranks, ks), usersPerSecond: result.usersPerSecond, invalidRate: result.stats.invalidRate };
}

/** Beam search returns one item per beam: the largest K must fit the beam (exact catalog ranking has no beam). */
export function checkTopK(scorer: Ranker, topK: number, beamSize: number): void {
  if (!isCatalogScorer(scorer) && topK > beamSize) throw new Error(`the largest K (${topK}) must be <= the beam size (${beamSize}): beam search returns one item per beam`);
}

/** Indices of `count` examples evenly spaced over `total` (all when count >= total). */
export function evenSample(total: number, count: number | undefined): number[] {
  if (count === undefined || count >= total) return Array.from({ length: total }, (_, i) => i);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--users must be an integer >= 1, got ${count}`);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}

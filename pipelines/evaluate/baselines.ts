// Baselines a reader needs to judge a model's figure, run on the same users under the same protocol (with
// `--exclude-history`, they never recommend an item of the user's history either: like for like). Each baseline
// is a named function in BASELINES; `semid eval` reports every one that ran under `baselines.<name>`. To add one,
// write its function here and append it to the list.
import { topItems } from '../../decoding/index.js';
import type { ModelScorer } from '../../seq2seq/index.js';
import type { EmbeddingMatrix, SemanticIds } from '../../tokenizer/index.js';
import type { DomainIndex, Example, Sequences } from '../data/index.js';
import { buildNeighbourIndex, type NeighbourIndex } from '../embed/index.js';
import { rankOf } from '../metrics.js';
import { sasrecBaseline } from '../sasrecBaseline.js';
import { domainDenseRanks, domainPopularityRanks } from './domains.js';
import type { StopRequest } from '../stop.js';

/** What every baseline gets: the evaluated users and what the run has already loaded. */
export interface BaselineContext {
  examples: readonly Example[];
  /** Items recommended per user (the largest K). */
  topK: number;
  excludeHistory: boolean;
  /** Training interactions per item (trainingPopularity). */
  popularity: Float64Array;
  /** The item embeddings' cosine index, built once per run (also used by the invalid-ID fallback); null = none. */
  itemIndex(): Promise<ItemIndex | null>;
  /** Users' full sequences (the split's training part is what a trained baseline may learn from). */
  sequences: Sequences;
  itemCodes: SemanticIds;
  /** The evaluated model's history window. */
  maxHistory: number;
  /** A multi-domain data set's domains: baselines rank within the user's domain, as the model does (null: none). */
  domains: DomainIndex | null;
  /** Ranks of the targets under a model's scorer, exactly as the evaluated model's are computed. */
  rankModel(scorer: ModelScorer): Promise<Int32Array>;
  log(message: string): void;
  /** A signal's stop request (stop.ts): a baseline that trains stops training at it. */
  stop?: StopRequest;
  /** The eval command's options, for baselines with settings of their own. */
  options: { denseLastItems?: number; embeddings?: string; data: string; sasrecSteps?: number; sasrecMinutes?: number };
}

/** Item embeddings and their HNSW index, or why there are none. */
export interface ItemIndex {
  embeddings: EmbeddingMatrix;
  index: NeighbourIndex;
}

/** A baseline's ranks of the targets, with its settings; or the reason it could not run. */
export type BaselineResult = { ranks: Int32Array; settings?: Record<string, unknown> } | { skipped: string };

export interface Baseline {
  name: string;
  /** null: not asked for in this run (left out of the report). */
  run(ctx: BaselineContext): Promise<BaselineResult | null>;
}

/**
 * Interactions per item in the training part of leave-one-out (each user's items but the last two),
 * the popularity baseline's scores and the popularity buckets' basis.
 */
export function trainingPopularity(sequences: Sequences, items: number): Float64Array {
  const counts = new Float64Array(items);
  for (const seq of sequences.items) {
    for (let t = 0; t < seq.length - 2; t += 1) counts[seq[t]] += 1;
  }
  return counts;
}

/** The first `topK` of `ranked` that are not in `history` (all of them without a history). */
function withoutHistory(ranked: ArrayLike<number>, history: Int32Array | null, topK: number): Int32Array {
  if (!history) return Int32Array.from(ranked).subarray(0, topK);
  const seen = new Set(history);
  const out: number[] = [];
  for (let i = 0; i < ranked.length && out.length < topK; i += 1) if (!seen.has(ranked[i])) out.push(ranked[i]);
  return Int32Array.from(out);
}

/** Ranks of the targets under "recommend the K most popular items" (skipping the user's history items when asked). */
export function popularityRanks(counts: Float64Array, examples: readonly Example[], topK: number, options: { excludeHistory?: boolean } = {}): Int32Array {
  const longest = options.excludeHistory ? examples.reduce((m, e) => Math.max(m, e.history.length), 0) : 0;
  const top = topItems(counts, topK + longest);
  return Int32Array.from(examples, (e) => rankOf(withoutHistory(top, options.excludeHistory ? e.history : null, topK), e.target));
}

export interface DenseOptions {
  /** Items of history averaged into the user vector (the most recent; default 5). */
  lastItems?: number;
  /** HNSW search breadth (default max(100, 2 * topK)). */
  ef?: number;
  seed?: number;
  /** Never recommend an item of the user's history. */
  excludeHistory?: boolean;
  /** An index already built over `embeddings` (one per run). */
  index?: NeighbourIndex;
}

/** The cosine HNSW index of the dense baseline and the fallback (search breadth at least `ef`). */
export function itemNeighbourIndex(embeddings: EmbeddingMatrix, ef: number, seed = 100): NeighbourIndex {
  return buildNeighbourIndex(embeddings, { efConstruction: 200, ef, seed });
}

/**
 * Ranks of the targets under dense retrieval: user = mean of the embeddings of its last `lastItems`
 * history items, nearest items by cosine in an HNSW index (hnswlib-node).
 */
export function denseRanks(embeddings: EmbeddingMatrix, examples: readonly Example[], topK: number, options: DenseOptions = {}): Int32Array {
  const lastItems = options.lastItems ?? 5;
  if (!Number.isInteger(lastItems) || lastItems < 1) throw new Error(`\`lastItems\` must be an integer >= 1, got ${lastItems}`);
  const { rows, dim, data } = embeddings;
  const index = options.index ?? itemNeighbourIndex(embeddings, options.ef ?? Math.max(100, 2 * topK), options.seed);
  const query = new Array<number>(dim);
  return Int32Array.from(examples, (e) => {
    const from = Math.max(0, e.history.length - lastItems);
    const n = e.history.length - from;
    if (n === 0) return -1;
    query.fill(0);
    for (let t = from; t < e.history.length; t += 1) {
      const item = e.history[t];
      if (item < 0 || item >= rows) throw new Error(`history item ${item} has no embedding (the embeddings have ${rows} rows)`);
      for (let j = 0; j < dim; j += 1) query[j] += data[item * dim + j] / n;
    }
    const history = options.excludeHistory ? e.history : null;
    const found = index.search(query, Math.min(topK + (history ? new Set(history).size : 0), rows)).map((nb) => nb.item);
    return rankOf(withoutHistory(found, history, topK), e.target);
  });
}

const popularity: Baseline = {
  name: 'popularity',
  run: async (ctx) => ({
    ranks: domainPopularityRanks(ctx.popularity, ctx.examples, ctx.topK, { excludeHistory: ctx.excludeHistory, domains: ctx.domains }),
    ...(ctx.domains ? { settings: { perDomain: true } } : {}),
  }),
};

const dense: Baseline = {
  name: 'dense',
  run: async (ctx) => {
    let items: ItemIndex | null;
    try {
      items = await ctx.itemIndex();
    } catch (err) {
      return { skipped: (err as Error).message };
    }
    if (!items) return { skipped: 'no item embeddings' };
    const lastItems = ctx.options.denseLastItems ?? 5;
    const ranks = ctx.domains
      ? domainDenseRanks(items.embeddings, ctx.examples, ctx.topK, ctx.domains, { lastItems, excludeHistory: ctx.excludeHistory })
      : denseRanks(items.embeddings, ctx.examples, ctx.topK, { lastItems, excludeHistory: ctx.excludeHistory, index: items.index });
    return { ranks, settings: { lastItems, embeddings: ctx.options.embeddings ?? 'default', ...(ctx.domains ? { perDomain: true } : {}) } };
  },
};

/** SASRec-CE trained by semid's trainer for `--sasrec-steps` (pipelines/sasrecBaseline.ts); off by default. */
const sasrec: Baseline = {
  name: 'sasrec',
  run: async (ctx) => {
    const steps = ctx.options.sasrecSteps;
    if (!steps) return null;
    const r = await sasrecBaseline({
      sequences: ctx.sequences, itemCodes: ctx.itemCodes, maxHistory: ctx.maxHistory, budget: { steps, minutes: ctx.options.sasrecMinutes }, log: ctx.log,
      rank: ctx.rankModel, signal: ctx.stop,
    });
    return { ranks: r.ranks, settings: { steps: r.steps, trainSeconds: r.trainSeconds, model: r.model, train: r.train } };
  },
};

/** Every baseline `semid eval` runs, in report order. */
export const BASELINES: Baseline[] = [popularity, dense, sasrec];

// `semid eval --task search` (DSI): held-out noisy queries made from item text (3 random title words, one typo;
// text/queries.ts), answered by the model (text encoder -> text tokens -> constrained beam search) and by BM25 over
// the same items' texts (text/bm25.ts). Recall@K (the item among the first K) and MRR (mean 1 / rank within the
// largest K, 0 beyond), for both, on the same queries.
import { PrefixTrie } from '../../decoding/index.js';
import { rankOf } from '../metrics.js';
import { Bm25Index, itemFacets, noisyQueries, type SearchQuery } from '../text/index.js';
import type { TrainedModel } from '../trainedModel.js';
import type { StopRequest } from '../stop.js';
import { checkTopK, rankWithModel } from './ranking.js';

export interface SearchEvalOptions {
  ks: readonly number[];
  beamSize: number;
  /** Queries (one per item, items spread evenly); default 1,000. */
  queries?: number;
  batchSize?: number;
  seed?: number;
  /** Title words per query (default 3). */
  words?: number;
  progress?: boolean;
  /** A signal's stop request (stop.ts): the ranking stops before its next batch. */
  stop?: StopRequest;
}

/** Recall@K for each K and MRR (within the largest K) of 0-based ranks (-1 = not found). */
export function searchMetrics(ranks: ArrayLike<number>, ks: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  const n = ranks.length;
  for (const k of ks) {
    let hit = 0;
    for (let i = 0; i < n; i++) if (ranks[i] >= 0 && ranks[i] < k) hit++;
    out[`recall@${k}`] = n > 0 ? hit / n : 0;
  }
  let rr = 0;
  for (let i = 0; i < n; i++) if (ranks[i] >= 0) rr += 1 / (ranks[i] + 1);
  out.mrr = n > 0 ? rr / n : 0;
  out.queries = n;
  return out;
}

export async function evaluateSearch(opened: TrainedModel, o: SearchEvalOptions): Promise<Record<string, unknown>> {
  const { dataset, itemCodes, ranker: scorer } = opened;
  const encoder = opened.textEncoder;
  if (!encoder) throw new Error('--task search needs a model trained with text tokens and the indexing task (semid train --text-tokens N --index-items): this one reads no text');
  const ks = [...o.ks].sort((a, b) => a - b);
  const topK = ks[ks.length - 1];
  checkTopK(scorer, topK, o.beamSize);
  const facets = itemFacets(dataset);
  const seed = o.seed ?? 20_261_206;
  const queries: SearchQuery[] = noisyQueries(facets, o.queries ?? 1000, seed, o.words ?? 3);
  if (queries.length === 0) throw new Error('--task search: no item has title words to make queries from');
  const t0 = performance.now();
  const rows = queries.map((q) => {
    const e = encoder.encode(q.query, `query for item ${q.item}`);
    return { user: -1, history: new Int32Array(0), target: q.item, text: e.knownTerms > 0 ? e.vector : null };
  });
  const unknown = rows.filter((r) => r.text === null).length;
  const run = await rankWithModel({
    scorer, trie: PrefixTrie.build(itemCodes), examples: rows, topK, beamSize: o.beamSize, batchSize: o.batchSize, excludeHistory: false,
    progress: o.progress, label: 'eval search (model)', stop: o.stop,
  });
  // A query of which the encoder knows no word gives the model nothing: it counts as a miss.
  const modelRanks = Int32Array.from(run.ranks, (r, i) => (rows[i].text === null ? -1 : r));
  const modelSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const bm25 = new Bm25Index(dataset.items.texts);
  const bm25Ranks = Int32Array.from(queries, (q) => rankOf(bm25.search(q.query, topK).map((h) => h.item), q.item));
  const bm25Seconds = (performance.now() - t1) / 1000;
  return {
    task: 'search',
    queries: queries.length,
    queryRule: `${o.words ?? 3} random title words of the item, one typo in a word of 4+ letters (seed ${seed})`,
    ks,
    beamSize: o.beamSize,
    model: { ...searchMetrics(modelRanks, ks), queriesWithoutKnownWord: unknown, seconds: modelSeconds },
    bm25: { ...searchMetrics(bm25Ranks, ks), k1: bm25.config.k1, b: bm25.config.b, seconds: bm25Seconds },
    sample: queries.slice(0, 5).map((q, i) => ({ query: q.query, item: dataset.items.texts[q.item], modelRank: modelRanks[i], bm25Rank: bm25Ranks[i] })),
  };
}

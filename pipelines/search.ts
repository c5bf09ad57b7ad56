// `semid search` (DSI): a text query -> the model's text encoder -> the model's context (text tokens, no history, no
// user) -> catalog-constrained beam search -> items, printed with their text. One query (--query) prints; a Parquet
// file of queries (--queries, column `query`, optional `query_id`) writes rows (query_id, query, rank, item_key,
// score, text) atomically to --out. A model trained with --index-items learned item text -> ID; any model with
// text tokens answers, less well.
import { PrefixTrie } from '../decoding/index.js';
import { checkOutputFile, writeFileAtomic } from '../tokenizer/io/index.js';
import { hasColumn, int32Vector, float64Vector, makeTable, readParquetTable, readUtf8Column, tableToParquet, utf8Vector } from './data/index.js';
import { recommendBatch, type Ranker } from './evaluate/index.js';
import { checkText, type ModelTextEncoder } from './text/index.js';
import { openTrainedModel } from './trainedModel.js';

export interface SearchHit {
  rank: number;
  item: number;
  itemKey: string;
  score: number;
  text: string;
}

export interface SearchResult {
  query: string;
  /** Query words past the encoder's limit were ignored (checkText.ts). */
  truncated: boolean;
  hits: SearchHit[];
}

export interface SearchOptions {
  scorer: Ranker;
  trie: PrefixTrie;
  encoder: ModelTextEncoder;
  itemKeys: readonly string[];
  itemTexts: readonly string[];
  topK?: number;
  beamSize?: number;
  batchSize?: number;
}

/** Searches the catalog for each query (errors name the query: empty, not UTF-8, no known word). */
export async function searchQueries(queries: readonly string[], o: SearchOptions): Promise<SearchResult[]> {
  const topK = o.topK ?? 10;
  const beamSize = o.beamSize ?? Math.max(20, topK);
  const batchSize = o.batchSize ?? 256;
  if (!Number.isInteger(topK) || topK < 1) throw new Error(`--top-k must be an integer >= 1, got ${topK}`);
  if (topK > beamSize) throw new Error(`--top-k (${topK}) must be <= --beam (${beamSize}): beam search returns one item per beam`);
  const encoded = queries.map((q, i) => o.encoder.encodeKnown(q, queries.length === 1 ? 'the query' : `query ${i}`));
  const out: SearchResult[] = [];
  for (let first = 0; first < queries.length; first += batchSize) {
    const part = encoded.slice(first, first + batchSize);
    const { candidates } = await recommendBatch({ scorer: o.scorer, trie: o.trie, topK, beamSize, excludeHistory: false },
      part.map((e) => ({ user: -1, history: new Int32Array(0), text: e.vector })));
    part.forEach((e, i) => {
      out.push({
        query: queries[first + i], truncated: e.truncated,
        hits: candidates[i].map((c, r) => ({ rank: r + 1, item: c.item, itemKey: o.itemKeys[c.item], score: c.score, text: o.itemTexts[c.item] })),
      });
    });
  }
  return out;
}

export interface RunSearchOptions {
  data: string;
  tokenizer: string;
  model: string;
  /** One query (printed by the CLI). */
  query?: string;
  /** A Parquet file of queries: `query` (utf8), optional `query_id` (utf8). */
  queries?: string;
  /** With `queries`: the results' Parquet file. */
  out?: string;
  topK?: number;
  beamSize?: number;
  allowMismatch?: boolean;
  quiet?: boolean;
}

/** `semid search`: one query (results returned) or a file of queries (results written to `out`). */
export async function runSearch(o: RunSearchOptions): Promise<{ results: SearchResult[]; out?: string }> {
  if ((o.query === undefined) === (o.queries === undefined)) throw new Error('search: give either --query "TEXT" or --queries FILE.parquet');
  if (o.queries && !o.out) throw new Error('search --queries needs --out FILE.parquet for the results');
  if (o.out) await checkOutputFile(o.out);
  let texts: string[];
  let ids: string[];
  if (o.query !== undefined) {
    texts = [checkText(o.query, '--query')];
    ids = ['0'];
  } else {
    const table = await readParquetTable(o.queries!);
    texts = readUtf8Column(table, 'query', o.queries!).map((q, row) => checkText(q, `${o.queries} row ${row} query`));
    ids = hasColumn(table, 'query_id') ? readUtf8Column(table, 'query_id', o.queries!) : texts.map((_, i) => String(i));
  }
  const opened = await openTrainedModel({ data: o.data, tokenizer: o.tokenizer, model: o.model, command: 'search', allowMismatch: o.allowMismatch, quiet: o.quiet });
  try {
    if (!opened.textEncoder) throw new Error(`${o.model} reads no text (trained without --text-tokens): search needs a model trained with --text-tokens and --index-items`);
    const results = await searchQueries(texts, {
      scorer: opened.ranker, trie: PrefixTrie.build(opened.itemCodes), encoder: opened.textEncoder,
      itemKeys: opened.dataset.items.keys, itemTexts: opened.dataset.items.texts, topK: o.topK, beamSize: o.beamSize,
    });
    if (!o.out) return { results };
    const rows = results.flatMap((r, q) => r.hits.map((h) => ({ id: ids[q], query: r.query, ...h })));
    await writeFileAtomic(o.out, tableToParquet(makeTable({
      query_id: utf8Vector(rows.map((r) => r.id)), query: utf8Vector(rows.map((r) => r.query)), rank: int32Vector(rows.map((r) => r.rank)),
      item_key: utf8Vector(rows.map((r) => r.itemKey)), score: float64Vector(rows.map((r) => r.score)), text: utf8Vector(rows.map((r) => r.text)),
    })));
    return { results, out: o.out };
  } finally {
    opened.model.dispose();
  }
}

// Evaluation: Recall@K / NDCG@K of a model's catalog-constrained beam search over the full catalog, with
// the leave-one-out protocol (TIGER / S3-Rec), plus the baselines a reader needs to judge the figure:
// popularity (training interactions) and dense retrieval (mean of recent item embeddings, HNSW cosine).
import {
  beamMissRate, beamSearch, exactScores, PrefixTrie, rankCatalog, topItems, type BeamSearchStats, type CatalogScorer, type Candidate,
  type InvalidIdFallback, type StepScorer,
} from '../decoding/index.js';
import type { EmbeddingMatrix, ItemTokenizer, SemanticIds } from '../tokenizer/index.js';
import { checkOutputFile, Progress } from '../tokenizer/io/index.js';
import { checkProvenance } from './provenance.js';
import type { Example, Sequences } from './data/index.js';
import { metricsFromRanks, rankOf, type Metrics } from './metrics.js';
import { checkSasrecBudget, sasrecBaseline } from './sasrecBaseline.js';

import type { ModelScorer, UserContext } from '../seq2seq/index.js';

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
  examples: readonly Example[];
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
}

export interface ModelRanks {
  /** Per example: 0-based rank of the target among the recommendations, -1 when not recommended. */
  ranks: Int32Array;
  /** Per example, the recommended items (best first). */
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
    const contexts = batch.map((e) => ({ user: e.user, history: e.history }));
    const { candidates, stats } = await recommendBatch(options, contexts);
    batch.forEach((e, i) => {
      const items = Int32Array.from(candidates[i], (c) => c.item);
      recommended.push(items);
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

/** One batch of users through the ranker: beam search, or the exact top-K of the whole catalog. */
export async function recommendBatch(
  options: Pick<RankOptions, 'scorer' | 'trie' | 'topK' | 'beamSize' | 'excludeHistory' | 'constrained' | 'fallback'>, contexts: UserContext[],
): Promise<{ candidates: Candidate[][]; stats: BeamSearchStats }> {
  const { scorer } = options;
  if (isCatalogScorer(scorer)) {
    if (options.constrained === false) throw new Error('unconstrained search needs a beam-search model: this model ranks the whole catalog exactly (no invalid IDs)');
    const t0 = performance.now();
    const candidates = await rankCatalog(scorer, contexts, { topK: options.topK, excludeHistory: options.excludeHistory ?? false, idsOf: (item) => options.trie.prefixOf(options.trie.depth, options.trie.itemLeaf[item]) });
    const ms = performance.now() - t0;
    return { candidates, stats: { users: contexts.length, generated: 0, invalid: 0, invalidRate: 0, fallbackMapped: 0, scorerMs: ms, searchMs: 0 } };
  }
  return beamSearch(scorer, options.trie, contexts, {
    beamSize: options.beamSize,
    topK: options.topK,
    excludeHistory: options.excludeHistory ?? false,
    constrained: options.constrained ?? true,
    fallback: options.fallback,
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
  });
  return { ...metricsFromRanks(result.ranks, ks), usersPerSecond: result.usersPerSecond, invalidRate: result.stats.invalidRate };
}

/** Beam search returns one item per beam: the largest K must fit the beam (exact catalog ranking has no beam). */
export function checkTopK(scorer: Ranker, topK: number, beamSize: number): void {
  if (!isCatalogScorer(scorer) && topK > beamSize) throw new Error(`the largest K (${topK}) must be <= the beam size (${beamSize}): beam search returns one item per beam`);
}

// ---------------------------------------------------------------------------------------------- baselines

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

/** Ranks of the targets under "recommend the K most popular items to everyone". */
export function popularityRanks(counts: Float64Array, examples: readonly Example[], topK: number): Int32Array {
  const top = topItems(counts, topK);
  return Int32Array.from(examples, (e) => rankOf(top, e.target));
}

export interface DenseOptions {
  /** Items of history averaged into the user vector (the most recent; default 5). */
  lastItems?: number;
  /** HNSW search breadth (default max(100, 2 * topK)). */
  ef?: number;
  seed?: number;
}

/**
 * Ranks of the targets under dense retrieval: user = mean of the embeddings of its last `lastItems`
 * history items, nearest items by cosine in an HNSW index (hnswlib-node); nothing excluded.
 */
export async function denseRanks(embeddings: EmbeddingMatrix, examples: readonly Example[], topK: number, options: DenseOptions = {}): Promise<Int32Array> {
  const lastItems = options.lastItems ?? 5;
  if (!Number.isInteger(lastItems) || lastItems < 1) throw new Error(`\`lastItems\` must be an integer >= 1, got ${lastItems}`);
  const { rows, dim, data } = embeddings;
  const { default: hnswlib } = await import('hnswlib-node');
  const index = new hnswlib.HierarchicalNSW('cosine', dim);
  index.initIndex(rows, 16, 200, options.seed ?? 100);
  for (let i = 0; i < rows; i += 1) index.addPoint(Array.from(data.subarray(i * dim, (i + 1) * dim)), i);
  index.setEf(options.ef ?? Math.max(100, 2 * topK));
  const k = Math.min(topK, rows);
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
    const { neighbors, distances } = index.searchKnn(query, k);
    // hnswlib returns nearest first; keep that order, ties by item id for reproducibility
    const order = neighbors.map((item, i) => ({ item, d: distances[i] })).sort((a, b) => a.d - b.d || a.item - b.item);
    return rankOf(order.map((o) => o.item), e.target);
  });
}

/**
 * The fallback of unconstrained search: an invalid ID is decoded by the tokenizer (its semantic positions,
 * without the disambiguation code) to an embedding, and mapped to the catalog item whose embedding is
 * nearest by cosine (hnswlib-node).
 */
export async function nearestItemFallback(tokenizer: ItemTokenizer, embeddings: EmbeddingMatrix, options: { ef?: number; seed?: number } = {}): Promise<InvalidIdFallback> {
  const { rows, dim, data } = embeddings;
  const { default: hnswlib } = await import('hnswlib-node');
  const index = new hnswlib.HierarchicalNSW('cosine', dim);
  index.initIndex(rows, 16, 200, options.seed ?? 100);
  for (let i = 0; i < rows; i += 1) index.addPoint(Array.from(data.subarray(i * dim, (i + 1) * dim)), i);
  index.setEf(options.ef ?? 50);
  const positions = tokenizer.levels.length;
  return (ids, n) => {
    const L = ids.length / Math.max(n, 1);
    if (L < positions) throw new Error(`generated IDs have ${L} codes but the tokenizer needs ${positions}`);
    const codes = new Int32Array(n * positions);
    for (let k = 0; k < n; k += 1) codes.set(ids.subarray(k * L, k * L + positions), k * positions);
    const decoded = tokenizer.decode({ levels: [...tokenizer.levels], codes });
    if (decoded.dim !== dim) throw new Error(`the tokenizer decodes to ${decoded.dim} dimensions but the embeddings have ${dim}`);
    return Int32Array.from({ length: n }, (_, k) => {
      const { neighbors } = index.searchKnn(Array.from(decoded.data.subarray(k * dim, (k + 1) * dim)), 1);
      return neighbors.length ? neighbors[0] : -1;
    });
  };
}

// ------------------------------------------------------------------------------------ popularity buckets

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

// --------------------------------------------------------------------------------- exact-scoring sample

export interface BeamMissReport {
  users: number;
  /** Per K: mean fraction of the exact top-K that beam search did not return. */
  missRate: Record<string, number>;
  /** Recall/NDCG of the exact ranking of the whole catalog on the same users. */
  exact: Metrics;
  /** The same metrics of beam search on the same users, for comparison. */
  beam: Metrics;
}

/**
 * Scores every catalog item exactly for `examples` (teacher forcing over the trie) and compares the
 * exact top-K to beam search's. Expensive: one scorer row per trie node per user.
 */
export async function beamMissRates(options: {
  scorer: StepScorer<UserContext>;
  trie: PrefixTrie;
  examples: readonly Example[];
  recommended: readonly Int32Array[];
  ks: readonly number[];
  excludeHistory?: boolean;
  maxRows?: number;
  progress?: boolean;
}): Promise<BeamMissReport> {
  const { trie, examples, ks } = options;
  const topK = Math.max(...ks);
  const miss = new Float64Array(ks.length);
  const exactRanks = new Int32Array(examples.length);
  const beamRanks = new Int32Array(examples.length);
  const progress = new Progress({ label: 'exact scoring', total: examples.length, unit: 'user', silent: options.progress === false });
  for (let i = 0; i < examples.length; i += 1) {
    const e = examples[i];
    const scores = await exactScores(options.scorer, trie, [{ user: e.user, history: e.history }], { maxRows: options.maxRows });
    const history = options.excludeHistory ? new Set(e.history) : null;
    const exact = topItems(scores, topK, history ? (item) => history.has(item) : undefined);
    const beam = options.recommended[i];
    ks.forEach((k, j) => {
      miss[j] += beamMissRate(beam.subarray(0, k), exact.subarray(0, k));
    });
    exactRanks[i] = rankOf(exact, e.target);
    beamRanks[i] = rankOf(beam, e.target);
    progress.update(i + 1);
  }
  progress.finish();
  const missRate: Record<string, number> = {};
  ks.forEach((k, j) => {
    missRate[`@${k}`] = examples.length ? miss[j] / examples.length : 0;
  });
  return { users: examples.length, missRate, exact: metricsFromRanks(exactRanks, ks), beam: metricsFromRanks(beamRanks, ks) };
}

// ------------------------------------------------------------------------------------------- semid eval

export interface EvaluationRunOptions {
  data: string;
  tokenizer: string;
  model: string;
  split: 'valid' | 'test';
  ks?: readonly number[];
  beamSize?: number;
  /** Evaluate this many users (evenly spaced over the split), default all. */
  users?: number;
  batchSize?: number;
  excludeHistory?: boolean;
  /** Embeddings name in the data set for the dense baseline (default "default"). */
  embeddings?: string;
  /** History items averaged into the dense baseline's user vector (default 5). */
  denseLastItems?: number;
  /** Users of the sample on which beam search is compared with exact scoring (default 0: none). */
  exactSample?: number;
  maxHistory?: number;
  /** Research: search without the trie constraint (the invalid-ID rate is reported). */
  unconstrained?: boolean;
  /** With `unconstrained`: map invalid IDs to the nearest item (tokenizer decode + HNSW over the embeddings). */
  fallback?: boolean;
  out: string;
  /** Use a model whose recorded data set or tokenizer differ from the given ones (see provenance.ts). */
  allowMismatch?: boolean;
  progress?: boolean;
  /** Train the SASRec baseline for this many steps on the split's training part (0 or absent: no SASRec baseline). */
  sasrecSteps?: number;
  /** Cut the SASRec baseline's training at this many minutes. */
  sasrecMinutes?: number;
}

/** Indices of `count` examples evenly spaced over `total` (all when count >= total). */
export function evenSample(total: number, count: number | undefined): number[] {
  if (count === undefined || count >= total) return Array.from({ length: total }, (_, i) => i);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--users must be an integer >= 1, got ${count}`);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}

/**
 * `semid eval`: the model, popularity and dense baselines on one split, written to `out` as JSON. `out` is checked
 * before any work; the model's tensors are released when it returns (several calls in one process keep none).
 */
export async function runEvaluation(options: EvaluationRunOptions): Promise<Record<string, unknown>> {
  await checkOutputFile(options.out);
  if (options.sasrecSteps) checkSasrecBudget({ steps: options.sasrecSteps, minutes: options.sasrecMinutes });
  const held: { model?: { dispose(): void } } = {};
  try {
    return await evaluateRun(options, held);
  } finally {
    held.model?.dispose();
  }
}

async function evaluateRun(options: EvaluationRunOptions, held: { model?: { dispose(): void } }): Promise<Record<string, unknown>> {
  const { readDataset, readEmbeddings, leaveOneOut } = await import('./data/index.js');
  const { readItemCodes } = await import('./tokenize.js');
  const { writeJsonAtomic } = await import('../tokenizer/io/index.js');
  const { initBackend, loadModel, createScorer } = await import('../seq2seq/index.js');
  if (options.split !== 'valid' && options.split !== 'test') throw new Error(`--split must be valid or test, got "${String(options.split)}"`);
  const ks = [...(options.ks ?? [5, 10, 20])].sort((a, b) => a - b);
  const beamSize = options.beamSize ?? 20;
  const topK = ks[ks.length - 1];
  const log = (m: string): void => {
    if (options.progress !== false) process.stderr.write(`${m}\n`);
  };

  const dataset = await readDataset(options.data);
  const itemCodes = await readItemCodes(options.tokenizer);
  const items = dataset.items.keys.length;
  const codeRows = itemCodes.codes.length / itemCodes.levels.length;
  if (codeRows !== items) throw new Error(`${options.tokenizer} has codes for ${codeRows} items but the data set ${options.data} has ${items} items`);
  await checkProvenance({ model: options.model, data: options.data, tokenizer: options.tokenizer, itemKeys: dataset.items.keys, itemCodes, allowMismatch: options.allowMismatch, command: 'eval' });
  await initBackend({ quiet: options.progress === false });
  const model = await loadModel(options.model);
  held.model = model;
  // The model's own history window unless a shorter one is asked for (the scorer refuses a longer one).
  const scorer = rankerOf(createScorer(model, itemCodes, { maxHistory: options.maxHistory }));
  checkTopK(scorer, topK, beamSize);
  const all = leaveOneOut(dataset.sequences, options.split, { maxHistory: options.maxHistory ?? model.config.maxHistory });
  const examples = evenSample(all.length, options.users).map((i) => all[i]);
  if (examples.length === 0) throw new Error(`${options.data}: no ${options.split} examples (every user is too short)`);
  const trie = PrefixTrie.build(itemCodes);
  let fallback: InvalidIdFallback | undefined;
  if (options.fallback) {
    if (!options.unconstrained) throw new Error('--fallback needs --unconstrained (constrained search never generates an invalid ID)');
    const { loadTokenizer } = await import('../tokenizer/index.js');
    fallback = await nearestItemFallback(await loadTokenizer(options.tokenizer), await readEmbeddings(options.data, options.embeddings ?? 'default'));
  }
  const modelRun = await rankWithModel({
    scorer, trie, examples, topK, beamSize, batchSize: options.batchSize, excludeHistory: options.excludeHistory, progress: options.progress,
    label: `eval ${options.split}`, constrained: !options.unconstrained, fallback,
  });

  const counts = trainingPopularity(dataset.sequences, items);
  const popRanks = popularityRanks(counts, examples, topK);
  let dense: Int32Array | null = null;
  let denseSkipped: string | null = null;
  try {
    const embeddings = await readEmbeddings(options.data, options.embeddings ?? 'default');
    dense = await denseRanks(embeddings, examples, topK, { lastItems: options.denseLastItems });
  } catch (err) {
    denseSkipped = (err as Error).message;
    log(`eval: dense baseline skipped: ${denseSkipped}`);
  }

  const sasrec = options.sasrecSteps
    ? await sasrecBaseline({
      sequences: dataset.sequences, itemCodes, maxHistory: model.config.maxHistory, budget: { steps: options.sasrecSteps, minutes: options.sasrecMinutes }, log,
      rank: async (s) => (await rankWithModel({ scorer: rankerOf(s), trie, examples, topK, beamSize, excludeHistory: options.excludeHistory, progress: false })).ranks,
    })
    : null;

  const { buckets, bucketOf } = popularityBuckets(counts);
  const byPopularity: Record<string, unknown> = {};
  buckets.forEach((bucket, b) => {
    const select = (i: number): boolean => bucketOf[examples[i].target] === b;
    byPopularity[bucket.name] = {
      items: bucket.items,
      trainingInteractions: [bucket.minCount, bucket.maxCount],
      model: metricsFromRanks(modelRun.ranks, ks, select),
      popularity: metricsFromRanks(popRanks, ks, select),
      ...(dense ? { dense: metricsFromRanks(dense, ks, select) } : {}),
      ...(sasrec ? { sasrec: metricsFromRanks(sasrec.ranks, ks, select) } : {}),
    };
  });

  let beamMiss: BeamMissReport | null = null;
  if (options.exactSample && options.exactSample > 0 && !isCatalogScorer(scorer)) {
    const sample = evenSample(examples.length, options.exactSample);
    beamMiss = await beamMissRates({
      scorer, trie, ks, excludeHistory: options.excludeHistory, progress: options.progress,
      examples: sample.map((i) => examples[i]),
      recommended: sample.map((i) => modelRun.recommended[i]),
    });
  }

  const report: Record<string, unknown> = {
    split: options.split,
    users: examples.length,
    usersInSplit: all.length,
    ks,
    beamSize,
    excludeHistory: options.excludeHistory ?? false,
    ...metricsFromRanks(modelRun.ranks, ks),
    usersPerSecond: modelRun.usersPerSecond,
    constrained: !options.unconstrained,
    invalidRate: modelRun.stats.invalidRate,
    ...(options.unconstrained ? { invalidIds: modelRun.stats.invalid, generatedIds: modelRun.stats.generated, fallbackMapped: modelRun.stats.fallbackMapped } : {}),
    searchMsPerUser: modelRun.stats.searchMs / examples.length,
    baselines: {
      popularity: metricsFromRanks(popRanks, ks),
      dense: dense ? { ...metricsFromRanks(dense, ks), lastItems: options.denseLastItems ?? 5, embeddings: options.embeddings ?? 'default' } : { skipped: denseSkipped },
      ...(sasrec ? { sasrec: { ...metricsFromRanks(sasrec.ranks, ks), steps: sasrec.steps, trainSeconds: sasrec.trainSeconds, model: sasrec.model, train: sasrec.train } } : {}),
    },
    byPopularity,
    ...(beamMiss ? { beamMiss } : {}),
    data: options.data,
    tokenizer: options.tokenizer,
    model: options.model,
    createdAt: new Date().toISOString(),
  };
  await writeJsonAtomic(options.out, report);
  return report;
}

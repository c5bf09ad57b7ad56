// Evaluation on a multi-domain data set: baselines that rank within the user's domain (as the model does), and
// metrics per domain beside the overall ones. A domain's examples are re-numbered into the domain's own item ids
// (every history item and target of a user lies in its domain, dataset.ts checks it), so a baseline runs unchanged
// on each domain's catalog alone and its ranks are those of a single-domain run.
import type { EmbeddingMatrix } from '../../tokenizer/index.js';
import type { DomainIndex, Example } from '../data/index.js';
import { metricsFromRanks, type Metrics } from '../metrics.js';
import { denseRanks, popularityRanks, type DenseOptions } from './baselines.js';

/** The example indices of each domain (by the user's domain), in example order. */
export function examplesByDomain(domains: DomainIndex, examples: readonly Example[]): number[][] {
  const out: number[][] = domains.names.map(() => []);
  examples.forEach((e, i) => out[domains.userDomain[e.user]].push(i));
  return out;
}

/** Example `e` with its items as positions in `local` (the domain's item ids, ascending). */
function toLocal(e: Example, localOf: Int32Array): Example {
  return { ...e, history: e.history.map((i) => localOf[i]), target: localOf[e.target] };
}

/**
 * Ranks of every example's target under `rank`, run on each domain separately with the domain's items numbered
 * 0..n_d-1 (`items[d]` maps them back; ranks do not depend on the numbering).
 */
export function perDomainRanks(
  domains: DomainIndex, examples: readonly Example[], rank: (domain: number, local: Example[], items: Int32Array) => Int32Array,
): Int32Array {
  const out = new Int32Array(examples.length);
  const localOf = new Int32Array(domains.itemDomain.length).fill(-1);
  examplesByDomain(domains, examples).forEach((rows, d) => {
    if (rows.length === 0) return;
    const items = domains.items[d];
    items.forEach((item, k) => { localOf[item] = k; });
    const ranks = rank(d, rows.map((i) => toLocal(examples[i], localOf)), items);
    rows.forEach((i, k) => { out[i] = ranks[k]; });
  });
  return out;
}

/** Popularity ranks: the most popular items of the user's domain (of the whole catalog without domains). */
export function domainPopularityRanks(
  counts: Float64Array, examples: readonly Example[], topK: number, options: { excludeHistory?: boolean; domains?: DomainIndex | null } = {},
): Int32Array {
  const { domains } = options;
  if (!domains) return popularityRanks(counts, examples, topK, options);
  return perDomainRanks(domains, examples, (_, local, items) => popularityRanks(Float64Array.from(items, (i) => counts[i]), local, topK, options));
}

/** Dense-retrieval ranks over the user's domain's items only: one cosine index per domain. */
export function domainDenseRanks(
  embeddings: EmbeddingMatrix, examples: readonly Example[], topK: number, domains: DomainIndex, options: Omit<DenseOptions, 'index'> = {},
): Int32Array {
  const { dim, data } = embeddings;
  return perDomainRanks(domains, examples, (_, local, items) => {
    const sub = new Float32Array(items.length * dim);
    items.forEach((item, k) => sub.set(data.subarray(item * dim, (item + 1) * dim), k * dim));
    return denseRanks({ rows: items.length, dim, data: sub }, local, topK, options);
  });
}

/** Metrics of the model and of each baseline, per domain: `{ office: { users, model: {...}, popularity: {...} } }`. */
export function metricsByDomain(
  domains: DomainIndex, examples: readonly Example[], ks: readonly number[], ranks: Record<string, Int32Array>,
): Record<string, { users: number } & Record<string, Metrics | number>> {
  const out: Record<string, { users: number } & Record<string, Metrics | number>> = {};
  examplesByDomain(domains, examples).forEach((rows, d) => {
    const entry: { users: number } & Record<string, Metrics | number> = { users: rows.length };
    if (rows.length > 0) {
      for (const [name, r] of Object.entries(ranks)) entry[name] = metricsFromRanks(Int32Array.from(rows, (i) => r[i]), ks);
    }
    out[domains.names[d]] = entry;
  });
  return out;
}

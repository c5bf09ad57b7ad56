// The embedding quality report: shape and norms, and figures a user can judge at a glance:
//   - sameCategoryCosine: mean cosine of random item pairs that share their most specific category
//     (the full category path), against randomPairCosine, the mean cosine of random item pairs;
//   - neighbourCategoryAgreement: the share of each sampled item's 10 nearest neighbours in its category,
//     against the share expected by chance (exact search, so the figure does not depend on an index's recall);
//   - a few sample items with their nearest neighbours (hnswlib) and texts.
// When the item text itself contains the category (the default import template puts it there), the
// category figures flatter the embedding; the report says how often that is the case.
import { join } from 'node:path';
import type { EmbeddingMatrix } from '../../tokenizer/index.js';
import { writeJsonAtomic } from '../../tokenizer/io/index.js';
import type { Items } from '../data/index.js';
import { EMBEDDINGS_DIR, embeddingsPath, readDataset, readEmbeddings, readEmbeddingsMeta } from '../data/index.js';
import { buildNeighbourIndex } from './neighbours.js';
import { timesColumns } from './linalg.js';
import { seededRandom } from './random.js';

export interface ReportOptions {
  /** Sample items whose neighbours are listed (default 5). */
  samples?: number;
  /** Neighbours per sample item (default 5). */
  neighbours?: number;
  /** Pairs drawn for each mean cosine (default 20,000). */
  pairs?: number;
  /** Items whose neighbours are checked for category agreement (default 500). */
  agreementQueries?: number;
  seed?: number;
}

export interface NeighbourRow { item: number; key: string; similarity: number; sameCategory: boolean; text: string }
export interface SampleRow { item: number; key: string; category: string; text: string; neighbours: NeighbourRow[] }

export interface EmbeddingReport {
  name: string;
  items: number;
  dim: number;
  norms: { min: number; mean: number; max: number; zeroRows: number };
  /** Mean cosine of sampled pairs sharing their most specific category (null without categories). */
  sameCategoryCosine: number | null;
  /** Mean cosine of sampled random pairs of distinct items. */
  randomPairCosine: number;
  pairsSampled: number;
  /** Items with a category / distinct most specific categories with at least two items. */
  itemsWithCategory: number;
  categoryGroups: number;
  /** Share of items whose most specific category name appears in their own text. */
  categoriesInText: number;
  /** Share of the k nearest neighbours of sampled items in the same category, and the chance level. */
  neighbourCategoryAgreement: number | null;
  chanceAgreement: number | null;
  agreementK: number;
  samples: SampleRow[];
  /** What made the embeddings (method, import source, filled rows...), from the embeddings' metadata. */
  source: Record<string, unknown>;
  seconds: number;
}

function cosine(data: Float32Array, dim: number, norms: Float64Array, i: number, j: number): number {
  let s = 0;
  const io = i * dim;
  const jo = j * dim;
  for (let d = 0; d < dim; d++) s += data[io + d] * data[jo + d];
  return s / (norms[i] * norms[j]);
}

/**
 * Exact cosine top-k of each query row among all non-zero rows (itself excluded), by blocks of 64 queries
 * through one dense product each. `norms` are the rows' Euclidean norms.
 */
function exactNeighbours(m: EmbeddingMatrix, norms: Float64Array, queries: readonly number[], k: number): number[][] {
  const { rows, dim, data } = m;
  const unitT = new Float64Array(dim * rows); // [dim, rows]: unit rows, transposed
  for (let i = 0; i < rows; i++) {
    if (norms[i] === 0) continue;
    for (let d = 0; d < dim; d++) unitT[d * rows + i] = data[i * dim + d] / norms[i];
  }
  const out: number[][] = [];
  for (let b0 = 0; b0 < queries.length; b0 += 64) {
    const batch = queries.slice(b0, b0 + 64);
    const q = new Float64Array(batch.length * dim); // [batch, dim]
    batch.forEach((i, r) => { for (let d = 0; d < dim; d++) q[r * dim + d] = data[i * dim + d] / norms[i]; });
    const sims = timesColumns(q, unitT, batch.length, dim, rows); // [batch, rows]
    batch.forEach((i, r) => {
      const best: number[] = [];
      for (let j = 0; j < rows; j++) {
        if (j === i || norms[j] === 0) continue;
        const s = sims[r * rows + j];
        if (best.length === k && s <= sims[r * rows + best[k - 1]]) continue;
        let at = best.length < k ? best.length : k - 1;
        while (at > 0 && sims[r * rows + best[at - 1]] < s) at--;
        best.splice(at, 0, j);
        if (best.length > k) best.pop();
      }
      out.push(best);
    });
  }
  return out;
}

/** The most specific category of each item as its full path ("" when the item has none). */
export function categoryKeys(items: Items): string[] {
  return items.categories.map((path) => (path.length ? path.join(' > ') : ''));
}

/** Computes the report for an in-memory matrix and its items (no files). */
export function computeEmbeddingReport(
  m: EmbeddingMatrix, items: Items, name: string, options: ReportOptions = {}, source: Record<string, unknown> = {},
): EmbeddingReport {
  const start = performance.now();
  const { rows, dim, data } = m;
  if (items.keys.length !== rows) throw new Error(`embeddings "${name}" have ${rows} rows but the data set has ${items.keys.length} items`);
  const random = seededRandom(options.seed ?? 0);
  const pairs = options.pairs ?? 20_000;
  const k = options.neighbours ?? 5;

  const norms = new Float64Array(rows);
  let min = Infinity, max = 0, sum = 0, zeroRows = 0;
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += data[i * dim + d] * data[i * dim + d];
    norms[i] = Math.sqrt(sq);
    min = Math.min(min, norms[i]);
    max = Math.max(max, norms[i]);
    sum += norms[i];
    if (sq === 0) zeroRows++;
  }
  const live: number[] = [];
  for (let i = 0; i < rows; i++) if (norms[i] > 0) live.push(i);

  let randomSum = 0, randomCount = 0;
  if (live.length >= 2) {
    for (let p = 0; p < pairs; p++) {
      const i = live[random.int(live.length)];
      let j = live[random.int(live.length - 1)];
      if (j === i) j = live[live.length - 1];
      randomSum += cosine(data, dim, norms, i, j);
      randomCount++;
    }
  }

  const keys = categoryKeys(items);
  const groups = new Map<string, number[]>();
  for (const i of live) {
    if (!keys[i]) continue;
    const g = groups.get(keys[i]);
    if (g) g.push(i);
    else groups.set(keys[i], [i]);
  }
  const itemsWithCategory = keys.filter((c) => c).length;
  const eligible = live.filter((i) => keys[i] && groups.get(keys[i])!.length >= 2);
  let sameSum = 0, sameCount = 0;
  if (eligible.length > 0) {
    for (let p = 0; p < pairs; p++) {
      const i = eligible[random.int(eligible.length)];
      const group = groups.get(keys[i])!;
      let j = group[random.int(group.length - 1)];
      if (j === i) j = group[group.length - 1];
      sameSum += cosine(data, dim, norms, i, j);
      sameCount++;
    }
  }
  let inText = 0;
  for (let i = 0; i < rows; i++) {
    const leaf = items.categories[i].at(-1);
    if (leaf && items.texts[i].toLowerCase().includes(leaf.toLowerCase())) inText++;
  }

  // Neighbour agreement and samples need the index; skip both when nothing is indexable.
  let agreement: number | null = null;
  let chance: number | null = null;
  const agreementK = 10;
  const samples: SampleRow[] = [];
  if (live.length >= 2) {
    if (eligible.length > 0) {
      const count = Math.min(options.agreementQueries ?? 500, eligible.length);
      const queries = Array.from({ length: count }, () => eligible[random.int(eligible.length)]);
      let hits = 0, total = 0, chanceSum = 0;
      exactNeighbours(m, norms, queries, agreementK).forEach((neighbours, q) => {
        const i = queries[q];
        for (const j of neighbours) {
          total++;
          if (keys[j] === keys[i]) hits++;
        }
        chanceSum += (groups.get(keys[i])!.length - 1) / (live.length - 1);
      });
      agreement = total ? hits / total : null;
      chance = chanceSum / count;
    }
    const index = buildNeighbourIndex(m, { seed: options.seed ?? 0, ef: 200 });
    const wanted = Math.min(options.samples ?? 5, live.length);
    const chosen = new Set<number>();
    while (chosen.size < wanted) chosen.add(live[random.int(live.length)]);
    for (const i of [...chosen].sort((a, b) => a - b)) {
      samples.push({
        item: i, key: items.keys[i], category: keys[i], text: items.texts[i],
        neighbours: index.neighboursOf(i, k).map((n) => ({
          item: n.item, key: items.keys[n.item], similarity: n.similarity,
          sameCategory: keys[i] !== '' && keys[n.item] === keys[i], text: items.texts[n.item],
        })),
      });
    }
  }

  return {
    name, items: rows, dim,
    norms: { min: rows ? min : 0, mean: rows ? sum / rows : 0, max, zeroRows },
    sameCategoryCosine: sameCount ? sameSum / sameCount : null,
    randomPairCosine: randomCount ? randomSum / randomCount : 0,
    pairsSampled: pairs,
    itemsWithCategory,
    categoryGroups: [...groups.values()].filter((g) => g.length >= 2).length,
    categoriesInText: rows ? inText / rows : 0,
    neighbourCategoryAgreement: agreement,
    chanceAgreement: chance,
    agreementK,
    samples,
    source,
    seconds: (performance.now() - start) / 1000,
  };
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

const f3 = (x: number) => x.toFixed(3);

/** The report as readable text. */
export function formatEmbeddingReport(r: EmbeddingReport): string {
  const lines: string[] = [];
  lines.push(`embeddings "${r.name}": ${r.items} items x ${r.dim} dimensions`);
  const how = Object.entries(r.source).filter(([k]) => ['method', 'from', 'format', 'filled', 'fill', 'requestedDim', 'tokenizer', 'vocabulary', 'seconds'].includes(k));
  if (how.length) lines.push(`made by: ${how.map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v)}`).join(', ')}`);
  if (typeof r.source.dimClamped === 'string') lines.push(`note: fewer dimensions than asked: ${r.source.dimClamped}`);
  if (typeof r.source.filled === 'number' && r.source.filled > 0) lines.push(`note: ${r.source.filled} items had no vector and got the mean vector`);
  lines.push(`norms: min ${f3(r.norms.min)}  mean ${f3(r.norms.mean)}  max ${f3(r.norms.max)}${r.norms.zeroRows ? `  (${r.norms.zeroRows} zero rows: items without usable text)` : ''}`);
  if (r.sameCategoryCosine === null) {
    lines.push(`random-pair cosine ${f3(r.randomPairCosine)} (no item shares a category with another: no same-category figure)`);
  } else {
    const gap = r.sameCategoryCosine - r.randomPairCosine;
    lines.push(`mean cosine: same most-specific category ${f3(r.sameCategoryCosine)} vs random pairs ${f3(r.randomPairCosine)} `
      + `(gap ${gap >= 0 ? '+' : ''}${f3(gap)}; ${r.pairsSampled} pairs each; ${r.categoryGroups} categories, ${r.itemsWithCategory} items with one)`);
    if (r.neighbourCategoryAgreement !== null && r.chanceAgreement !== null) {
      lines.push(`same category among the ${r.agreementK} nearest neighbours: ${(100 * r.neighbourCategoryAgreement).toFixed(1)}% (chance ${(100 * r.chanceAgreement).toFixed(1)}%)`);
    }
    if (r.categoriesInText > 0.5) {
      lines.push(`note: ${(100 * r.categoriesInText).toFixed(0)}% of item texts contain their category name, so these category figures partly measure that text`);
    }
  }
  for (const s of r.samples) {
    lines.push('');
    lines.push(`#${s.item} (key ${s.key})${s.category ? ` [${s.category}]` : ''}: ${clip(s.text, 90)}`);
    for (const n of s.neighbours) {
      lines.push(`  ${n.similarity.toFixed(3)} ${n.sameCategory ? '=' : ' '} #${n.item} (key ${n.key}): ${clip(n.text, 76)}`);
    }
  }
  if (r.samples.length) lines.push('', '(#item id, key in the source data; cosine similarity; = marks a neighbour in the same category)');
  return lines.join('\n');
}

/** The report file written beside embeddings NAME: DIR/embeddings/NAME.report.json. */
export function embeddingReportPath(dataDir: string, name = 'default'): string {
  embeddingsPath(dataDir, name); // validates the name
  return join(dataDir, EMBEDDINGS_DIR, `${name}.report.json`);
}

export interface EmbeddingReportOptions extends ReportOptions {
  /** Data set directory. */
  data: string;
  /** Embeddings name (default "default"). */
  name?: string;
}

/** `semid embed report`: computes the report of a data set's embeddings NAME and writes NAME.report.json. */
export async function embeddingReport(options: EmbeddingReportOptions): Promise<{ report: EmbeddingReport; reportPath: string }> {
  const name = options.name ?? 'default';
  const dataset = await readDataset(options.data);
  const matrix = await readEmbeddings(options.data, name);
  const source = await readEmbeddingsMeta(options.data, name);
  const report = computeEmbeddingReport(matrix, dataset.items, name, options, source);
  const reportPath = embeddingReportPath(options.data, name);
  await writeJsonAtomic(reportPath, report);
  return { report, reportPath };
}

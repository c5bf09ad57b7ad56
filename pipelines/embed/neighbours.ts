// Approximate nearest neighbours by cosine similarity over an embedding matrix, with hnswlib-node's
// HierarchicalNSW (the C++ hnswlib). Zero rows have no direction and are left out of the index.
import { createRequire } from 'node:module';
import type { EmbeddingMatrix } from '../../tokenizer/index.js';

interface SearchResult { distances: number[]; neighbors: number[] }
interface Hnsw {
  initIndex(opts: { maxElements: number; m?: number; efConstruction?: number; randomSeed?: number }): void;
  addPoint(point: number[], label: number): void;
  searchKnn(query: number[], k: number, filter?: (label: number) => boolean): SearchResult;
  setEf(ef: number): void;
  getCurrentCount(): number;
}

export interface NeighbourIndexOptions {
  /** Graph degree (hnswlib M, default 16). */
  m?: number;
  /** Candidate list size while building (default 100). */
  efConstruction?: number;
  /** Candidate list size while searching (default 64; raised to k when smaller). */
  ef?: number;
  /** hnswlib's level-assignment seed (default 100). */
  seed?: number;
}

export interface Neighbour {
  item: number;
  /** Cosine similarity to the query. */
  similarity: number;
}

export interface NeighbourIndex {
  dim: number;
  /** Rows in the index (non-zero rows of the matrix). */
  size: number;
  /** The k most similar indexed rows to `query`, most similar first; `exclude` (e.g. the query's own row) is skipped. */
  search(query: ArrayLike<number>, k: number, exclude?: number): Neighbour[];
  /** Neighbours of row `item` of the indexed matrix, itself excluded. */
  neighboursOf(item: number, k: number): Neighbour[];
}

function loadHnsw(): new (space: 'cosine', dim: number) => Hnsw {
  const require = createRequire(import.meta.url);
  return (require('hnswlib-node') as { HierarchicalNSW: new (space: 'cosine', dim: number) => Hnsw }).HierarchicalNSW;
}

/** Builds a cosine HNSW index over the rows of `m`. */
export function buildNeighbourIndex(m: EmbeddingMatrix, options: NeighbourIndexOptions = {}): NeighbourIndex {
  const { rows, dim, data } = m;
  const HierarchicalNSW = loadHnsw();
  const index = new HierarchicalNSW('cosine', dim);
  index.initIndex({ maxElements: Math.max(1, rows), m: options.m ?? 16, efConstruction: options.efConstruction ?? 100, randomSeed: options.seed ?? 100 });
  const row = (i: number) => Array.from(data.subarray(i * dim, (i + 1) * dim));
  let size = 0;
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += data[i * dim + d] * data[i * dim + d];
    if (sq > 0) {
      index.addPoint(row(i), i);
      size++;
    }
  }
  const baseEf = options.ef ?? 64;
  const search = (query: ArrayLike<number>, k: number, exclude?: number): Neighbour[] => {
    if (size === 0 || k <= 0) return [];
    const want = Math.min(size, k + (exclude === undefined ? 0 : 1));
    index.setEf(Math.max(baseEf, want));
    const result = index.searchKnn(Array.from(query), want);
    const out: Neighbour[] = [];
    for (let r = 0; r < result.neighbors.length; r++) {
      if (result.neighbors[r] === exclude) continue;
      out.push({ item: result.neighbors[r], similarity: 1 - result.distances[r] });
    }
    return out.sort((a, b) => b.similarity - a.similarity || a.item - b.item).slice(0, k);
  };
  return { dim, size, search, neighboursOf: (item, k) => search(row(item), k, item) };
}

/** Neighbours of each of `items` (rows of `m`), itself excluded: a one-call helper over buildNeighbourIndex. */
export function nearestNeighbours(m: EmbeddingMatrix, items: readonly number[], k: number, options: NeighbourIndexOptions = {}): Neighbour[][] {
  const index = buildNeighbourIndex(m, options);
  return items.map((item) => index.neighboursOf(item, k));
}

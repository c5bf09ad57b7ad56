// Speed of the search itself, without a model: a toy scorer that costs a copy of precomputed log-probs,
// over a random catalog shaped like Beauty's (12,101 items, 4 codes of 256). For `npm run bench -- decode`.
import { beamSearch } from './beamSearch.js';
import { PrefixTrie } from './trie.js';
import type { ScoringSession, StepScorer } from './types.js';

/** A random catalog: `levels.length - 1` uniform codes plus a disambiguation code (0, 1, ... per prefix). */
export function randomCatalog(items: number, levels: readonly number[], seed = 1): { levels: number[]; codes: Int32Array } {
  const L = levels.length;
  const rand = xorshift(seed);
  const codes = new Int32Array(items * L);
  const seen = new Map<string, number>();
  for (let i = 0; i < items; i += 1) {
    for (let l = 0; l < L - 1; l += 1) codes[i * L + l] = rand() % levels[l];
    const key = codes.subarray(i * L, i * L + L - 1).join(',');
    const k = seen.get(key) ?? 0;
    if (k >= levels[L - 1]) throw new Error(`random catalog: more than ${levels[L - 1]} items share the prefix ${key}`);
    codes[i * L + L - 1] = k;
    seen.set(key, k + 1);
  }
  return { levels: [...levels], codes };
}

export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state;
  };
}

/** A scorer whose log-probs are rows of a fixed random log-softmax table (picked by user, step and row). */
export function tableScorer(levels: readonly number[], tableRows = 1024, seed = 7): StepScorer<number> {
  const width = Math.max(...levels);
  const rand = xorshift(seed);
  const table = new Float32Array(tableRows * width);
  for (let r = 0; r < tableRows; r += 1) {
    let max = -Infinity;
    for (let c = 0; c < width; c += 1) {
      const v = (rand() / 2 ** 32) * 8;
      table[r * width + c] = v;
      max = Math.max(max, v);
    }
    let sum = 0;
    for (let c = 0; c < width; c += 1) sum += Math.exp(table[r * width + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < width; c += 1) table[r * width + c] -= lse;
  }
  return {
    levels,
    async start(contexts: readonly number[]): Promise<ScoringSession> {
      return {
        async next(input) {
          const V = levels[input.step];
          const rows = input.rowUser.length;
          const out = new Float32Array(rows * V);
          for (let row = 0; row < rows; row += 1) {
            const pick = (contexts[input.rowUser[row]] * 31 + input.step * 17 + row * 7) % tableRows;
            out.set(table.subarray(pick * width, pick * width + V), row * V);
          }
          return out;
        },
        close() {},
      };
    },
  };
}

export interface BeamSearchBenchmark {
  users: number;
  batchSize: number;
  beamSize: number;
  topK: number;
  items: number;
  levels: number[];
  /** Search time per batch excluding the toy scorer, ms (median over batches). */
  searchMsPerBatch: number;
  /** Toy scorer time per batch (copying log-probs), ms. */
  scorerMsPerBatch: number;
  /** Users/s of search alone (the model's cost excluded). */
  searchUsersPerSecond: number;
  trieBuildMs: number;
}

/** Search overhead of beam search (beam 20, top-10, 256 users a batch, 12,101 items by default). */
export async function benchmarkBeamSearch(options: {
  users?: number; batchSize?: number; beamSize?: number; topK?: number; items?: number; levels?: number[];
} = {}): Promise<BeamSearchBenchmark> {
  const users = options.users ?? 2048;
  const batchSize = options.batchSize ?? 256;
  const beamSize = options.beamSize ?? 20;
  const topK = options.topK ?? 10;
  const items = options.items ?? 12_101;
  const levels = options.levels ?? [256, 256, 256, 256];
  const t0 = performance.now();
  const trie = PrefixTrie.build(randomCatalog(items, levels));
  const trieBuildMs = performance.now() - t0;
  const scorer = tableScorer(levels);
  const search: number[] = [];
  const scoring: number[] = [];
  for (let first = -2 * batchSize; first < users; first += batchSize) {
    // the first two batches (first < 0) warm the JIT and are not counted
    const contexts = Array.from({ length: batchSize }, (_, i) => Math.abs(first) + i);
    const { stats } = await beamSearch(scorer, trie, contexts, { beamSize, topK });
    if (first >= 0) {
      search.push(stats.searchMs);
      scoring.push(stats.scorerMs);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const searchMsPerBatch = median(search);
  return {
    users,
    batchSize,
    beamSize,
    topK,
    items,
    levels,
    searchMsPerBatch,
    scorerMsPerBatch: median(scoring),
    searchUsersPerSecond: (batchSize * 1000) / searchMsPerBatch,
    trieBuildMs,
  };
}

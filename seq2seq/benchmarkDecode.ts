// Users/s of catalog-constrained beam search with a real model as the scorer, the incremental (cached) scorer
// and the plain one (BOS + prefix rerun every step) interleaved in one process, batch by batch, so that the
// load of a shared machine hits both alike. Random weights (speed does not depend on training), a random
// catalog shaped like Beauty's (12,101 items, 4 codes of 256), users with full histories.
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { beamSearch, PrefixTrie, randomCatalog } from '../decoding/index.js';
import { createModel } from './checkpoint.js';
import { resolveModelConfig } from './config.js';
import { createStepScorer, type UserContext } from './scorer.js';
import { Vocab } from './vocab.js';

export interface DecodeBenchmarkOptions {
  preset: string;
  /** Users per beam-search call. */
  batchSize: number;
  /** Timed batches per mode. */
  batches: number;
  /** Untimed warm-up batches per mode before them. */
  warmup: number;
  beamSize: number;
  topK: number;
  items: number;
  historyItems: number;
  /** Which scorers to time: `incremental` (the default path) and/or `plain`. */
  modes: ('incremental' | 'plain')[];
}

export const DEFAULT_DECODE_BENCHMARK: DecodeBenchmarkOptions = {
  preset: 'tiger', batchSize: 256, batches: 3, warmup: 1, beamSize: 20, topK: 10, items: 12_101, historyItems: 20, modes: ['incremental', 'plain'],
};

export interface DecodeBenchmarkResult {
  options: DecodeBenchmarkOptions;
  /** Per mode: seconds of each timed batch, median users/s, and the scorer's share of the time. */
  modes: Record<string, { batchSeconds: number[]; usersPerSecond: number; scorerShare: number }>;
  /** 1-minute load average before and after (the machine may be shared). */
  loadAverage: [number, number];
  /** Whether both modes returned the same items (when both ran). */
  sameItems: boolean | null;
  /** Size of the wasm heap at the end (it only grows, so this is the peak; 0 on other backends). */
  wasmHeapMB: number;
}

export async function benchmarkDecode(partial: Partial<DecodeBenchmarkOptions> = {}): Promise<DecodeBenchmarkResult> {
  const o = { ...DEFAULT_DECODE_BENCHMARK, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as DecodeBenchmarkOptions;
  for (const key of ['batchSize', 'batches', 'beamSize', 'topK', 'items', 'historyItems'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new Error(`\`${key}\` must be an integer >= 1, got ${o[key]}`);
  }
  if (!Number.isInteger(o.warmup) || o.warmup < 0) throw new Error(`\`warmup\` must be an integer >= 0, got ${o.warmup}`);
  const levels = [256, 256, 256, 256];
  const config = resolveModelConfig({ maxHistory: o.historyItems, dropout: 0 }, o.preset);
  const vocab = new Vocab({ levels, userBuckets: config.userBuckets });
  const catalog = randomCatalog(o.items, levels);
  const trie = PrefixTrie.build(catalog);
  const model = createModel(config, vocab);
  let seed = 12345;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const batch = (): UserContext[] => Array.from({ length: o.batchSize }, () => ({
    user: next(1_000_000), history: Int32Array.from({ length: o.historyItems }, () => next(o.items)),
  }));
  const scorers = Object.fromEntries(o.modes.map((m) => [m, createStepScorer(model, catalog, { incremental: m === 'incremental' })]));
  const result: DecodeBenchmarkResult = { options: o, modes: {}, loadAverage: [loadavg()[0], 0], sameItems: null, wasmHeapMB: 0 };
  const times: Record<string, number[]> = Object.fromEntries(o.modes.map((m) => [m, []]));
  const scorerMs: Record<string, number> = Object.fromEntries(o.modes.map((m) => [m, 0]));
  const totalMs: Record<string, number> = Object.fromEntries(o.modes.map((m) => [m, 0]));
  try {
    for (let b = -o.warmup; b < o.batches; b++) {
      const contexts = batch();
      const items: string[] = [];
      for (const mode of o.modes) {
        const t0 = performance.now();
        const { candidates, stats } = await beamSearch(scorers[mode], trie, contexts, { beamSize: o.beamSize, topK: o.topK });
        const ms = performance.now() - t0;
        items.push(JSON.stringify(candidates.map((cs) => cs.map((c) => c.item))));
        if (b < 0) continue; // warm-up
        times[mode].push(ms / 1000);
        scorerMs[mode] += stats.scorerMs;
        totalMs[mode] += ms;
      }
      if (items.length === 2) result.sameItems = (result.sameItems ?? true) && items[0] === items[1];
    }
  } finally {
    model.dispose();
  }
  for (const mode of o.modes) {
    const sorted = [...times[mode]].sort((a, b) => a - b);
    result.modes[mode] = { batchSeconds: times[mode], usersPerSecond: o.batchSize / sorted[Math.floor(sorted.length / 2)], scorerShare: scorerMs[mode] / totalMs[mode] };
  }
  result.loadAverage[1] = loadavg()[0];
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  result.wasmHeapMB = heap ? heap.length / 2 ** 20 : 0;
  return result;
}

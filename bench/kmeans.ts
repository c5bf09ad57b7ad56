// `kmeans`: residual k-means, 3 levels x 256 clusters on a random 12,101 x 768 float32 matrix, with the
// same work as the PyTorch reference's torch Lloyd loop (a fixed 100 iterations per level, no early stop),
// so the ratio compares like with like. (semid's RQ-KMeans tokenizer stops early; `tokenize` times that.)
import { kmeans, type EmbeddingMatrix } from '../tokenizer/index.js';
import { summarize, timeRepeated } from './measure.js';
import { recordNumber } from './reference.js';
import type { Figure, ReferenceRecord, ReferenceRun, Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

export interface KMeansBenchConfig {
  rows: number;
  dim: number;
  levels: number;
  k: number;
  iterations: number;
  warmup: number;
  runs: number;
}

export const FULL_KMEANS: KMeansBenchConfig = { rows: 12_101, dim: 768, levels: 3, k: 256, iterations: 100, warmup: 0, runs: 2 };
export const QUICK_KMEANS: KMeansBenchConfig = { rows: 1000, dim: 32, levels: 2, k: 16, iterations: 5, warmup: 0, runs: 1 };

/** Standard normal rows (seeded), like the reference's `rng.standard_normal((12101, 768))`. */
export function gaussianMatrix(rows: number, dim: number, seed = 0): EmbeddingMatrix {
  let s = (seed + 0x9e3779b9) >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    data[i] = r * Math.cos(a);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(a);
  }
  return { rows, dim, data };
}

/** Residual k-means: each level clusters what the previous levels left; returns the iterations run per level. */
function residualKMeans(x: EmbeddingMatrix, c: KMeansBenchConfig): number[] {
  const residual = { ...x, data: x.data.slice() };
  const iterations: number[] = [];
  for (let level = 0; level < c.levels; level++) {
    // tolerance -1: never stop early (the reference runs a fixed number of Lloyd iterations)
    const fit = kmeans(residual, c.k, { iterations: c.iterations, tolerance: -1 });
    iterations.push(fit.iterations);
    for (let i = 0; i < residual.rows; i++) {
      const off = fit.codes[i] * residual.dim;
      for (let d = 0; d < residual.dim; d++) residual.data[i * residual.dim + d] -= fit.centroids[off + d];
    }
  }
  return iterations;
}

export const kmeansSuite: Suite = {
  name: 'kmeans',
  describe: 'residual k-means 3 x 256 on 12,101 x 768, 100 Lloyd iterations per level (the reference\'s torch loop)',
  usesBackend: true,
  threadsVariant: false,
  webgpuVariant: false,
  async run(options: SuiteOptions, _variant: Variant): Promise<VariantOutput> {
    const c = options.quick ? QUICK_KMEANS : FULL_KMEANS;
    const x = gaussianMatrix(c.rows, c.dim);
    let iterations: number[] = [];
    const seconds = await timeRepeated(() => { iterations = residualKMeans(x, c); }, { warmup: c.warmup, runs: c.runs });
    const samples = summarize(seconds);
    const totalIterations = iterations.reduce((a, b) => a + b, 0);
    return {
      figures: [
        {
          key: 'kmeans.residual.seconds', label: `residual k-means ${c.levels} x ${c.k}, ${c.rows.toLocaleString('en-US')} x ${c.dim}, ${c.iterations} it/level`,
          value: samples.median, unit: 's', higherIsBetter: false, samples,
          detail: { ...c, iterationsPerLevel: iterations, init: 'k-means++ on a sample of <= 8192 rows' },
        },
        {
          key: 'kmeans.residual.msPerIteration', label: 'k-means, one Lloyd iteration (assign + update)',
          value: (samples.median * 1000) / totalIterations, unit: 'ms', higherIsBetter: false,
        },
      ],
      notes: [],
    };
  },
  reference(): ReferenceRun[] {
    return [{
      args: ['--bench', 'kmeans', '--impl', 'torch', '--runs', String(FULL_KMEANS.runs)],
      figures: (records: ReferenceRecord[]): Figure[] => {
        const r = records.find((x) => x.bench === 'kmeans' && x.impl === 'torch');
        if (!r) return [];
        const total = recordNumber(r, 'three_level_total_s.median');
        const iterations = (r.per_level_n_iter as number[] | undefined) ?? [];
        const runs = Math.max(1, recordNumber(r, 'runs'));
        const perRunIterations = iterations.reduce((a, b) => a + b, 0) / runs || FULL_KMEANS.levels * FULL_KMEANS.iterations;
        return [
          {
            key: 'kmeans.residual.seconds', label: `residual k-means ${FULL_KMEANS.levels} x ${FULL_KMEANS.k}, 12,101 x 768, 100 it/level`,
            value: total, unit: 's', higherIsBetter: false, samples: r.three_level_total_s as Figure['samples'],
            detail: { impl: 'torch Lloyd loop, random initial centres' },
          },
          { key: 'kmeans.residual.msPerIteration', label: 'k-means, one Lloyd iteration (assign + update)', value: (total * 1000) / perRunIterations, unit: 'ms', higherIsBetter: false },
        ];
      },
    }];
  },
};

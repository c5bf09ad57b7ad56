// RQ-KMeans (OneRec, GRID): residual k-means. Level l runs k-means on what levels 0..l-1 left over;
// no training by gradient, so it is fast and does not collapse.
import * as tf from '@tensorflow/tfjs';
import { Codebook } from './codebook.js';
import { resolveFitSample, type FitSample } from './fitSample.js';
import { DEFAULT_KMEANS, kmeans } from './kmeans.js';
import { checkMatrix, reconstructionError } from './matrix.js';
import { encodeResidual, fitResidualRows, residualLookup, type EncodeResidualResult, type LevelQuantizer } from './residual.js';
import { makeRng } from './rng.js';
import { checkBool, checkInt, checkKeys, checkNumber, loadFloat32, saveFloat32 } from './state.js';
import { collisionStats } from './collisions.js';
import type { EmbeddingMatrix, FitOptions, FitReport, ItemTokenizer, SemanticIds, TokenizerFactory } from './types.js';
import { Progress } from './io/index.js';

export interface RqKMeansConfig {
  /** Code positions (residual levels). */
  levels: number;
  /** Codes per level. */
  codebookSize: number;
  /** Lloyd iterations per level (at most). */
  iterations: number;
  /** Lloyd stops once at most this fraction of the rows changes cluster in an iteration. */
  tolerance: number;
  /** Balanced assignment: at most ceil(n / codebookSize) items per code. */
  balanced: boolean;
  /** k-means++ seeds from at most this many sampled rows. */
  initSample: number;
  /**
   * Sampled k-means: rows each level's centroids are fitted on, then every row is assigned. 'auto' (default):
   * faiss's rule (ClusteringParameters.max_points_per_centroid = 256), a random 256 x codebookSize rows when
   * there are more, else all; 'all'; or N rows. See kmeans.ts and fitSample.ts.
   */
  fitSample: FitSample;
  /**
   * Uniform mapping of the last level (LC-Rec): items sharing every earlier code take distinct last codes
   * while the codebook has room (nearest free code, in row order). Earlier levels are unchanged.
   */
  uniformLastLevel: boolean;
}

export const DEFAULT_RQKMEANS: RqKMeansConfig = {
  levels: 3,
  codebookSize: 256,
  iterations: DEFAULT_KMEANS.iterations,
  tolerance: DEFAULT_KMEANS.tolerance,
  balanced: false,
  initSample: DEFAULT_KMEANS.initSample,
  fitSample: DEFAULT_KMEANS.fitSample,
  uniformLastLevel: true,
};

export function resolveRqKMeans(partial: Record<string, unknown> = {}): RqKMeansConfig {
  checkKeys('rqkmeans', partial, [...Object.keys(DEFAULT_RQKMEANS), 'dim']);
  const c = { ...DEFAULT_RQKMEANS, ...partial } as RqKMeansConfig;
  checkInt('levels', c.levels, 1, 16);
  checkInt('codebookSize', c.codebookSize, 2);
  checkInt('iterations', c.iterations, 0);
  checkNumber('tolerance', c.tolerance, 0);
  checkInt('initSample', c.initSample, 1);
  c.fitSample = resolveFitSample(c.fitSample);
  checkBool('balanced', c.balanced);
  checkBool('uniformLastLevel', c.uniformLastLevel);
  const { levels, codebookSize, iterations, tolerance, balanced, initSample, fitSample, uniformLastLevel } = c;
  return { levels, codebookSize, iterations, tolerance, balanced, initSample, fitSample, uniformLastLevel };
}

/** Rows per encode block: bounds the [block, codebookSize] distance matrix. */
const ENCODE_BLOCK = 8192;

export class RqKMeansTokenizer implements ItemTokenizer {
  readonly method = 'rqkmeans';
  readonly config: RqKMeansConfig & { dim?: number };
  private codebooks: Codebook[] = [];
  private dim = 0;

  constructor(config: Record<string, unknown> = {}) {
    this.config = resolveRqKMeans(config);
  }

  get levels(): number[] {
    return new Array<number>(this.config.levels).fill(this.config.codebookSize);
  }

  async fit(x: EmbeddingMatrix, opts: FitOptions = {}): Promise<FitReport> {
    checkMatrix(x);
    const rng = makeRng(opts.seed ?? 0);
    const cfg = this.config;
    const progress = new Progress({ label: 'rqkmeans', total: cfg.levels, unit: 'level', silent: opts.silent });
    const inertia: number[] = [];
    const iterations: number[] = [];
    const fitRows: number[] = [];
    this.dispose();
    this.dim = x.dim;
    // The residual loop on JS rows (fitResidualRows): k-means reads them there, and a large catalog never sits
    // in one tensor.
    this.codebooks = (await fitResidualRows(x, cfg.levels, (residual, level) => {
      const result = kmeans(residual, cfg.codebookSize, cfg, rng);
      inertia.push(result.inertia);
      iterations.push(result.iterations);
      fitRows.push(result.fitRows);
      progress.update(level + 1, { inertia: result.inertia, iterations: result.iterations });
      return new Codebook(tf.tensor2d(result.centroids, [cfg.codebookSize, x.dim])); // [size, dim]
    }, ENCODE_BLOCK)) as Codebook[];
    this.config.dim = x.dim;
    const encoded = this.encodeAll(x);
    const err = reconstructionError(x, this.decode({ levels: this.levels, codes: encoded.codes }));
    const seconds = progress.finish({ reconstruction: err.reconstruction });
    return {
      method: this.method, items: x.rows, dim: x.dim, seconds,
      reconstruction: err.reconstruction, relativeReconstruction: err.relative,
      details: { inertiaPerLevel: inertia, iterationsPerLevel: iterations, fitRowsPerLevel: fitRows, balanced: cfg.balanced, ...uniformDetails(encoded, this.levels, cfg.uniformLastLevel) },
    };
  }

  private fitted(): LevelQuantizer[] {
    if (this.codebooks.length === 0) throw new Error('rqkmeans: the tokenizer is not fitted (call fit or load first)');
    return this.codebooks;
  }

  private encodeAll(x: EmbeddingMatrix): EncodeResidualResult {
    const quantizers = this.fitted();
    checkMatrix(x, 'embeddings', this.dim);
    return encodeResidual(x, quantizers, { block: ENCODE_BLOCK, uniformLastLevel: this.config.uniformLastLevel });
  }

  /** Codes of the rows of `x`; with `uniformLastLevel`, siblings get distinct last codes in row order (see uniformMapping.ts). */
  encode(x: EmbeddingMatrix): SemanticIds {
    return { levels: this.levels, codes: this.encodeAll(x).codes };
  }

  decode(ids: SemanticIds): EmbeddingMatrix {
    const quantizers = this.fitted();
    const L = this.config.levels;
    const rows = checkCodes(ids, this.levels, 'rqkmeans');
    const positions = firstPositions(ids, L);
    const data = new Float32Array(rows * this.dim);
    // In blocks of rows: a large catalog's [rows, dim] never sits in one tensor (wasm memory is capped at 4 GiB).
    for (let start = 0; start < rows; start += ENCODE_BLOCK) {
      const end = Math.min(rows, start + ENCODE_BLOCK);
      const out = tf.tidy(() => residualLookup(tf.tensor2d(positions.subarray(start * L, end * L), [end - start, L], 'int32'), quantizers)); // [block, dim]
      data.set(out.dataSync() as Float32Array, start * this.dim);
      out.dispose();
    }
    return { rows, dim: this.dim, data };
  }

  async save(dir: string): Promise<void> {
    const k = this.config.codebookSize;
    const all = new Float32Array(this.config.levels * k * this.dim);
    this.fitted().forEach((q, l) => all.set((q as Codebook).table.dataSync() as Float32Array, l * k * this.dim));
    await saveFloat32(dir, 'codebooks.f32', all); // [levels, codebookSize, dim]
  }

  static async load(dir: string, config: Record<string, unknown>): Promise<RqKMeansTokenizer> {
    const dim = checkInt('dim', config.dim, 1);
    const tok = new RqKMeansTokenizer({ ...config, dim: undefined });
    const k = tok.config.codebookSize;
    const all = await loadFloat32(dir, 'codebooks.f32', tok.config.levels * k * dim);
    tok.dim = dim;
    tok.config.dim = dim;
    tok.codebooks = Array.from({ length: tok.config.levels }, (_, l) => new Codebook(tf.tensor2d(all.subarray(l * k * dim, (l + 1) * k * dim), [k, dim]))); // [size, dim]
    return tok;
  }

  /** Frees the codebook tensors. */
  dispose(): void {
    for (const c of this.codebooks) c.dispose();
    this.codebooks = [];
  }
}

/**
 * Checks that `ids` has at least the tokenizer's positions with codes in range, and returns the row
 * count. A trailing disambiguation position (one more than the tokenizer's levels) is accepted.
 */
export function checkCodes(ids: SemanticIds, levels: number[], method: string): number {
  const width = ids.levels.length;
  if (width !== levels.length && width !== levels.length + 1) {
    throw new Error(`${method}: semantic IDs have ${width} positions, expected ${levels.length} (or ${levels.length + 1} with the disambiguation code)`);
  }
  if (ids.codes.length % width !== 0) throw new Error(`${method}: ${ids.codes.length} codes is not a multiple of ${width} positions`);
  const rows = ids.codes.length / width;
  for (let r = 0; r < rows; r++) {
    for (let l = 0; l < levels.length; l++) {
      const c = ids.codes[r * width + l];
      if (!Number.isInteger(c) || c < 0 || c >= levels[l]) throw new Error(`${method}: row ${r} position ${l}: code ${c} is outside [0, ${levels[l]})`);
    }
  }
  return rows;
}

/** The first `count` positions of every row (drops a disambiguation position). */
export function firstPositions(ids: SemanticIds, count: number): Int32Array {
  const width = ids.levels.length;
  if (width === count) return ids.codes;
  const rows = ids.codes.length / width;
  const out = new Int32Array(rows * count);
  for (let r = 0; r < rows; r++) out.set(ids.codes.subarray(r * width, r * width + count), r * count);
  return out;
}

/** What the uniform last-level mapping did, for the fit report: collisions with nearest codes only, and rows moved. */
export function uniformDetails(encoded: EncodeResidualResult, levels: number[], enabled: boolean): Record<string, unknown> {
  const nearest = collisionStats({ levels, codes: encoded.nearest });
  return {
    uniformLastLevel: enabled && levels.length >= 2,
    nearestCodeCollisionRate: nearest.collisionRate,
    nearestCodeMaxBucket: nearest.maxBucket,
    movedToFreeLastCode: encoded.moved,
  };
}

export const rqKMeansFactory: TokenizerFactory = {
  description: 'residual k-means (OneRec, GRID): k-means++ seeding, Lloyd iterations, optional balanced assignment',
  create: (config) => new RqKMeansTokenizer(config),
  load: (dir, config) => RqKMeansTokenizer.load(dir, config),
};

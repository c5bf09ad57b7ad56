// FSQ (Mentzer et al. 2023, "Finite Scalar Quantization") and residual FSQ (RecGPT): an MLP projects
// each item to `fsqLevels.length` dims per code position; each dim is bounded (tanh, shifted so that an
// even level count gets a symmetric grid) and rounded to one of fsqLevels[i] values, with the
// straight-through estimator. The per-dim digits form one code by mixed radix: index <-> digits are
// exact inverses (`fsqDigitsToIndex`, `fsqIndexToDigits`).
//   fsq:  `levels` independent FSQ groups (latent = levels x fsqLevels.length dims); levels 1 is the paper's FSQ.
//   rfsq: the residual loop over FSQ: level l rounds the residual on a grid (L_i - 1)^l times finer.
import * as tf from '@tensorflow/tfjs';
import { Mlp, mapRowBlocks, straightThrough, trainLoop } from './autoencoder.js';
import { checkMatrix, reconstructionError } from './matrix.js';
import { encodeResidual, residualLookup, residualQuantize, type EncodeResidualResult, type LevelQuantizer } from './residual.js';
import { makeRng } from './rng.js';
import { checkCodes, firstPositions, uniformDetails } from './rqKmeans.js';
import { checkBool, checkInt, checkIntList, checkKeys, checkNumber, loadFloat32, saveFloat32 } from './state.js';
import { squaredDistances } from './kmeans.js';
import { LastLevelSpreader } from './uniformMapping.js';
import { denormalizeRows, fitNormalizer, identityNormalizer, normalizeMatrix, normalizeRows, normalizerFromArray, normalizerToArray, type Normalizer } from './normalizer.js';
import type { EmbeddingMatrix, FitOptions, FitReport, ItemTokenizer, SemanticIds, TokenizerFactory } from './types.js';

/** FSQ level sets recommended by the paper for a target codebook size (2^8 ... 2^16). */
export const FSQ_LEVEL_SETS: Record<number, number[]> = {
  256: [8, 6, 5], 1024: [8, 5, 5, 5], 4096: [7, 5, 5, 5, 5], 16384: [8, 8, 8, 6, 5], 65536: [8, 8, 8, 5, 5, 5],
};

/** The paper's level set for the nearest listed size at or below `codebookSize` (smallest set below 256). */
export function fsqLevelsFor(codebookSize: number): number[] {
  const sizes = Object.keys(FSQ_LEVEL_SETS).map(Number).sort((a, b) => a - b);
  let pick = sizes[0];
  for (const s of sizes) if (s <= codebookSize) pick = s;
  return FSQ_LEVEL_SETS[pick].slice();
}

/** Mixed-radix basis: digit i has weight prod(levels[0..i-1]). */
function basis(levels: number[]): number[] {
  const out: number[] = [];
  let b = 1;
  for (const l of levels) { out.push(b); b *= l; }
  return out;
}

/** Digits (each in [0, levels[i])) -> one index in [0, prod(levels)). Inverse of fsqIndexToDigits. */
export function fsqDigitsToIndex(digits: ArrayLike<number>, levels: number[]): number {
  const b = basis(levels);
  let index = 0;
  for (let i = 0; i < levels.length; i++) {
    if (!Number.isInteger(digits[i]) || digits[i] < 0 || digits[i] >= levels[i]) throw new Error(`fsq: digit ${i} is ${digits[i]}, outside [0, ${levels[i]})`);
    index += digits[i] * b[i];
  }
  return index;
}

/** Index in [0, prod(levels)) -> digits. Inverse of fsqDigitsToIndex. */
export function fsqIndexToDigits(index: number, levels: number[]): number[] {
  const size = levels.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(index) || index < 0 || index >= size) throw new Error(`fsq: index ${index} is outside [0, ${size})`);
  return levels.map((l, i) => Math.floor(index / basis(levels)[i]) % l);
}

/** Per-dim constants of the bound and the grid. */
function grid(levels: number[]) {
  const eps = 1e-3;
  const half = levels.map((l) => ((l - 1) * (1 + eps)) / 2);
  const offset = levels.map((l) => (l % 2 === 0 ? 0.5 : 0));
  const shift = levels.map((_, i) => Math.atanh(offset[i] / half[i]));
  const low = levels.map((l) => -Math.floor(l / 2)); // smallest grid value
  const halfWidth = levels.map((l) => Math.floor(l / 2)); // normalises the grid to about [-1, 1]
  return { half, offset, shift, low, high: levels.map((l, i) => low[i] + l - 1), halfWidth };
}

/** The paper's bound: z -> tanh(z + shift) * half - offset, into (low - 0.5, high + 0.5). Inside the caller's tidy. */
export function fsqBound(z: tf.Tensor2D, levels: number[]): tf.Tensor2D {
  const g = grid(levels);
  return tf.sub(tf.mul(tf.tanh(tf.add(z, tf.tensor1d(g.shift))), tf.tensor1d(g.half)), tf.tensor1d(g.offset)) as tf.Tensor2D; // [rows, D]
}

/** One FSQ grid as a single-level quantizer: round(x * scale) clamped to the grid, divided by scale. */
export class FsqLevel implements LevelQuantizer {
  readonly size: number;
  private readonly g: ReturnType<typeof grid>;

  constructor(readonly fsqLevels: number[], readonly scale: number[]) {
    this.size = fsqLevels.reduce((a, b) => a * b, 1);
    this.g = grid(fsqLevels);
  }

  quantize(x: tf.Tensor2D): { codes: tf.Tensor1D; quantized: tf.Tensor2D } {
    const scale = tf.tensor1d(this.scale); // [D]
    const scaled = tf.mul(x, scale) as tf.Tensor2D; // [rows, D]
    const rounded = tf.clipByValue(tf.round(scaled), Math.min(...this.g.low), Math.max(...this.g.high)); // [rows, D]
    const q = tf.minimum(tf.maximum(rounded, tf.tensor1d(this.g.low)), tf.tensor1d(this.g.high)) as tf.Tensor2D; // [rows, D]
    const digits = tf.sub(q, tf.tensor1d(this.g.low)); // [rows, D]
    const codes = tf.sum(tf.mul(digits, tf.tensor1d(basis(this.fsqLevels))), 1).round().toInt() as tf.Tensor1D; // [rows]
    const quantized = tf.div(straightThrough(scaled, q), scale) as tf.Tensor2D; // [rows, D]
    return { codes, quantized };
  }

  lookup(codes: tf.Tensor1D): tf.Tensor2D {
    const index = tf.expandDims(codes.toFloat(), 1); // [rows, 1]
    const digits = tf.mod(tf.floor(tf.div(index, tf.tensor1d(basis(this.fsqLevels)))), tf.tensor1d(this.fsqLevels)); // [rows, D]
    return tf.div(tf.add(digits, tf.tensor1d(this.g.low)), tf.tensor1d(this.scale)) as tf.Tensor2D; // [rows, D]
  }
}

export interface FsqConfig {
  /** Code positions: FSQ groups (fsq) or residual levels (rfsq). */
  levels: number;
  /** Used to choose `fsqLevels` when they are not given. */
  codebookSize: number;
  /** Grid size per latent dim, e.g. [8, 6, 5] (240 codes per position). */
  fsqLevels: number[];
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  /**
   * Uniform mapping of the last position at encode time (LC-Rec): items sharing every earlier code take
   * distinct last codes (nearest free grid point, in row order) while the grid has room.
   */
  uniformLastLevel: boolean;
  /** Centre the inputs and scale them to unit mean square per dimension before the encoder (normalizer.ts). */
  normalize: boolean;
}

export const DEFAULT_FSQ: FsqConfig = {
  levels: 3, codebookSize: 256, fsqLevels: [8, 6, 5], hidden: [512, 256, 128], epochs: 40, batchSize: 1024, learningRate: 1e-3,
  uniformLastLevel: true, normalize: true,
};

export function resolveFsq(method: string, partial: Record<string, unknown> = {}): FsqConfig {
  checkKeys(method, partial, [...Object.keys(DEFAULT_FSQ), 'dim']);
  const fsqLevels = partial.fsqLevels ?? (partial.codebookSize !== undefined ? fsqLevelsFor(checkInt('codebookSize', partial.codebookSize, 2)) : DEFAULT_FSQ.fsqLevels);
  const c = { ...DEFAULT_FSQ, ...partial, fsqLevels } as FsqConfig;
  checkInt('levels', c.levels, 1, 16);
  checkIntList('fsqLevels', c.fsqLevels, 2);
  checkIntList('hidden', c.hidden, 1);
  checkInt('epochs', c.epochs, 1);
  checkInt('batchSize', c.batchSize, 1);
  checkNumber('learningRate', c.learningRate, 0);
  checkBool('uniformLastLevel', c.uniformLastLevel);
  checkBool('normalize', c.normalize);
  const size = c.fsqLevels.reduce((a, b) => a * b, 1);
  return {
    levels: c.levels, codebookSize: size, fsqLevels: [...c.fsqLevels], hidden: [...c.hidden], epochs: c.epochs, batchSize: c.batchSize,
    learningRate: c.learningRate, uniformLastLevel: c.uniformLastLevel, normalize: c.normalize,
  };
}

const BLOCK = 8192;

export class FsqTokenizer implements ItemTokenizer {
  readonly config: FsqConfig & { dim?: number };
  private encoder: Mlp | null = null;
  private decoder: Mlp | null = null;
  private dim = 0;
  private normalizer: Normalizer = identityNormalizer(0);
  private readonly quantizers: FsqLevel[];

  constructor(readonly method: 'fsq' | 'rfsq', config: Record<string, unknown> = {}) {
    this.config = resolveFsq(method, config);
    const f = this.config.fsqLevels;
    this.quantizers = method === 'rfsq'
      ? Array.from({ length: this.config.levels }, (_, l) => new FsqLevel(f, f.map((n) => (n - 1) ** l)))
      : [new FsqLevel(f, f.map(() => 1))];
  }

  get levels(): number[] {
    return new Array<number>(this.config.levels).fill(this.config.codebookSize);
  }

  /** Latent width: one FSQ vector per position (fsq) or one shared (rfsq). */
  private get latentDim(): number {
    return this.config.fsqLevels.length * (this.method === 'fsq' ? this.config.levels : 1);
  }

  private build(dim: number, seed: number): void {
    this.dispose();
    const rng = makeRng(seed + 202);
    this.dim = dim;
    this.config.dim = dim;
    this.encoder = new Mlp([dim, ...this.config.hidden, this.latentDim], rng, `${this.method}_enc`);
    this.decoder = new Mlp([this.latentDim, ...[...this.config.hidden].reverse(), dim], rng, `${this.method}_dec`);
  }

  /** Encoder output -> codes [rows, levels] and the decoder input [rows, latent]. Inside the caller's tidy. */
  private bottleneck(z: tf.Tensor2D): { codes: tf.Tensor2D; decoderInput: tf.Tensor2D } {
    const f = this.config.fsqLevels;
    const D = f.length;
    const rows = z.shape[0];
    const G = this.method === 'fsq' ? this.config.levels : 1;
    const bounded = fsqBound(tf.reshape(z, [rows * G, D]) as tf.Tensor2D, f); // [rows * G, D]
    const halfWidth = tf.tensor1d(f.map((l) => Math.floor(l / 2))); // [D]
    if (this.method === 'rfsq') {
      const out = residualQuantize(bounded, this.quantizers);
      return { codes: out.codes, decoderInput: tf.div(out.quantized, halfWidth) as tf.Tensor2D }; // [rows, levels], [rows, D]
    }
    const out = this.quantizers[0].quantize(bounded);
    return {
      codes: tf.reshape(out.codes, [rows, G]) as tf.Tensor2D, // [rows, levels]
      decoderInput: tf.reshape(tf.div(out.quantized, halfWidth), [rows, G * D]) as tf.Tensor2D, // [rows, G * D]
    };
  }

  /** Codes [rows, levels] -> decoder input [rows, latent]. Inside the caller's tidy. */
  private lookup(codes: tf.Tensor2D): tf.Tensor2D {
    const f = this.config.fsqLevels;
    const rows = codes.shape[0];
    const halfWidth = tf.tensor1d(f.map((l) => Math.floor(l / 2))); // [D]
    if (this.method === 'rfsq') return tf.div(residualLookup(codes, this.quantizers), halfWidth) as tf.Tensor2D; // [rows, D]
    const flat = this.quantizers[0].lookup(tf.reshape(codes, [-1]) as tf.Tensor1D); // [rows * G, D]
    return tf.reshape(tf.div(flat, halfWidth), [rows, this.latentDim]) as tf.Tensor2D; // [rows, G * D]
  }

  async fit(x: EmbeddingMatrix, opts: FitOptions = {}): Promise<FitReport> {
    checkMatrix(x);
    const start = performance.now();
    const rng = makeRng(opts.seed ?? 0);
    this.build(x.dim, opts.seed ?? 0);
    const encoder = this.encoder!;
    const decoder = this.decoder!;
    const c = this.config;
    this.normalizer = c.normalize ? fitNormalizer(x) : identityNormalizer(x.dim);
    const unitsSquared = this.normalizer.scale ** 2; // normalised squared errors -> input units
    const data = tf.tensor2d(c.normalize ? normalizeMatrix(x, this.normalizer).data : x.data, [x.rows, x.dim]); // [rows, dim]
    const used = new Set<number>();
    try {
      const curve = trainLoop({
        label: this.method, x: data, epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate,
        variables: [...encoder.variables, ...decoder.variables], rng, silent: opts.silent, reconstructionUnits: unitsSquared,
        loss: (batch) => {
          const xHat = decoder.apply(this.bottleneck(encoder.apply(batch)).decoderInput); // [batch, dim]
          const reconstruction = tf.mean(tf.sum(tf.square(tf.sub(batch, xHat)), 1)) as tf.Scalar; // []
          return { loss: reconstruction, reconstruction };
        },
        afterBatch: (batch) => {
          const first = tf.tidy(() => tf.slice(this.bottleneck(encoder.apply(batch)).codes, [0, 0], [-1, 1])); // [batch, 1]
          for (const v of first.dataSync()) used.add(v);
          first.dispose();
        },
        afterEpoch: () => {
          const firstLevelUsed = used.size;
          used.clear();
          return { firstLevelUsed };
        },
      });
      const encoded = this.encodeAll(x);
      const err = reconstructionError(x, this.decode({ levels: this.levels, codes: encoded.codes }));
      return {
        method: this.method, items: x.rows, dim: x.dim, seconds: (performance.now() - start) / 1000,
        reconstruction: err.reconstruction, relativeReconstruction: err.relative,
        curve: curve.map((p) => ({ epoch: p.epoch, loss: p.loss, reconstruction: p.reconstruction, firstLevelUsed: p.firstLevelUsed })),
        details: { fsqLevels: c.fsqLevels, latentDim: this.latentDim, encoder: encoder.sizes, ...uniformDetails(encoded, this.levels, c.uniformLastLevel) },
      };
    } finally {
      data.dispose();
    }
  }

  private parts(): { encoder: Mlp; decoder: Mlp } {
    if (!this.encoder || !this.decoder) throw new Error(`${this.method}: the tokenizer is not fitted (call fit or load first)`);
    return { encoder: this.encoder, decoder: this.decoder };
  }

  /** Codes of every row; the uniform last-level mapping as in residual.ts's encodeResidual. */
  private encodeAll(x: EmbeddingMatrix): EncodeResidualResult {
    const { encoder } = this.parts();
    checkMatrix(x, 'embeddings', this.dim);
    const f = this.config.fsqLevels;
    const encodeRows = (rows: tf.Tensor2D) => encoder.apply(normalizeRows(rows, this.normalizer)); // [block, latent]
    if (this.method === 'rfsq') {
      return encodeResidual(x, this.quantizers, { block: BLOCK, transform: (rows) => fsqBound(encodeRows(rows), f), uniformLastLevel: this.config.uniformLastLevel });
    }
    // fsq: independent groups; the last group is the last position, its siblings share the other groups.
    const L = this.config.levels;
    const D = f.length;
    const grid = this.quantizers[0];
    const spreader = this.config.uniformLastLevel && L >= 2 ? new LastLevelSpreader(grid.size) : null;
    const codes = new Int32Array(x.rows * L);
    for (let s = 0; s < x.rows; s += BLOCK) {
      const e = Math.min(x.rows, s + BLOCK);
      const n = e - s;
      const [codesT, distancesT] = tf.tidy(() => {
        const bounded = fsqBound(tf.reshape(encodeRows(tf.tensor2d(x.data.subarray(s * x.dim, e * x.dim), [n, x.dim])), [n * L, D]) as tf.Tensor2D, f); // [block * levels, D]
        const blockCodes = tf.reshape(grid.quantize(bounded).codes, [n, L]); // [block, levels]
        if (!spreader) return [blockCodes, tf.zeros([0])];
        const lastGroup = tf.reshape(tf.slice(tf.reshape(bounded, [n, L, D]), [0, L - 1, 0], [n, 1, D]), [n, D]) as tf.Tensor2D; // [block, D]
        const points = grid.lookup(tf.range(0, grid.size, 1, 'int32') as tf.Tensor1D); // [size, D]
        return [blockCodes, squaredDistances(lastGroup, points)]; // [block, levels], [block, size]
      });
      const v = codesT.dataSync() as Int32Array;
      codes.set(v, s * L);
      if (spreader) {
        const prefix = new Int32Array(n * (L - 1));
        for (let r = 0; r < n; r++) prefix.set(v.subarray(r * L, r * L + L - 1), r * (L - 1));
        const last = spreader.assign(prefix, L - 1, distancesT.dataSync() as Float32Array).codes;
        for (let r = 0; r < n; r++) codes[(s + r) * L + L - 1] = last[r];
      }
      tf.dispose([codesT, distancesT]);
    }
    const nearest = spreader ? Int32Array.from(codes) : codes;
    if (spreader) {
      // nearest codes: recompute the last position by rounding (what encode gives without the mapping)
      const plain = mapRowBlocks(x.rows, BLOCK, L, (m) => new Int32Array(m), (s, e) => tf.tidy(() =>
        this.bottleneck(encodeRows(tf.tensor2d(x.data.subarray(s * x.dim, e * x.dim), [e - s, x.dim]))).codes)); // [block, levels]
      nearest.set(plain);
    }
    return { codes, nearest, moved: spreader?.moved ?? 0 };
  }

  /** Codes of the rows of `x`; with `uniformLastLevel`, siblings get distinct last codes in row order (see uniformMapping.ts). */
  encode(x: EmbeddingMatrix): SemanticIds {
    return { levels: this.levels, codes: this.encodeAll(x).codes };
  }

  decode(ids: SemanticIds): EmbeddingMatrix {
    const { decoder } = this.parts();
    const L = this.config.levels;
    const rows = checkCodes(ids, this.levels, this.method);
    const codes = firstPositions(ids, L);
    const data = mapRowBlocks(rows, BLOCK, this.dim, (n) => new Float32Array(n), (s, e) => tf.tidy(() =>
      denormalizeRows(decoder.apply(this.lookup(tf.tensor2d(codes.subarray(s * L, e * L), [e - s, L], 'int32'))), this.normalizer))); // [block, dim]
    return { rows, dim: this.dim, data };
  }

  async save(dir: string): Promise<void> {
    const { encoder, decoder } = this.parts();
    await saveFloat32(dir, 'encoder.f32', encoder.toArray());
    await saveFloat32(dir, 'decoder.f32', decoder.toArray());
    await saveFloat32(dir, 'normalizer.f32', normalizerToArray(this.normalizer)); // [1 + dim]
  }

  static async load(method: 'fsq' | 'rfsq', dir: string, config: Record<string, unknown>): Promise<FsqTokenizer> {
    const dim = checkInt('dim', config.dim, 1);
    const tok = new FsqTokenizer(method, { ...config, dim: undefined });
    tok.build(dim, 0);
    const { encoder, decoder } = tok.parts();
    encoder.fromArray(await loadFloat32(dir, 'encoder.f32', encoder.parameterCount));
    decoder.fromArray(await loadFloat32(dir, 'decoder.f32', decoder.parameterCount));
    tok.normalizer = normalizerFromArray(await loadFloat32(dir, 'normalizer.f32', dim + 1));
    return tok;
  }

  dispose(): void {
    this.encoder?.dispose();
    this.decoder?.dispose();
    this.encoder = null;
    this.decoder = null;
  }
}

export const fsqFactory: TokenizerFactory = {
  description: 'FSQ (Mentzer et al.): MLP projection, bounded rounding per dim; `levels` independent groups',
  create: (config) => new FsqTokenizer('fsq', config),
  load: (dir, config) => FsqTokenizer.load('fsq', dir, config),
};

export const rfsqFactory: TokenizerFactory = {
  description: 'residual FSQ (RecGPT): the residual loop over FSQ grids, each (L-1) times finer',
  create: (config) => new FsqTokenizer('rfsq', config),
  load: (dir, config) => FsqTokenizer.load('rfsq', dir, config),
};

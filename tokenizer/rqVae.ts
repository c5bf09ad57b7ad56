// RQ-VAE (TIGER, Rajput et al. 2023): an MLP encoder to a small latent, residual vector quantization with
// `levels` codebooks, a decoder back to the input. Trained with the straight-through estimator and the
// VQ-VAE losses: reconstruction (summed over dimensions, so it is not dwarfed by the codebook terms)
// + per level ||sg(r) - q||^2 + beta ||r - sg(q)||^2. Against codebook collapse: codebooks start as
// residual k-means of the encoded first batch, and codes unused for a whole epoch restart at random
// residuals of that level. Inputs are centred and scaled (normalizer.ts); encode applies the uniform
// last-level mapping (uniformMapping.ts) unless `uniformLastLevel` is off.
// Multi-domain data (GMC): `domainContrastive` > 0 adds a supervised InfoNCE term on the encoder's latents (before
// quantization, cosine similarity / `temperature`): for each item, the other items of its domain in the batch are
// positives and other domains' items negatives, so the first-level codes come to carry the domain while items stay
// free to share later codes.
//
// Hidden sizes are absolute (TIGER: 768 -> 512 -> 256 -> 128 -> 32): they are not rescaled for other
// input sizes; pass `hidden` for much smaller or larger inputs.
import * as tf from '@tensorflow/tfjs';
import { Mlp, mapRowBlocks, ownedVariable, stopGradient, straightThrough, trainLoop } from './autoencoder.js';
import { Codebook } from './codebook.js';
import { kmeans } from './kmeans.js';
import { checkMatrix, reconstructionError } from './matrix.js';
import { encodeResidual, fitResidual, residualLookup, residualQuantize, type EncodeResidualResult } from './residual.js';
import { makeRng, permutation } from './rng.js';
import { denormalizeRows, fitNormalizer, identityNormalizer, normalizeMatrix, normalizeRows, normalizerFromArray, normalizerToArray, type Normalizer } from './normalizer.js';
import { checkCodes, firstPositions, uniformDetails } from './rqKmeans.js';
import { checkBool, checkInt, checkIntList, checkKeys, checkNumber, loadFloat32, saveFloat32 } from './state.js';
import type { EmbeddingMatrix, FitOptions, FitReport, ItemTokenizer, SemanticIds, TokenizerFactory, TrainingPoint } from './types.js';

export interface RqVaeConfig {
  levels: number;
  codebookSize: number;
  /** Encoder hidden sizes (the decoder mirrors them). */
  hidden: number[];
  latentDim: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Commitment weight. */
  beta: number;
  /** Restart codes unused during an epoch (not after the last epoch). */
  restartDeadCodes: boolean;
  /**
   * Uniform mapping of the last level at encode time (LC-Rec): items sharing every earlier code take
   * distinct last codes while the codebook has room (nearest free code, in row order).
   */
  uniformLastLevel: boolean;
  /** Centre the inputs and scale them to unit mean square per dimension before the encoder (normalizer.ts). */
  normalize: boolean;
  /** Weight of the domain-contrastive term (0 = off; needs the items' domains, FitOptions.domains). */
  domainContrastive: number;
  /** Temperature of the domain-contrastive term's softmax over cosine similarities. */
  temperature: number;
}

export const DEFAULT_RQVAE: RqVaeConfig = {
  levels: 3, codebookSize: 256, hidden: [512, 256, 128], latentDim: 32,
  epochs: 20, batchSize: 1024, learningRate: 3e-3, beta: 0.25, restartDeadCodes: true, uniformLastLevel: true, normalize: true,
  domainContrastive: 0, temperature: 0.1,
};

export function resolveRqVae(partial: Record<string, unknown> = {}): RqVaeConfig {
  checkKeys('rqvae', partial, [...Object.keys(DEFAULT_RQVAE), 'dim']);
  const c = { ...DEFAULT_RQVAE, ...partial } as RqVaeConfig;
  checkInt('levels', c.levels, 1, 16);
  checkInt('codebookSize', c.codebookSize, 2);
  checkIntList('hidden', c.hidden, 1);
  checkInt('latentDim', c.latentDim, 1);
  checkInt('epochs', c.epochs, 1);
  checkInt('batchSize', c.batchSize, 1);
  checkNumber('learningRate', c.learningRate, 0);
  checkNumber('beta', c.beta, 0);
  checkBool('restartDeadCodes', c.restartDeadCodes);
  checkBool('uniformLastLevel', c.uniformLastLevel);
  checkBool('normalize', c.normalize);
  checkNumber('domainContrastive', c.domainContrastive, 0);
  checkNumber('temperature', c.temperature, 0);
  if (!(c.temperature > 0)) throw new Error(`rqvae: \`temperature\` must be > 0, got ${c.temperature}`);
  const { levels, codebookSize, hidden, latentDim, epochs, batchSize, learningRate, beta, restartDeadCodes, uniformLastLevel, normalize, domainContrastive, temperature } = c;
  return { levels, codebookSize, hidden: [...hidden], latentDim, epochs, batchSize, learningRate, beta, restartDeadCodes, uniformLastLevel, normalize, domainContrastive, temperature };
}

const BLOCK = 8192;

/**
 * Supervised InfoNCE over a batch's latents z [batch, latent] with domain labels: mean over anchors with at least one
 * positive of -mean_p log softmax_{a != i}(cos(z_i, z_a) / t)[p], positives p = the other items of the anchor's domain.
 */
export function domainContrastiveLoss(z: tf.Tensor2D, labels: Int32Array, temperature: number): tf.Scalar {
  const n = z.shape[0];
  const notSelf = new Float32Array(n * n); // 0 off the diagonal, -1e9 on it (an item is not its own candidate)
  const positive = new Float32Array(n * n); // 1 where j != i is of i's domain
  const anchor = new Float32Array(n); // 1 / |positives of i| where i has any
  let anchors = 0;
  for (let i = 0; i < n; i++) {
    notSelf[i * n + i] = -1e9;
    let count = 0;
    for (let j = 0; j < n; j++) if (j !== i && labels[j] === labels[i]) { positive[i * n + j] = 1; count += 1; }
    if (count > 0) { anchor[i] = 1 / count; anchors += 1; }
  }
  if (anchors === 0) return tf.scalar(0);
  const unit = tf.div(z, tf.add(tf.sqrt(tf.sum(tf.square(z), 1, true)), 1e-8)); // [batch, latent]
  const logits = tf.add(tf.div(tf.matMul(unit, tf.transpose(unit)), temperature), tf.tensor2d(notSelf, [n, n])); // [batch, batch]
  const logProb = tf.sub(logits, tf.logSumExp(logits, 1, true)); // [batch, batch]
  const perAnchor = tf.sum(tf.mul(logProb, tf.tensor2d(positive, [n, n])), 1); // [batch]
  return tf.div(tf.neg(tf.sum(tf.mul(perAnchor, tf.tensor1d(anchor)))), anchors) as tf.Scalar; // []
}

/** The domain labels the contrastive term needs: one integer >= 0 per row. */
function checkDomainLabels(domains: Int32Array | undefined, rows: number): Int32Array {
  if (!domains) throw new Error('rqvae: `domainContrastive` needs the items\' domains: fit on a multi-domain data set (semid data merge)');
  if (domains.length !== rows) throw new Error(`rqvae: ${domains.length} domain labels for ${rows} items`);
  return domains;
}

export class RqVaeTokenizer implements ItemTokenizer {
  readonly method = 'rqvae';
  readonly config: RqVaeConfig & { dim?: number };
  private encoder: Mlp | null = null;
  private decoder: Mlp | null = null;
  private codebooks: Codebook[] = [];
  private dim = 0;
  private normalizer: Normalizer = identityNormalizer(0);

  constructor(config: Record<string, unknown> = {}) {
    this.config = resolveRqVae(config);
  }

  get levels(): number[] {
    return new Array<number>(this.config.levels).fill(this.config.codebookSize);
  }

  private build(dim: number, seed: number): void {
    this.dispose();
    const rng = makeRng(seed + 101);
    const c = this.config;
    this.dim = dim;
    this.config.dim = dim;
    this.encoder = new Mlp([dim, ...c.hidden, c.latentDim], rng, 'rqvae_enc');
    this.decoder = new Mlp([c.latentDim, ...[...c.hidden].reverse(), dim], rng, 'rqvae_dec');
    this.codebooks = Array.from({ length: c.levels }, (_, l) => new Codebook(ownedVariable(tf.zeros([c.codebookSize, c.latentDim]), `rqvae_cb${l}`) as unknown as tf.Tensor2D)); // [size, latent]
  }

  async fit(x: EmbeddingMatrix, opts: FitOptions = {}): Promise<FitReport> {
    checkMatrix(x);
    const c = this.config;
    if (x.rows < c.codebookSize) throw new Error(`rqvae: ${x.rows} items cannot fill a codebook of ${c.codebookSize} codes (--codebook-size must be <= the number of items)`);
    const start = performance.now();
    const domains = c.domainContrastive > 0 ? checkDomainLabels(opts.domains, x.rows) : null;
    const rng = makeRng(opts.seed ?? 0);
    this.build(x.dim, opts.seed ?? 0);
    const encoder = this.encoder!;
    const decoder = this.decoder!;
    const codebooks = this.codebooks;
    this.normalizer = c.normalize ? fitNormalizer(x) : identityNormalizer(x.dim);
    const unitsSquared = this.normalizer.scale ** 2; // normalised squared errors -> input units
    const data = tf.tensor2d(c.normalize ? normalizeMatrix(x, this.normalizer).data : x.data, [x.rows, x.dim]); // [rows, dim]
    const usage = codebooks.map(() => new Int32Array(c.codebookSize));
    let restartsThisEpoch = 0;
    let lastBatch: tf.Tensor2D | null = null;
    try {
      // Codebooks start as residual k-means of the encoded first batch (at least 4 items per code), fitted on all of
      // that batch: it is already a sample.
      const initRows = Math.min(x.rows, Math.max(c.batchSize, 4 * c.codebookSize));
      const initIdx = permutation(x.rows, rng).subarray(0, initRows);
      const z0 = tf.tidy(() => encoder.apply(tf.gather(data, tf.tensor1d(initIdx, 'int32')) as tf.Tensor2D)); // [init, latent]
      const initial = await fitResidual(z0, c.levels, (residual) => {
        const r = { rows: initRows, dim: c.latentDim, data: residual.dataSync() as Float32Array };
        return new Codebook(tf.tensor2d(kmeans(r, c.codebookSize, { iterations: 10, fitSample: 'all' }, rng).centroids, [c.codebookSize, c.latentDim])); // [size, latent]
      });
      z0.dispose();
      initial.forEach((q, l) => {
        (codebooks[l].table as unknown as tf.Variable).assign((q as Codebook).table);
        (q as Codebook).dispose();
      });

      const variables = [...encoder.variables, ...decoder.variables, ...codebooks.map((q) => q.table as unknown as tf.Variable)];
      const curve = trainLoop({
        label: 'rqvae', x: data, epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate,
        variables, rng, silent: opts.silent, reconstructionUnits: unitsSquared,
        loss: (batch, rows) => {
          const z = encoder.apply(batch); // [batch, latent]
          const out = residualQuantize(z, codebooks);
          const used = out.codes.dataSync(); // the codes are already on the CPU (Codebook reads them back)
          for (let i = 0; i < used.length; i++) usage[i % c.levels][used[i]]++;
          let vq: tf.Tensor = tf.scalar(0);
          for (const step of out.steps) {
            const codebookLoss = tf.mean(tf.sum(tf.square(tf.sub(stopGradient(step.residual), step.quantized)), 1)); // []
            const commitLoss = tf.mean(tf.sum(tf.square(tf.sub(step.residual, stopGradient(step.quantized))), 1)); // []
            vq = tf.add(vq, tf.add(codebookLoss, tf.mul(commitLoss, c.beta))); // []
          }
          const zq = straightThrough(z, out.quantized) as tf.Tensor2D; // [batch, latent]
          const xHat = decoder.apply(zq); // [batch, dim]
          const reconstruction = tf.mean(tf.sum(tf.square(tf.sub(batch, xHat)), 1)) as tf.Scalar; // []
          let loss = tf.add(reconstruction, vq) as tf.Scalar; // []
          if (domains) {
            const contrastive = domainContrastiveLoss(z, Int32Array.from(rows, (r) => domains[r]), c.temperature); // []
            loss = tf.add(loss, tf.mul(contrastive, c.domainContrastive)) as tf.Scalar; // []
          }
          return { loss, reconstruction };
        },
        afterBatch: (batch) => {
          lastBatch?.dispose();
          lastBatch = tf.keep(tf.clone(batch)); // [batch, dim]
        },
        afterEpoch: (epoch) => {
          const firstLevelUsed = usage[0].reduce((n, u) => n + (u > 0 ? 1 : 0), 0);
          restartsThisEpoch = 0;
          if (c.restartDeadCodes && epoch < c.epochs && lastBatch) restartsThisEpoch = this.restartDeadCodes(lastBatch, usage, rng);
          for (const u of usage) u.fill(0);
          return { firstLevelUsed, restarts: restartsThisEpoch };
        },
      });
      const encoded = this.encodeAll(x);
      const err = reconstructionError(x, this.decode({ levels: this.levels, codes: encoded.codes }));
      const trainingCurve: TrainingPoint[] = curve.map((p) => ({
        epoch: p.epoch, loss: p.loss, reconstruction: p.reconstruction, firstLevelUsed: p.firstLevelUsed, restarts: p.restarts,
      }));
      return {
        method: this.method, items: x.rows, dim: x.dim, seconds: (performance.now() - start) / 1000,
        reconstruction: err.reconstruction, relativeReconstruction: err.relative, curve: trainingCurve,
        details: {
          encoder: encoder.sizes, decoder: decoder.sizes, totalRestarts: trainingCurve.reduce((n, p) => n + (p.restarts ?? 0), 0),
          ...uniformDetails(encoded, this.levels, c.uniformLastLevel),
        },
      };
    } finally {
      data.dispose();
      (lastBatch as tf.Tensor2D | null)?.dispose();
    }
  }

  /** Moves codes unused in this epoch onto random residuals of their level (from `batch`); returns how many. */
  private restartDeadCodes(batch: tf.Tensor2D, usage: Int32Array[], rng: ReturnType<typeof makeRng>): number {
    let restarted = 0;
    tf.tidy(() => {
      const out = residualQuantize(this.encoder!.apply(batch), this.codebooks);
      const rows = batch.shape[0];
      out.steps.forEach((step, l) => {
        const dead: number[] = [];
        usage[l].forEach((u, code) => { if (u === 0) dead.push(code); });
        if (dead.length === 0) return;
        const table = this.codebooks[l].table as unknown as tf.Variable;
        const values = table.dataSync().slice() as Float32Array;
        const residuals = step.residual.dataSync() as Float32Array; // [batch, latent]
        const d = this.config.latentDim;
        for (const code of dead) {
          const r = rng.int(rows);
          values.set(residuals.subarray(r * d, (r + 1) * d), code * d);
        }
        table.assign(tf.tensor2d(values, [this.config.codebookSize, d])); // [size, latent]
        restarted += dead.length;
      });
    });
    return restarted;
  }

  private parts(): { encoder: Mlp; decoder: Mlp } {
    if (!this.encoder || !this.decoder) throw new Error('rqvae: the tokenizer is not fitted (call fit or load first)');
    return { encoder: this.encoder, decoder: this.decoder };
  }

  private encodeAll(x: EmbeddingMatrix): EncodeResidualResult {
    const { encoder } = this.parts();
    checkMatrix(x, 'embeddings', this.dim);
    return encodeResidual(x, this.codebooks, { block: BLOCK, transform: (rows) => encoder.apply(normalizeRows(rows, this.normalizer)), uniformLastLevel: this.config.uniformLastLevel });
  }

  /** Codes of the rows of `x`; with `uniformLastLevel`, siblings get distinct last codes in row order (see uniformMapping.ts). */
  encode(x: EmbeddingMatrix): SemanticIds {
    return { levels: this.levels, codes: this.encodeAll(x).codes };
  }

  decode(ids: SemanticIds): EmbeddingMatrix {
    const { decoder } = this.parts();
    const L = this.config.levels;
    const rows = checkCodes(ids, this.levels, 'rqvae');
    const codes = firstPositions(ids, L);
    const data = mapRowBlocks(rows, BLOCK, this.dim, (n) => new Float32Array(n), (s, e) => tf.tidy(() => {
      const block = tf.tensor2d(codes.subarray(s * L, e * L), [e - s, L], 'int32'); // [block, levels]
      return denormalizeRows(decoder.apply(residualLookup(block, this.codebooks)), this.normalizer); // [block, dim]
    }));
    return { rows, dim: this.dim, data };
  }

  async save(dir: string): Promise<void> {
    const { encoder, decoder } = this.parts();
    await saveFloat32(dir, 'encoder.f32', encoder.toArray());
    await saveFloat32(dir, 'decoder.f32', decoder.toArray());
    const k = this.config.codebookSize;
    const d = this.config.latentDim;
    const all = new Float32Array(this.config.levels * k * d);
    this.codebooks.forEach((q, l) => all.set(q.table.dataSync() as Float32Array, l * k * d));
    await saveFloat32(dir, 'codebooks.f32', all); // [levels, codebookSize, latentDim]
    await saveFloat32(dir, 'normalizer.f32', normalizerToArray(this.normalizer)); // [1 + dim]
  }

  static async load(dir: string, config: Record<string, unknown>): Promise<RqVaeTokenizer> {
    const dim = checkInt('dim', config.dim, 1);
    const tok = new RqVaeTokenizer({ ...config, dim: undefined });
    tok.build(dim, 0);
    const { encoder, decoder } = tok.parts();
    encoder.fromArray(await loadFloat32(dir, 'encoder.f32', encoder.parameterCount));
    decoder.fromArray(await loadFloat32(dir, 'decoder.f32', decoder.parameterCount));
    const k = tok.config.codebookSize;
    const d = tok.config.latentDim;
    const all = await loadFloat32(dir, 'codebooks.f32', tok.config.levels * k * d);
    tok.normalizer = normalizerFromArray(await loadFloat32(dir, 'normalizer.f32', dim + 1));
    tok.codebooks.forEach((q, l) => tf.tidy(() => (q.table as unknown as tf.Variable).assign(tf.tensor2d(all.subarray(l * k * d, (l + 1) * k * d), [k, d])))); // [size, latent]
    return tok;
  }

  dispose(): void {
    this.encoder?.dispose();
    this.decoder?.dispose();
    for (const q of this.codebooks) q.dispose();
    this.encoder = null;
    this.decoder = null;
    this.codebooks = [];
  }
}

export const rqVaeFactory: TokenizerFactory = {
  description: 'RQ-VAE (TIGER): MLP autoencoder with residual vector quantization, k-means-initialised codebooks, dead-code restarts',
  create: (config) => new RqVaeTokenizer(config),
  load: (dir, config) => RqVaeTokenizer.load(dir, config),
};

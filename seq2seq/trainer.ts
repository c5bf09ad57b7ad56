// The training loop: AdamW (decoupled weight decay), linear warm-up then inverse-square-root decay,
// gradient clipping by global norm, seeded dropout and data order, validation through a callback with
// early stopping and the best model kept, resumable checkpoints, JSONL metrics and a progress bar.
//
// Bit-for-bit resume: every random draw is a pure function of (seed, step) -- the data order of
// (seed, epoch), dropout masks of (seed, step, call) -- and a checkpoint holds the weights, the AdamW
// moments, the step and the data position, so a resumed run computes exactly the losses it would have.
import * as tf from '@tensorflow/tfjs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Progress, writeDirAtomic, writeFileAtomic, writeJsonAtomic } from '../tokenizer/io/index.js';
import { backendTraits } from './backend/index.js';
import { DataOrder, type DataPosition } from './batches.js';
import { MODEL_FILE, modelArtifacts, packTensors, saveModel, unpackTensors, WEIGHTS_FILE, type WeightEntry } from './checkpoint.js';
import type { ModelConfig, TrainConfig, TrainOnly } from './config.js';
import { DropoutSeeds } from './layers.js';
import type { SequenceModel, TrainBatch, TrainingSet } from './model.js';

export type Metrics = Record<string, number>;
/** Validation callback: the pipeline's Recall@K/NDCG@K on held-out users (higher is better). */
export type ValidateFn = (model: SequenceModel, step: number) => Promise<Metrics>;

export interface TrainOptions {
  model: SequenceModel;
  config: TrainConfig;
  /** The model's training rows (model.trainingSet). */
  data: TrainingSet;
  /** Writes metrics.jsonl, checkpoints/ and the final model (model.json + weights.bin) here. */
  outDir: string;
  /** Continue from outDir/checkpoints/last when present. */
  resume?: boolean;
  validate?: ValidateFn;
  silent?: boolean;
  /** Stop (as if killed) after this many steps of this call, leaving the checkpoint (tests, time slices). */
  maxStepsThisRun?: number;
  /** Called after every step with its loss. */
  onStep?: (step: number, loss: number) => void;
  /** Checked between steps: once `aborted`, the run stops as with maxStepsThisRun (a checkpoint is written). */
  stop?: { readonly aborted: boolean };
}

export interface TrainResult {
  /** Steps done in total (including those before a resume). */
  step: number;
  lastLoss: number;
  best: { step: number; metrics: Metrics } | null;
  stoppedEarly: boolean;
  /** True when the run reached `steps` or stopped early (false when cut by maxStepsThisRun). */
  finished: boolean;
  seconds: number;
  sequencesPerSecond: number;
  tokensPerSecond: number;
}

/**
 * Linear warm-up to the peak, then `rsqrt`: peak * sqrt(warmup / step) (TIGER: 0.01 for 10k steps), or `cosine`:
 * half a cosine from the peak to 0 at `steps` (a fixed budget ends annealed). `step` counts from 1.
 */
export function learningRate(step: number, c: Pick<TrainConfig, 'lr' | 'warmupSteps' | 'schedule' | 'steps'>): number {
  if (c.warmupSteps > 0 && step <= c.warmupSteps) return (c.lr * step) / c.warmupSteps;
  if (c.schedule === 'cosine') {
    const progress = Math.min(1, (step - c.warmupSteps) / Math.max(1, c.steps - c.warmupSteps));
    return c.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  return c.lr * Math.sqrt(Math.max(c.warmupSteps, 1) / step);
}

/** AdamW (Loshchilov & Hutter): Adam moments, weight decay applied to the weights directly (matrices only). */
export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  private readonly embeddings: ReadonlySet<string>;

  constructor(private readonly model: SequenceModel, private readonly c: TrainConfig) {
    this.embeddings = new Set(model.embeddingTables ?? []);
    for (const [name, w] of model.params.vars) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
    }
  }

  /** One update with gradients by weight name; `t` is the 1-based step. */
  apply(grads: Map<string, tf.Tensor>, lr: number, t: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.c;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    tf.tidy(() => {
      for (const [name, w] of this.model.params.vars) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)); // [...w]
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)); // [...w]
        m.assign(m1);
        v.assign(v1);
        const update = tf.div(tf.div(m1, bc1), tf.add(tf.sqrt(tf.div(v1, bc2)), epsilon)); // [...w]
        const decayed = w.rank >= 2 && weightDecay > 0 ? tf.mul(w, 1 - lr * weightDecay) : w; // [...w]
        w.assign(tf.sub(decayed, tf.mul(update, this.embeddings.has(name) ? lr * this.c.embeddingLr : lr)));
      }
    });
  }

  named(): [string, tf.Tensor][] {
    return [...[...this.m].map(([k, t]) => [`m:${k}`, t] as [string, tf.Tensor]), ...[...this.v].map(([k, t]) => [`v:${k}`, t] as [string, tf.Tensor])];
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** Everything a checkpoint holds besides tensors. */
export interface TrainState {
  step: number;
  position: DataPosition;
  best: { step: number; metrics: Metrics; value: number } | null;
  badEvals: number;
  stoppedEarly: boolean;
  lastLoss: number;
  config: TrainConfig;
  optimizer: WeightEntry[];
}

export const CHECKPOINT_DIR = 'checkpoints';
export const METRICS_FILE = 'metrics.jsonl';

/** Seed of the dropout draws of one step. */
function stepSeed(seed: number, step: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0;
}

/**
 * The dropout seeds of step t: seeded when something in the model draws from them (layer dropout, or preference
 * dropout of a model with text tokens, which must run even where layer dropout is 0), else null (no dropout).
 */
export function stepDropoutSeeds(m: ModelConfig, seed: number, step: number): DropoutSeeds {
  const draws = m.dropout > 0 || (m.textTokens > 0 && m.textDropout > 0);
  return new DropoutSeeds(draws ? stepSeed(seed, step) : null);
}

/**
 * Rows per forward pass within the backend's pass budget (BackendTraits.passBudgetBytes; wasm: its heap is at most
 * 4 GiB, and a step keeps every layer's activations until the backward pass (TIGER at batch 256 needs ~6 GiB)), so a
 * large batch is run in parts whose gradients are summed (weighted by their share of the targets: the same mean loss
 * and gradient as one pass). Estimated bytes per row: 4 bytes x layers x positions x (3 dFF + 12 heads*headDim + 16 dModel).
 */
export function rowsPerPass(model: SequenceModel, batch: TrainBatch): number {
  const budget = backendTraits().passBudgetBytes;
  if (budget === null) return batch.size;
  const c = model.config;
  const bytes = 4 * (c.encoderLayers + c.decoderLayers) * batch.positions * (3 * c.dFF + 12 * c.heads * c.headDim + 16 * c.dModel);
  return Math.max(1, Math.floor(budget / bytes));
}

/** Loss and gradients of one batch, clipped by global norm; returns loss and the pre-clip norm. */
export function lossAndGrads(model: SequenceModel, batch: TrainBatch, seeds: DropoutSeeds | null, clipNorm: number, trainOnly: TrainOnly = 'all'): Promise<{ loss: number; norm: number; grads: Map<string, tf.Tensor> }> {
  return lossAndGradsInParts(model, batch, seeds, clipNorm, Math.ceil(batch.size / rowsPerPass(model, batch)), trainOnly);
}

/** lossAndGrads with the batch run in `parts` forward/backward passes (see rowsPerPass). */
export async function lossAndGradsInParts(model: SequenceModel, batch: TrainBatch, seeds: DropoutSeeds | null, clipNorm: number, parts: number, trainOnly: TrainOnly = 'all'): Promise<{ loss: number; norm: number; grads: Map<string, tf.Tensor> }> {
  const names = new Map<string, string>();
  const vars: tf.Variable[] = [];
  for (const [name, v] of model.params.vars) {
    if (trainOnly === 'text' && !name.startsWith('text.')) continue; // frozen: no gradient, AdamW skips it
    names.set(v.name, name);
    vars.push(v);
  }
  let value: tf.Scalar;
  let grads: tf.NamedTensorMap;
  if (parts === 1) {
    ({ value, grads } = tf.variableGrads(() => batch.loss(seeds), vars));
  } else {
    // Equal parts; each part's mean loss weighted by its share of the targets.
    let loss: tf.Scalar | null = null;
    let sum: tf.NamedTensorMap = {};
    for (let i = 0; i < parts; i++) {
      const start = Math.floor((i * batch.size) / parts);
      const end = Math.floor(((i + 1) * batch.size) / parts);
      const rows = batch.rows(start, end);
      const weight = rows.targets / batch.targets;
      const part = tf.variableGrads(() => tf.mul(rows.loss(seeds?.fork(i) ?? null), weight) as tf.Scalar, vars);
      const next = tf.tidy(() => {
        const out: tf.NamedTensorMap = {};
        for (const [k, g] of Object.entries(part.grads)) out[k] = sum[k] ? tf.add(sum[k], g) : tf.clone(g);
        return out;
      });
      const nextLoss: tf.Scalar = loss ? (tf.add(loss, part.value) as tf.Scalar) : part.value;
      tf.dispose([...Object.values(sum), ...Object.values(part.grads)]);
      if (loss) tf.dispose([loss, part.value]);
      sum = next;
      loss = nextLoss;
    }
    value = loss!;
    grads = sum;
  }
  const list = Object.entries(grads);
  const norm = tf.tidy(() => tf.sqrt(tf.addN(list.map(([, g]) => tf.sum(tf.square(g)))))); // []
  const normValue = (await norm.data())[0]; // async: WebGPU in Node has no synchronous reads
  norm.dispose();
  const scale = clipNorm > 0 && normValue > clipNorm ? clipNorm / (normValue + 1e-6) : 1;
  const out = new Map<string, tf.Tensor>();
  for (const [vname, g] of list) {
    if (scale === 1) {
      out.set(names.get(vname)!, g);
    } else {
      out.set(names.get(vname)!, tf.mul(g, scale));
      g.dispose();
    }
  }
  const loss = (await value.data())[0];
  value.dispose();
  return { loss, norm: normValue, grads: out };
}

async function writeCheckpoint(dir: string, model: SequenceModel, opt: AdamW, state: Omit<TrainState, 'optimizer'>): Promise<void> {
  const { manifest, bytes } = await modelArtifacts(model);
  const optPack = await packTensors(opt.named());
  await writeDirAtomic(dir, async (tmp) => {
    await writeFileAtomic(join(tmp, WEIGHTS_FILE), bytes);
    await writeJsonAtomic(join(tmp, MODEL_FILE), manifest);
    await writeFileAtomic(join(tmp, 'optimizer.bin'), optPack.bytes);
    await writeJsonAtomic(join(tmp, 'state.json'), { ...state, optimizer: optPack.entries });
  });
}

/** Restores weights, moments and state from a checkpoint directory into `model` and `opt`. */
async function readCheckpoint(dir: string, model: SequenceModel, opt: AdamW): Promise<TrainState> {
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as TrainState;
  const manifest = JSON.parse(await readFile(join(dir, MODEL_FILE), 'utf8')) as { weights: WeightEntry[] };
  const weights = unpackTensors(manifest.weights, new Uint8Array(await readFile(join(dir, WEIGHTS_FILE))), `${dir}/${WEIGHTS_FILE}`);
  const moments = unpackTensors(state.optimizer, new Uint8Array(await readFile(join(dir, 'optimizer.bin'))), `${dir}/optimizer.bin`);
  const assign = (target: tf.Variable, saved: { shape: number[]; data: Float32Array } | undefined, what: string): void => {
    if (!saved) throw new Error(`checkpoint ${dir} has no ${what}: it was written by a different model config`);
    if (saved.shape.join(',') !== target.shape.join(',')) throw new Error(`checkpoint ${dir}: ${what} has shape [${saved.shape}], the model needs [${target.shape}]`);
    const t = tf.tensor(saved.data, saved.shape, 'float32');
    target.assign(t);
    t.dispose();
  };
  for (const [name, v] of model.params.vars) {
    assign(v, weights.get(name), `weight ${name}`);
    assign(opt.m.get(name)!, moments.get(`m:${name}`), `moment m:${name}`);
    assign(opt.v.get(name)!, moments.get(`v:${name}`), `moment v:${name}`);
  }
  return state;
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

/** Drops metrics lines past `step` (written after the checkpoint a resumed run starts from). */
async function truncateMetrics(path: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  const kept = text.split('\n').filter((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as { step?: number }).step! <= step;
    } catch {
      return false;
    }
  });
  await writeFileAtomic(path, kept.length ? `${kept.join('\n')}\n` : '');
}

/** Trains `model` in place. See TrainOptions. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { model, config: c, data, outDir } = opts;
  await mkdir(outDir, { recursive: true });
  const lastDir = join(outDir, CHECKPOINT_DIR, 'last');
  const bestDir = join(outDir, CHECKPOINT_DIR, 'best');
  const metricsPath = join(outDir, METRICS_FILE);
  const opt = new AdamW(model, c);
  const order = new DataOrder(data.size, c.seed, c.batchSize, data.lengths, c.lengthBuckets);
  let state: Omit<TrainState, 'optimizer'> = {
    step: 0, position: { epoch: 0, offset: 0 }, best: null, badEvals: 0, stoppedEarly: false, lastLoss: NaN, config: c,
  };
  if (opts.resume && (await exists(join(lastDir, 'state.json')))) {
    const restored = await readCheckpoint(lastDir, model, opt);
    state = { ...restored, config: c };
    await truncateMetrics(metricsPath, state.step);
  } else if (!opts.resume) {
    await writeFileAtomic(metricsPath, '');
  }
  const log = async (record: Record<string, unknown>): Promise<void> => {
    await appendFile(metricsPath, `${JSON.stringify({ ...record, time: new Date().toISOString() })}\n`);
  };
  // Marks where a resumed run picks up, so wall-time curves leave out the time it was stopped.
  if (state.step > 0) await log({ step: state.step, kind: 'resume' });
  const progress = new Progress({ label: 'train', total: c.steps, unit: 'step', silent: opts.silent, initial: state.step });
  progress.update(state.step);
  const t0 = performance.now();
  let sequences = 0;
  let tokens = 0;
  let stepsThisRun = 0;
  let windowLoss = 0;
  let windowSteps = 0;

  const validate = async (): Promise<void> => {
    if (!opts.validate) return;
    const metrics = await opts.validate(model, state.step);
    const value = metrics[c.monitor];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`validation returned no finite "${c.monitor}" (the monitored metric): got ${JSON.stringify(metrics)}`);
    }
    const improved = !state.best || value > state.best.value;
    if (improved) {
      state.best = { step: state.step, metrics, value };
      state.badEvals = 0;
      await saveModel(model, bestDir);
    } else {
      state.badEvals += 1;
    }
    await log({ step: state.step, kind: 'valid', ...metrics, best: improved });
    progress.log(`step ${state.step}: ${Object.entries(metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join('  ')}${improved ? '  (best)' : ''}`);
    if (c.patience > 0 && state.badEvals >= c.patience) state.stoppedEarly = true;
  };

  while (state.step < c.steps && !state.stoppedEarly) {
    if (opts.maxStepsThisRun !== undefined && stepsThisRun >= opts.maxStepsThisRun) break;
    if (opts.stop?.aborted) break;
    const { indices, after } = order.next(state.position);
    const batch = data.batch(indices);
    const t = state.step + 1;
    const lr = learningRate(t, c);
    const seeds = stepDropoutSeeds(model.config, c.seed, t);
    const { loss, norm, grads } = await lossAndGrads(model, batch, seeds, c.clipNorm, c.trainOnly);
    if (!Number.isFinite(loss)) {
      grads.forEach((g) => g.dispose());
      throw new Error(`loss is ${loss} at step ${t} (lr ${lr.toExponential(2)}): lower --lr or raise --warmup-steps; the last checkpoint is in ${lastDir}`);
    }
    opt.apply(grads, lr, t);
    grads.forEach((g) => g.dispose());
    state.step = t;
    state.position = after;
    state.lastLoss = loss;
    stepsThisRun += 1;
    sequences += batch.size;
    tokens += batch.tokens;
    windowLoss += loss;
    windowSteps += 1;
    opts.onStep?.(t, loss);
    const seconds = (performance.now() - t0) / 1000;
    progress.update(t, { loss: loss, 'tok/s': Math.round(tokens / seconds), lr: lr });
    if (t % 10 === 0 || t === c.steps) {
      await log({ step: t, kind: 'train', loss: windowLoss / windowSteps, lr, gradNorm: norm, seqPerSec: sequences / seconds, tokPerSec: tokens / seconds, epoch: state.position.epoch });
      windowLoss = 0;
      windowSteps = 0;
    }
    if (c.evalEvery > 0 && opts.validate && t % c.evalEvery === 0) await validate();
    if (t % c.checkpointEvery === 0 || t === c.steps || state.stoppedEarly) await writeCheckpoint(lastDir, model, opt, state);
  }
  const finished = state.step >= c.steps || state.stoppedEarly;
  if (finished) {
    if (opts.validate && (c.evalEvery === 0 || state.step % c.evalEvery !== 0) && !state.stoppedEarly) await validate();
    await writeCheckpoint(lastDir, model, opt, state);
    // The model handed on is the best validated one when there was validation, else the last.
    if (state.best) {
      const bestModel = await readFile(join(bestDir, WEIGHTS_FILE));
      await writeFileAtomic(join(outDir, WEIGHTS_FILE), bestModel);
      await writeFileAtomic(join(outDir, MODEL_FILE), await readFile(join(bestDir, MODEL_FILE)));
    } else {
      await saveModel(model, outDir);
    }
  } else if (stepsThisRun > 0 && state.step % c.checkpointEvery !== 0) {
    await writeCheckpoint(lastDir, model, opt, state);
  }
  opt.dispose();
  const seconds = (performance.now() - t0) / 1000;
  progress.finish({ loss: state.lastLoss });
  return {
    step: state.step,
    lastLoss: state.lastLoss,
    best: state.best ? { step: state.best.step, metrics: state.best.metrics } : null,
    stoppedEarly: state.stoppedEarly,
    finished,
    seconds,
    sequencesPerSecond: sequences / Math.max(seconds, 1e-9),
    tokensPerSecond: tokens / Math.max(seconds, 1e-9),
  };
}

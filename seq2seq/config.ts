// Model and training configuration: one ModelConfig and one TrainConfig, their defaults, the presets
// (a lookup table), and the resolvers that validate a user's partial config once, naming field and value.

import { modelArchitectures, modelFactory } from './registry.js';

/** A registered model architecture (registry.ts): `encdec`, `decoder`, `causal`, `sasrec`, or yours. */
export type Architecture = string;
/** How a history item enters the encoder: one token per code (TIGER), or one token per item (sum of its code embeddings). */
export type HistoryTokens = 'codes' | 'item';
/** Learning rate after warm-up: `rsqrt` peak * sqrt(warmup / step) (TIGER, no horizon); `cosine` half a cosine from the peak to 0 at `steps`. */
export type LrSchedule = 'rsqrt' | 'cosine';
/**
 * How a causal model predicts the next item's semantic ID at each position: `autoregressive` (TIGER's
 * factorisation: level l from the position's state and the codes of levels < l; trie beam search) or `parallel`
 * (SETRec/RPG: every level at once; the whole catalog ranked exactly by summing per-level log-probabilities).
 */
export type IdHead = 'autoregressive' | 'parallel';
/**
 * What the `parallel` head is trained on: `levels`, one softmax per level (SETRec/RPG); `catalog`, one softmax over
 * the catalog of the item scores it is ranked by (the sum of its codes' logits, plus the ID embedding's logit with
 * `idEmbedding`): the exact likelihood of the ranking, at the cost of one [targets, items] score matrix per batch.
 */
export type HeadLoss = 'levels' | 'catalog';

/** How a text enters the context (ModelConfig.textVariant). */
export const TEXT_VARIANTS = ['embedding', 'pieces'] as const;
export type TextVariant = (typeof TEXT_VARIANTS)[number];

export interface ModelConfig {
  /**
   * `encdec`: T5-style encoder-decoder (TIGER). `decoder`: one causal stack over history then target (RecGPT).
   * `causal`: a causal stack over items predicting the next item's ID at every position. `sasrec`: the SASRec
   * baseline (item-id embeddings, full softmax over items). See registry.ts.
   */
  arch: Architecture;
  encoderLayers: number;
  /** Layers of the decoder (of the single stack for `decoder`). */
  decoderLayers: number;
  dModel: number;
  heads: number;
  headDim: number;
  dFF: number;
  dropout: number;
  /** T5 relative position buckets and the distance where the log buckets saturate. */
  relBuckets: number;
  relMaxDistance: number;
  /** Users are hashed into this many tokens (TIGER: 2000); 0 = no user token. */
  userBuckets: number;
  /** Last items of the history kept. */
  maxHistory: number;
  historyTokens: HistoryTokens;
  /** `causal` only: the semantic-ID head (see IdHead). */
  head: IdHead;
  /** `causal` with the `parallel` head: its training objective (see HeadLoss). */
  headLoss: HeadLoss;
  /** `causal` only: add a learned per-item ID embedding to each item's input token (SETRec's collaborative token). */
  idEmbedding: boolean;
  /**
   * Text in the context (Mender's embedding variant, textContext.ts): a text's vector of `textDim` values (the data set's
   * text encoder, pipelines/text) is projected to this many context tokens; 0 = the model reads no text.
   */
  textTokens: number;
  /** Values of the text vector the projection reads (set by `train` from the text encoder; 0 without text). */
  textDim: number;
  /**
   * How a text becomes its context tokens (textContext.ts): `embedding` (Mender's embedding variant: the text's vector,
   * a learned projection to `textTokens` tokens) or `pieces` (its token variant: the text's SentencePiece ids, one
   * learned embedding per piece, one context token per piece; `textDim` = `textTokens` ids).
   */
  textVariant: TextVariant;
  /** `pieces`: rows of the piece embedding table (the SentencePiece vocabulary + 1 for padding, set by `train`). */
  textVocab: number;
  /** Training: chance that an example's preference text is left out in a step, so the model works with and without one. */
  textDropout: number;
  /** Seed of the initial weights. */
  seed: number;
}

export interface TrainConfig {
  batchSize: number;
  /** Total optimiser steps. */
  steps: number;
  /** Peak learning rate, reached after `warmupSteps`, then decayed by `schedule`. */
  lr: number;
  warmupSteps: number;
  schedule: LrSchedule;
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Gradients are rescaled so their global L2 norm is at most this (0 = off). */
  clipNorm: number;
  /** Seed of the data order and dropout. */
  seed: number;
  /** Validate every N steps (0 = never; also needs a validate callback). */
  evalEvery: number;
  /** Stop after this many validations without improvement of `monitor` (0 = never). */
  patience: number;
  /** Metric that early stopping and the best checkpoint watch (higher is better). */
  monitor: string;
  /** Write a resumable checkpoint every N steps. */
  checkpointEvery: number;
  /**
   * Rows of similar length share a batch: each epoch's shuffle is cut into runs of this many batches, each run
   * sorted by row length, and the batches shuffled again (0 = plain shuffle). Only training sets that give row
   * lengths (the causal model's windows) use it; one-target examples keep the plain shuffle.
   */
  lengthBuckets: number;
  /**
   * Learning-rate multiplier of the model's embedding tables (`SequenceModel.embeddingTables`). Adam's step is
   * scale-free, so a table initialised at std 1 moves sqrt(d) times slower, relative to its size, than SASRec's
   * (std d^-0.5, scaled by sqrt(d) at the input): a multiplier of sqrt(d) gives the reference's dynamics.
   */
  embeddingLr: number;
  /**
   * Which weights the optimiser moves: `all`, or `text` (only the text weights, `text.*`: a text part trained on a
   * frozen model, e.g. `--init PLAIN --text-tokens K`, so the model without a text computes exactly what PLAIN did).
   */
  trainOnly: TrainOnly;
}

export const TRAIN_ONLY = ['all', 'text'] as const;
export type TrainOnly = (typeof TRAIN_ONLY)[number];

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  arch: 'encdec',
  encoderLayers: 2,
  decoderLayers: 2,
  dModel: 64,
  heads: 4,
  headDim: 32,
  dFF: 256,
  dropout: 0.1,
  relBuckets: 32,
  relMaxDistance: 128,
  userBuckets: 2000,
  maxHistory: 20,
  historyTokens: 'codes',
  head: 'autoregressive',
  headLoss: 'levels',
  idEmbedding: false,
  textTokens: 0,
  textDim: 0,
  textVariant: 'embedding',
  textVocab: 0,
  textDropout: 0.5,
  seed: 0,
};

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  batchSize: 256,
  steps: 3000,
  lr: 0.003,
  warmupSteps: 300,
  schedule: 'rsqrt',
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  clipNorm: 1.0,
  seed: 0,
  evalEvery: 500,
  patience: 5,
  monitor: 'ndcg@10',
  checkpointEvery: 200,
  lengthBuckets: 64,
  embeddingLr: 1,
  trainOnly: 'all',
};

export interface Preset {
  model: Partial<ModelConfig>;
  train: Partial<TrainConfig>;
}

// Measured on the generated data (BENCHMARKS.md, "quality"): recall takes off after 4-5 epochs, so `tiny`
// runs ~6.6 epochs at batch 256; one encoder token per history item (`item`) learned better than one per
// code at equal steps, at a quarter of the encoder's work, so `tiny` and `small` use it (`--history-tokens
// codes` is TIGER's layout, kept by `tiger`). `tiny` and `small` have a fixed budget, so they anneal with a
// cosine: the demo's pipeline reached test Recall@10 .275 against .250 with 1/sqrt (`tiger` keeps TIGER's 1/sqrt).
export const PRESETS: Record<string, Preset> = {
  /** Unit tests and the demo: a few CPU minutes on the generated data (600 x 256 = 6.6 epochs of its 23k examples). */
  tiny: {
    model: { encoderLayers: 1, decoderLayers: 1, dModel: 32, heads: 2, headDim: 16, dFF: 64, dropout: 0, userBuckets: 100, historyTokens: 'item' },
    train: { batchSize: 256, steps: 600, lr: 0.01, warmupSteps: 40, schedule: 'cosine', evalEvery: 100, checkpointEvery: 100 },
  },
  /** A useful model on 2 CPU cores. */
  small: {
    model: { encoderLayers: 2, decoderLayers: 2, dModel: 64, heads: 4, headDim: 32, dFF: 256, dropout: 0.1, historyTokens: 'item' },
    train: { batchSize: 256, steps: 3000, lr: 0.01, warmupSteps: 200, schedule: 'cosine', evalEvery: 250, checkpointEvery: 250 },
  },
  /**
   * The causal model (learns from every position) at `small`'s width, 2 heads. Measured on Beauty with the reference IDs, one
   * core, validation Recall@10 on 2,000 users (popularity .0170), cosine over 2,000 steps:
   * - parallel head, catalog loss, ID embedding, batch 64 windows: .0355 at step 1,000 (5.1 min, 3.3 steps/s);
   * - autoregressive head, batch 128: .027 at step 1,000 (2.5 min), .0315 at step 2,000 (5.1 min, 6.6 steps/s);
   *   with dropout .5: .012 at step 1,000; the parallel head on per-level losses stayed at .0135-.0150 (1,500 steps);
   * so the preset is the catalog-trained parallel head (exact catalog ranking). Batch 64: on a quiet core the catalog
   * step trains as many windows a second at 64 as at 128 (198 vs 189), so 64 gives twice the updates per window.
   * dropout .2, lr .003 cosine as measured for the autoregressive head (BENCHMARKS.md, "Learning from every position").
   * embeddingLr 8 (= sqrt(d), SASRec's embedding dynamics): validation .088 at step 1,400 (8 min) against .043 with 1,
   * cosine over 5,600 steps, same seed (BENCHMARKS.md, "Equal wall time").
   */
  causal: {
    model: {
      arch: 'causal', encoderLayers: 0, decoderLayers: 2, dModel: 64, heads: 2, headDim: 32, dFF: 256, dropout: 0.2, userBuckets: 0, historyTokens: 'item',
      head: 'parallel', headLoss: 'catalog', idEmbedding: true,
    },
    train: { batchSize: 64, steps: 6000, lr: 0.003, warmupSteps: 100, schedule: 'cosine', evalEvery: 1000, checkpointEvery: 250, embeddingLr: 8 },
  },
  /**
   * The SASRec baseline on the causal preset's stack and schedule (full softmax over items). embeddingLr 8 (= sqrt(d)):
   * its item table is initialised at std 1, so with 1 it moved sqrt(d) times slower than the reference's std d^-0.5
   * table under Adam. Beauty, reference IDs, batch 128, cosine over 2,000 steps, validation R@10 on 2,000 users:
   * .081 at step 1,500 against .028 at step 2,000 with 1 (BENCHMARKS.md, "semid's SASRec against the reference").
   */
  sasrec: {
    model: { arch: 'sasrec', encoderLayers: 0, decoderLayers: 2, dModel: 64, heads: 2, headDim: 32, dFF: 256, dropout: 0.2, userBuckets: 0, historyTokens: 'item' },
    train: { batchSize: 128, steps: 3000, lr: 0.003, warmupSteps: 100, schedule: 'cosine', evalEvery: 500, checkpointEvery: 250, embeddingLr: 8 },
  },
  /** TIGER's sizes (Rajput et al. 2023): 4 + 4 layers, d_model 128, 6 heads of 64, ff 1024, lr 0.01 warm-up 10k. */
  tiger: {
    model: { encoderLayers: 4, decoderLayers: 4, dModel: 128, heads: 6, headDim: 64, dFF: 1024, dropout: 0.1 },
    train: { batchSize: 256, steps: 200000, lr: 0.01, warmupSteps: 10000, evalEvery: 5000, checkpointEvery: 1000 },
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function getPreset(name: string): Preset {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`unknown preset "${name}": expected one of ${presetNames().join(', ')}`);
  return preset;
}

function checkKeys(kind: string, partial: object, defaults: object): void {
  for (const key of Object.keys(partial)) {
    if (!(key in defaults)) throw new Error(`unknown ${kind} field "${key}": expected one of ${Object.keys(defaults).join(', ')}`);
  }
}

/** Above this `steps` is a typo, not a plan (1e12 steps would take ~19 million hours). */
export const MAX_STEPS = 1e9;

function atMostMaxSteps(steps: number): number {
  if (steps > MAX_STEPS) throw new Error(`\`steps\` must be at most ${MAX_STEPS.toExponential(0)}, got ${steps}`);
  return steps;
}

function int(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`\`${name}\` must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function num(name: string, value: unknown, min: number, max: number, maxInclusive = true): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && (maxInclusive ? value <= max : value < max);
  if (!ok) throw new Error(`\`${name}\` must be a number in [${min}, ${max}${maxInclusive ? ']' : ')'}, got ${JSON.stringify(value)}`);
  return value as number;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new Error(`\`${name}\` must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Defaults, then the preset (if named), then `overrides`; validated. */
export function resolveModelConfig(overrides: Partial<ModelConfig> = {}, preset?: string): ModelConfig {
  checkKeys('model config', overrides, DEFAULT_MODEL_CONFIG);
  const c = { ...DEFAULT_MODEL_CONFIG, ...(preset ? getPreset(preset).model : {}), ...stripUndefined(overrides) };
  const resolved: ModelConfig = {
    arch: oneOf('arch', c.arch, modelArchitectures()),
    encoderLayers: int('encoderLayers', c.encoderLayers, 0),
    decoderLayers: int('decoderLayers', c.decoderLayers, 1),
    dModel: int('dModel', c.dModel, 1),
    heads: int('heads', c.heads, 1),
    headDim: int('headDim', c.headDim, 1),
    dFF: int('dFF', c.dFF, 1),
    dropout: num('dropout', c.dropout, 0, 1, false),
    relBuckets: int('relBuckets', c.relBuckets, 2),
    relMaxDistance: int('relMaxDistance', c.relMaxDistance, 2),
    userBuckets: int('userBuckets', c.userBuckets, 0),
    maxHistory: int('maxHistory', c.maxHistory, 1),
    historyTokens: oneOf('historyTokens', c.historyTokens, ['codes', 'item'] as const),
    head: oneOf('head', c.head, ['autoregressive', 'parallel'] as const),
    headLoss: oneOf('headLoss', c.headLoss, ['levels', 'catalog'] as const),
    idEmbedding: bool('idEmbedding', c.idEmbedding),
    textTokens: int('textTokens', c.textTokens ?? 0, 0),
    textDim: int('textDim', c.textDim ?? 0, 0),
    textVariant: oneOf('textVariant', c.textVariant ?? DEFAULT_MODEL_CONFIG.textVariant, TEXT_VARIANTS),
    textVocab: int('textVocab', c.textVocab ?? 0, 0),
    textDropout: num('textDropout', c.textDropout ?? DEFAULT_MODEL_CONFIG.textDropout, 0, 1, false),
    seed: int('seed', c.seed, 0),
  };
  if (resolved.textTokens > 0) {
    if (resolved.textDim < 1) throw new Error(`\`textDim\` must be an integer >= 1 when textTokens is ${resolved.textTokens} (train sets it from the text encoder), got ${resolved.textDim}`);
    if (resolved.textVariant === 'pieces') {
      if (resolved.textDim !== resolved.textTokens) throw new Error(`\`textDim\` must equal textTokens (${resolved.textTokens}) with textVariant "pieces" (one piece id per text token), got ${resolved.textDim}`);
      if (resolved.textVocab < 2) throw new Error(`\`textVocab\` must be an integer >= 2 with textVariant "pieces" (train sets it from the SentencePiece model), got ${resolved.textVocab}`);
    }
    if (!modelFactory(resolved.arch).textContext) {
      const readers = modelArchitectures().filter((a) => modelFactory(a).textContext);
      throw new Error(`\`textTokens\` needs an architecture that reads text context (${readers.join(', ')}), got arch "${resolved.arch}"`);
    }
  }
  modelFactory(resolved.arch).check?.(resolved);
  return resolved;
}

function bool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`\`${name}\` must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

export function resolveTrainConfig(overrides: Partial<TrainConfig> = {}, preset?: string): TrainConfig {
  checkKeys('train config', overrides, DEFAULT_TRAIN_CONFIG);
  const c = { ...DEFAULT_TRAIN_CONFIG, ...(preset ? getPreset(preset).train : {}), ...stripUndefined(overrides) };
  if (typeof c.monitor !== 'string' || c.monitor.length === 0) throw new Error(`\`monitor\` must be a metric name, got ${JSON.stringify(c.monitor)}`);
  return {
    batchSize: int('batchSize', c.batchSize, 1),
    steps: atMostMaxSteps(int('steps', c.steps, 1)),
    lr: num('lr', c.lr, 0, 10),
    warmupSteps: int('warmupSteps', c.warmupSteps, 0),
    schedule: oneOf('schedule', c.schedule, ['rsqrt', 'cosine'] as const),
    weightDecay: num('weightDecay', c.weightDecay, 0, 1),
    beta1: num('beta1', c.beta1, 0, 1, false),
    beta2: num('beta2', c.beta2, 0, 1, false),
    epsilon: num('epsilon', c.epsilon, 0, 1),
    clipNorm: num('clipNorm', c.clipNorm, 0, Number.MAX_VALUE),
    seed: int('seed', c.seed, 0),
    evalEvery: int('evalEvery', c.evalEvery, 0),
    patience: int('patience', c.patience, 0),
    monitor: c.monitor,
    checkpointEvery: int('checkpointEvery', c.checkpointEvery, 1),
    lengthBuckets: int('lengthBuckets', c.lengthBuckets, 0),
    embeddingLr: num('embeddingLr', c.embeddingLr, 0, 1000),
    trainOnly: oneOf('trainOnly', c.trainOnly ?? DEFAULT_TRAIN_CONFIG.trainOnly, TRAIN_ONLY),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Splits a flat `{field: value}` map (CLI flags, a config file) into model and train overrides; unknown keys are an error. */
export function splitOverrides(flat: Record<string, unknown>): { model: Partial<ModelConfig>; train: Partial<TrainConfig> } {
  const model: Record<string, unknown> = {};
  const train: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (value === undefined) continue;
    if (key in DEFAULT_MODEL_CONFIG && key in DEFAULT_TRAIN_CONFIG) {
      // `seed` is both: it seeds the weights and the data order.
      model[key] = value;
      train[key] = value;
    } else if (key in DEFAULT_MODEL_CONFIG) model[key] = value;
    else if (key in DEFAULT_TRAIN_CONFIG) train[key] = value;
    else {
      throw new Error(`unknown config field "${key}": expected one of ${[...Object.keys(DEFAULT_MODEL_CONFIG), ...Object.keys(DEFAULT_TRAIN_CONFIG)].join(', ')}`);
    }
  }
  return { model: model as Partial<ModelConfig>, train: train as Partial<TrainConfig> };
}

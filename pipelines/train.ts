// `semid train`: data set + item codes -> leave-one-out examples -> a trained sequence model in MODELDIR
// (model.json + weights.bin, config.json, vocab.json, metrics.jsonl, checkpoints/). Validation is
// Recall@K / NDCG@K of beam search on a sample of validation users, through evaluateModel.
import { join } from 'node:path';
import { PrefixTrie } from '../decoding/index.js';
import {
  createModel, getPreset, initBackend, resolveModelConfig, resolveTrainConfig, splitOverrides, train, Vocab,
  type ModelConfig, type TrainConfig, type TrainingData, type TrainResult,
} from '../seq2seq/index.js';
import { readJsonIfPresent, writeJsonAtomic } from '../tokenizer/io/index.js';
import { leaveOneOut, trainingSequences } from './data/index.js';
import { itemFacets, TextEncoder, trainingTexts } from './text/index.js';
import { evaluateModel, evenSample, popularityRanks, rankerOf, trainingPopularity } from './evaluate/index.js';
import { metricsFromRanks } from './metrics.js';
import { readDataAndCodes } from './trainedModel.js';
import { checkProvenance, trainingProvenance } from './provenance.js';
import { etaCheck, guardTraining, type GuardedRun, type RunOutcome, type StopRequest } from './trainDir.js';

export interface TrainModelOptions {
  /** Data set directory. */
  data: string;
  /** Tokenizer directory (codes.parquet). */
  tokenizer: string;
  /** MODELDIR. */
  out: string;
  preset?: string;
  /** A registered architecture (seq2seq's modelArchitectures()). */
  arch?: string;
  /** Model fields over the preset. */
  model?: Partial<ModelConfig>;
  /** Trainer fields over the preset. */
  train?: Partial<TrainConfig>;
  /** Flat fields (CLI flags, --config file), split into model and trainer fields; win over `model`/`train`. */
  overrides?: Record<string, unknown>;
  resume?: boolean;
  /** With `resume`: go on although the data set or tokenizer differ from the run's (see provenance.ts). */
  allowMismatch?: boolean;
  /** Validation users sampled evenly from the validation split (0 = no validation). Default 500. */
  validUsers?: number;
  /** Beam size of validation search. Default 20. */
  beam?: number;
  /** Models with text tokens: DSI's indexing task (item texts -> item IDs) joins the training rows (for `semid search`). */
  indexItems?: boolean;
  /** Models with text tokens: the text encoder's dimensions per polarity half (pipelines/text; default 64). */
  textEncoderDim?: number;
  silent?: boolean;
}

export interface TrainModelResult extends TrainResult {
  out: string;
  model: ModelConfig;
  train: TrainConfig;
  /** Training rows (examples, or sequence windows for causal models). */
  examples: number;
  /** Supervised targets per epoch. */
  targets: number;
  parameters: number;
  /** Popularity's metrics on the same validation users, for comparison. */
  popularity?: Record<string, number>;
}

/** The model and trainer configs a run in MODELDIR was started with (its config.json), or null when it has none. */
async function savedRunConfig(out: string): Promise<{ model: ModelConfig; train: TrainConfig } | null> {
  const path = join(out, 'config.json');
  try {
    const saved = await readJsonIfPresent<{ model?: ModelConfig; train?: TrainConfig }>(path);
    if (saved === null) return null;
    if (!saved.model || !saved.train) throw new Error('no "model" and "train" sections');
    return { model: resolveModelConfig(saved.model), train: resolveTrainConfig(saved.train) };
  } catch (err) {
    throw new Error(`--resume: ${path} is not a semid training config (${(err as Error).message})`);
  }
}

/** `field old -> new` for each field whose value differs. */
function changedFields(before: object, after: object): string[] {
  const b = before as Record<string, unknown>;
  return Object.entries(after).filter(([k, v]) => JSON.stringify(b[k]) !== JSON.stringify(v)).map(([k, v]) => `${k} ${JSON.stringify(b[k])} -> ${JSON.stringify(v)}`);
}

/**
 * `semid train`: a training run with MODELDIR locked, staged when MODELDIR already holds a model, stopped cleanly
 * by Ctrl-C (trainDir.ts); a resumed run keeps its validation users and beam.
 */
export async function trainModel(opts: TrainModelOptions): Promise<TrainModelResult & RunOutcome> {
  const log = (m: string): void => {
    if (!opts.silent) process.stderr.write(`${m}\n`);
  };
  return guardTraining(opts.out, Boolean(opts.resume), log, async (run) => runTraining({ ...opts, ...(await keptValidation(opts, run, log)), out: run.work }, run.stop));
}

/** Validation settings a resumed run must keep (its "best" compares validations); an explicit other value is refused. */
async function keptValidation(opts: TrainModelOptions, run: GuardedRun, log: (m: string) => void): Promise<{ validUsers?: number; beam?: number }> {
  if (run.resumeStep === null) return {};
  const saved = (await readJsonIfPresent<{ validation?: { users: number; beam: number } }>(join(run.work, 'config.json')))?.validation;
  if (!saved) return {};
  for (const [flag, given, kept] of [['--valid-users', opts.validUsers, saved.users], ['--beam', opts.beam, saved.beam]] as const) {
    if (given !== undefined && given !== kept) {
      throw new Error(`--resume: ${opts.out} validates with ${flag} ${kept}; ${flag} ${given} would make "best" compare different validations: drop ${flag} or train into a new directory`);
    }
  }
  log(`train: resuming ${run.work} from step ${run.resumeStep}, validating on ${saved.users} users with beam ${saved.beam}`);
  return { validUsers: saved.users, beam: saved.beam };
}

async function runTraining(opts: TrainModelOptions, stop: StopRequest): Promise<TrainModelResult> {
  const log = (m: string): void => {
    if (!opts.silent) process.stderr.write(`${m}\n`);
  };
  const flat = splitOverrides(opts.overrides ?? {});
  const modelFields: Partial<ModelConfig> = { ...(opts.model ?? {}), ...(opts.arch ? { arch: opts.arch } : {}), ...flat.model };
  const trainFields = { ...(opts.train ?? {}), ...flat.train };
  // A resumed run continues with the config it was started with (not today's preset defaults); fields given
  // explicitly win, and are reported. The model's shape cannot change under its checkpoint.
  const saved = opts.resume ? await savedRunConfig(opts.out) : null;
  const { dataset, itemCodes } = await readDataAndCodes(opts.data, opts.tokenizer);
  // A model that reads text: the text encoder is fitted on the item texts (kept from the run when resuming), and
  // its size is the model's textDim.
  const textTokens = modelFields.textTokens ?? saved?.model.textTokens ?? (opts.preset ? getPreset(opts.preset).model.textTokens : undefined) ?? 0;
  let encoder: TextEncoder | null = null;
  if (textTokens > 0) {
    encoder = saved ? await TextEncoder.load(opts.out) : TextEncoder.fit(dataset.items.texts, { dim: opts.textEncoderDim });
    modelFields.textDim = encoder.textDim;
  } else if (opts.indexItems) {
    throw new Error('--index-items (DSI) trains item texts into the model: it needs --text-tokens >= 1');
  }
  const modelConfig = saved ? resolveModelConfig({ ...saved.model, ...modelFields }) : resolveModelConfig(modelFields, opts.preset);
  const trainConfig = saved ? resolveTrainConfig({ ...saved.train, ...trainFields }) : resolveTrainConfig(trainFields, opts.preset);
  if (saved) {
    const modelChanges = changedFields(saved.model, modelConfig);
    if (modelChanges.length > 0) throw new Error(`--resume: ${opts.out} was trained with another model config (${modelChanges.join(', ')}); drop those fields or train into a new directory`);
    const trainChanges = changedFields(saved.train, trainConfig);
    if (trainChanges.length > 0) log(`train: resuming with changed trainer fields: ${trainChanges.join(', ')}`);
  }

  const items = dataset.items.keys.length;
  const sequences = trainingSequences(dataset.sequences);
  const targets = sequences.reduce((n, s) => n + s.items.length - 1, 0);
  if (targets === 0) throw new Error(`${opts.data}: no training examples (every user has fewer than 4 interactions)`);
  let examples: ReturnType<typeof leaveOneOut> | null = null;
  const trainingData: TrainingData = {
    sequences, itemCodes,
    examples: () => (examples ??= leaveOneOut(dataset.sequences, 'train', { maxHistory: modelConfig.maxHistory })),
  };
  const textSeed = trainConfig.seed;
  if (encoder) {
    trainingData.text = trainingTexts(encoder, itemFacets(dataset), dataset.items.texts, trainingData.examples, sequences, { indexing: Boolean(opts.indexItems), seed: textSeed });
    if (opts.indexItems && modelConfig.arch !== 'encdec') throw new Error(`--index-items (DSI) trains the encoder-decoder's query path; arch "${modelConfig.arch}" has none: use --arch encdec`);
  }
  if (saved) await checkProvenance({ model: opts.out, data: opts.data, tokenizer: opts.tokenizer, itemKeys: dataset.items.keys, itemCodes, allowMismatch: opts.allowMismatch, command: 'train --resume' });

  await initBackend({ quiet: opts.silent });
  const vocab = new Vocab({ levels: itemCodes.levels, userBuckets: modelConfig.userBuckets, items });
  const model = createModel(modelConfig, vocab);
  const data = model.trainingSet(trainingData);
  const parameters = model.params.count();
  log(`train: ${data.size} training rows (${targets} targets), ${items} items, vocab ${vocab.size}, ${modelConfig.arch} ${parameters} parameters`);
  if (encoder) {
    if (!saved) await encoder.save(opts.out);
    log(`train: text context: ${modelConfig.textTokens} tokens from a ${encoder.textDim}-value text vector (${encoder.vocabulary.length} terms); ${trainingData.text?.indexing.length ?? 0} DSI indexing rows; preference dropout ${modelConfig.textDropout}`);
  }
  await writeJsonAtomic(join(opts.out, 'config.json'), {
    model: modelConfig, train: trainConfig, data: opts.data, tokenizer: opts.tokenizer, preset: opts.preset ?? null,
    ...(encoder ? { text: { indexItems: Boolean(opts.indexItems), encoder: encoder.config, fingerprint: encoder.fingerprint(), seed: textSeed } } : {}),
    validation: { users: opts.validUsers ?? 500, beam: opts.beam ?? 20 },
    provenance: trainingProvenance(dataset.items.keys, itemCodes, { model: modelConfig, train: trainConfig }),
  });
  await writeJsonAtomic(join(opts.out, 'vocab.json'), vocab.toJSON());

  const validUsers = opts.validUsers ?? 500;
  const beam = opts.beam ?? 20;
  let validate: ((m: typeof model) => Promise<Record<string, number>>) | undefined;
  let popularity: Record<string, number> | undefined;
  if (validUsers > 0 && trainConfig.evalEvery > 0) {
    const all = leaveOneOut(dataset.sequences, 'valid', { maxHistory: modelConfig.maxHistory });
    const valid = evenSample(all.length, validUsers).map((i) => all[i]);
    if (valid.length > 0) {
      const ks = [10, Math.min(20, beam)].filter((k, i, a) => k <= beam && a.indexOf(k) === i);
      const trie = PrefixTrie.build(itemCodes);
      popularity = metricsFromRanks(popularityRanks(trainingPopularity(dataset.sequences, items), valid, Math.max(...ks)), ks) as Record<string, number>;
      log(`train: validating on ${valid.length} users every ${trainConfig.evalEvery} steps; popularity recall@10 ${popularity['recall@10']?.toFixed(4)} ndcg@10 ${popularity['ndcg@10']?.toFixed(4)}`);
      validate = async (m) => {
        const scorer = rankerOf(m.scorer(itemCodes));
        return (await evaluateModel({ scorer, itemCodes, examples: valid, ks, beamSize: beam, trie, progress: false })) as Record<string, number>;
      };
    }
  }
  try {
    const result = await train({ model, config: trainConfig, data, outDir: opts.out, resume: opts.resume, validate, silent: opts.silent, stop, onStep: etaCheck(trainConfig.steps, stop) });
    return { ...result, out: opts.out, model: modelConfig, train: trainConfig, examples: data.size, targets, parameters, popularity };
  } finally {
    model.dispose();
  }
}

// `semid train`: data set + item codes -> leave-one-out examples -> a trained sequence model in MODELDIR
// (model.json + weights.bin, config.json, vocab.json, metrics.jsonl, checkpoints/). Validation is
// Recall@K / NDCG@K of beam search on a sample of validation users, through evaluateModel.
// On a multi-domain data set (`semid data merge`) the model gets one domain token per domain and validation ranks
// each user within its domain; `--domain NAME` trains on one domain's users only, and `--init MODELDIR` starts from
// a trained model's weights (GMC's per-domain fine-tuning of a unified model: all weights train, from a fresh
// optimiser and schedule), checkpointed and resumable as any run.
import { join } from 'node:path';
import { PrefixTrie } from '../decoding/index.js';
import {
  createModel, DEFAULT_MODEL_CONFIG, getPreset, initBackend, loadModel, resolveModelConfig, resolveTrainConfig, splitOverrides, train, Vocab,
  type ModelConfig, type SequenceModel, type TrainConfig, type TrainingData, type TrainResult,
} from '../seq2seq/index.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { readJsonIfPresent, writeJsonAtomic } from '../tokenizer/io/index.js';
import { domainId, domainIndex, leaveOneOut, trainExamples, trainingSequences, type Dataset, type DomainIndex, type Example } from './data/index.js';
import { itemFacets, loadTextEncoder, PieceTextEncoder, pieceTrainingTexts, TextEncoder, trainingTexts, type ModelTextEncoder } from './text/index.js';
import { domainPopularityRanks, evaluateModel, evenSample, rankerOf, trainingPopularity } from './evaluate/index.js';
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
  /** Models with text tokens, the embedding variant: the text encoder's dimensions per polarity half (pipelines/text; default 64). */
  textEncoderDim?: number;
  /** Models with text tokens, the token variant (textVariant "pieces"): the SentencePiece vocabulary asked of spm_train (default 2000). */
  textPieceVocab?: number;
  /** Multi-domain data: train (and validate) on this domain's users only. */
  domain?: string;
  /** MODELDIR of a trained model to start from (fine-tuning): its model config and weights, its trainer config under the given fields. */
  init?: string;
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

/** A model's domain tokens match the data set's domains (an --init model trained elsewhere may not). */
function checkDomainTokens(vocab: Vocab, domains: DomainIndex | null, init: string | null): void {
  const want = domains?.names.length ?? 0;
  if (vocab.domains !== want) {
    throw new Error(`${init ? `--init ${init}: the model` : 'the model'} has ${vocab.domains} domain tokens but the data set has ${want} domains: fine-tune on the data set it was trained on`);
  }
}

/** The model fields a text part sets (they may change when --init names a model without text). */
const TEXT_FIELDS = ['textTokens', 'textDim', 'textVariant', 'textVocab', 'textDropout'];

/** `model` with every weight of `from` copied in (same names and shapes; `model`'s other weights keep their init); disposes `from`. */
function withWeightsOf(model: SequenceModel, from: SequenceModel): SequenceModel {
  for (const [name, w] of from.params.vars) {
    const target = model.params.vars.get(name);
    if (!target || target.shape.join() !== w.shape.join()) throw new Error(`--init: weight ${name} ${JSON.stringify(w.shape)} has no counterpart of that shape in the model with text`);
    target.assign(w);
  }
  from.dispose();
  return model;
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

/** What a fine-tuning run (or a one-domain run) records in config.json, and a resumed run must keep. */
interface RunScope {
  domain: string | null;
  init: string | null;
}

/** A resumed run keeps its domain and init model; a different one given explicitly is refused. */
async function keptScope(opts: TrainModelOptions): Promise<RunScope> {
  const given: RunScope = { domain: opts.domain ?? null, init: opts.init ?? null };
  if (!opts.resume) return given;
  const saved = await readJsonIfPresent<Partial<RunScope>>(join(opts.out, 'config.json'));
  const kept: RunScope = { domain: saved?.domain ?? null, init: saved?.init ?? null };
  for (const [flag, key] of [['--domain', 'domain'], ['--init', 'init']] as const) {
    if (given[key] !== null && given[key] !== kept[key]) {
      throw new Error(`--resume: ${opts.out} was started with ${kept[key] === null ? `no ${flag}` : `${flag} ${kept[key]}`}; ${flag} ${given[key]} would train another run: drop ${flag} or train into a new directory`);
    }
  }
  return kept;
}

/** The model a fine-tuning run starts from: checked against the data set and tokenizer, its trainer config read. */
async function openInitModel(init: string, opts: TrainModelOptions, dataset: Dataset, itemCodes: SemanticIds): Promise<{ model: SequenceModel; train: TrainConfig }> {
  await checkProvenance({ model: init, data: opts.data, tokenizer: opts.tokenizer, itemKeys: dataset.items.keys, itemCodes, allowMismatch: opts.allowMismatch, command: 'train --init' });
  const saved = await savedRunConfig(init).catch((err: Error) => {
    throw new Error(`--init ${init}: ${err.message.replace(/^--resume: /, '')}`);
  });
  if (!saved) throw new Error(`--init ${init}: not a trained model directory (no config.json)`);
  const model = await loadModel(init);
  return { model, train: saved.train };
}

async function runTraining(opts: TrainModelOptions, stop: StopRequest): Promise<TrainModelResult> {
  const log = (m: string): void => {
    if (!opts.silent) process.stderr.write(`${m}\n`);
  };
  const flat = splitOverrides(opts.overrides ?? {});
  const modelFields: Partial<ModelConfig> = { ...(opts.model ?? {}), ...(opts.arch ? { arch: opts.arch } : {}), ...flat.model };
  const trainFields = { ...(opts.train ?? {}), ...flat.train };
  const scope = await keptScope(opts);
  const { dataset, itemCodes } = await readDataAndCodes(opts.data, opts.tokenizer);
  const domains = domainIndex(dataset);
  const domain = scope.domain === null ? null : domainId(domains, scope.domain);
  // With --init the model is the init model (its shape, its weights) and the trainer starts from the init run's.
  if (scope.init) await initBackend({ quiet: opts.silent }); // the init model's weights go to the training backend
  const init = scope.init ? await openInitModel(scope.init, opts, dataset, itemCodes) : null;
  // A resumed run continues with the config it was started with (not today's preset defaults); fields given
  // explicitly win, and are reported. The model's shape cannot change under its checkpoint.
  const saved = opts.resume ? await savedRunConfig(opts.out) : null;
  const base = saved ?? (init ? { model: init.model.config, train: init.train } : null);
  // A model that reads text: the text encoder is fitted on the item texts (kept from the run when resuming, from the
  // init model when fine-tuning), and its size is the model's textDim.
  const textTokens = modelFields.textTokens ?? base?.model.textTokens ?? (opts.preset ? getPreset(opts.preset).model.textTokens : undefined) ?? 0;
  const textVariant = modelFields.textVariant ?? base?.model.textVariant ?? (opts.preset ? getPreset(opts.preset).model.textVariant : undefined) ?? DEFAULT_MODEL_CONFIG.textVariant;
  let encoder: ModelTextEncoder | null = null;
  if (textTokens > 0) {
    encoder = saved ? await loadTextEncoder(opts.out) : init && init.model.config.textTokens > 0 ? await loadTextEncoder(scope.init!)
      : textVariant === 'pieces'
        ? await PieceTextEncoder.fit(pieceTrainingTexts(itemFacets(dataset), dataset.items.texts), { pieces: textTokens, vocabSize: opts.textPieceVocab, seed: modelFields.seed ?? 0 })
        : TextEncoder.fit(dataset.items.texts, { dim: opts.textEncoderDim });
    modelFields.textDim = encoder.textDim;
    if (encoder instanceof PieceTextEncoder) modelFields.textVocab = encoder.tableRows;
  } else if (opts.indexItems) {
    throw new Error('--index-items (DSI) trains item texts into the model: it needs --text-tokens >= 1');
  }
  const modelConfig = base ? resolveModelConfig({ ...base.model, ...modelFields }) : resolveModelConfig(modelFields, opts.preset);
  const trainConfig = base ? resolveTrainConfig({ ...base.train, ...trainFields }) : resolveTrainConfig(trainFields, opts.preset);
  // A model without text may get a text part (--init PLAIN --text-tokens K, usually with --train-only text): the text
  // fields are the only ones that may change under its weights; the text weights start fresh.
  const addsText = init !== null && init.model.config.textTokens === 0 && modelConfig.textTokens > 0;
  if (trainConfig.trainOnly === 'text' && modelConfig.textTokens === 0) throw new Error('--train-only text trains the text weights, but the model reads no text: give --text-tokens');
  if (init && !saved) {
    const changes = changedFields(init.model.config, modelConfig).filter((c) => !(addsText && TEXT_FIELDS.some((f) => c.startsWith(`${f} `))));
    if (changes.length > 0) {
      init.model.dispose();
      throw new Error(`--init ${scope.init}: the model's config cannot change under its weights (${changes.join(', ')}); drop those fields`);
    }
  }
  if (saved) {
    const modelChanges = changedFields(saved.model, modelConfig);
    if (modelChanges.length > 0) throw new Error(`--resume: ${opts.out} was trained with another model config (${modelChanges.join(', ')}); drop those fields or train into a new directory`);
    const trainChanges = changedFields(saved.train, trainConfig);
    if (trainChanges.length > 0) log(`train: resuming with changed trainer fields: ${trainChanges.join(', ')}`);
  }

  const items = dataset.items.keys.length;
  const inScope = (user: number): boolean => domain === null || domains!.userDomain[user] === domain;
  const withDomain = <T extends { user: number }>(x: T): T & { domain?: number } => (domains ? { ...x, domain: domains.userDomain[x.user] } : x);
  const sequences = trainingSequences(dataset.sequences).filter((s) => inScope(s.user)).map(withDomain);
  const targets = sequences.reduce((n, s) => n + s.items.length - 1, 0);
  if (targets === 0) {
    init?.model.dispose();
    throw new Error(`${opts.data}${domain === null ? '' : ` (domain ${scope.domain})`}: no training examples (every user has fewer than 4 interactions)`);
  }
  // The examples are computed on access (trainExamples: 12 bytes a user), never materialised: 25M interactions
  // would be ~25M example objects.
  let examples: readonly Example[] | null = null;
  const trainingData: TrainingData = {
    sequences, itemCodes,
    examples: () => (examples ??= trainExamples(dataset.sequences, { maxHistory: modelConfig.maxHistory, keepUser: domain === null ? undefined : inScope, decorate: domains ? withDomain : undefined })),
  };
  const textSeed = trainConfig.seed;
  if (encoder) {
    trainingData.text = trainingTexts(encoder, itemFacets(dataset), dataset.items.texts, trainingData.examples, sequences, { indexing: Boolean(opts.indexItems), seed: textSeed });
    if (opts.indexItems && modelConfig.arch !== 'encdec') throw new Error(`--index-items (DSI) trains the encoder-decoder's query path; arch "${modelConfig.arch}" has none: use --arch encdec`);
  }
  if (saved) await checkProvenance({ model: opts.out, data: opts.data, tokenizer: opts.tokenizer, itemKeys: dataset.items.keys, itemCodes, allowMismatch: opts.allowMismatch, command: 'train --resume' });

  await initBackend({ quiet: opts.silent });
  const vocab = init ? init.model.vocab : new Vocab({ levels: itemCodes.levels, userBuckets: modelConfig.userBuckets, items, domains: domains?.names.length ?? 0 });
  checkDomainTokens(vocab, domains, scope.init);
  if (domains && modelConfig.userBuckets > 0) log(`train: ${domains.names.length} domains: the context's user slot holds the domain token (the ${modelConfig.userBuckets} user buckets go unused)`);
  const model = init ? (addsText ? withWeightsOf(createModel(modelConfig, vocab), init.model) : init.model) : createModel(modelConfig, vocab);
  const data = model.trainingSet(trainingData);
  const parameters = model.params.count();
  log(`train: ${data.size} training rows (${targets} targets), ${items} items, vocab ${vocab.size}, ${modelConfig.arch} ${parameters} parameters`);
  if (encoder) {
    if (!saved) await encoder.save(opts.out);
    log(`train: text context (${modelConfig.textVariant} variant): ${modelConfig.textTokens} tokens from ${encoder.describe()}; ${trainingData.text?.indexing.length ?? 0} DSI indexing rows; preference dropout ${modelConfig.textDropout}`);
  }
  await writeJsonAtomic(join(opts.out, 'config.json'), {
    model: modelConfig, train: trainConfig, data: opts.data, tokenizer: opts.tokenizer, preset: init ? null : opts.preset ?? null, ...scope,
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
    const all = leaveOneOut(dataset.sequences, 'valid', { maxHistory: modelConfig.maxHistory }).filter((e) => inScope(e.user));
    const valid = evenSample(all.length, validUsers).map((i) => all[i]);
    if (valid.length > 0) {
      const ks = [10, Math.min(20, beam)].filter((k, i, a) => k <= beam && a.indexOf(k) === i);
      const trie = PrefixTrie.build(itemCodes);
      popularity = metricsFromRanks(domainPopularityRanks(trainingPopularity(dataset.sequences, items), valid, Math.max(...ks), { domains }), ks) as Record<string, number>;
      log(`train: validating on ${valid.length} users every ${trainConfig.evalEvery} steps; popularity recall@10 ${popularity['recall@10']?.toFixed(4)} ndcg@10 ${popularity['ndcg@10']?.toFixed(4)}`);
      validate = async (m) => {
        const scorer = rankerOf(m.scorer(itemCodes));
        return (await evaluateModel({ scorer, itemCodes, examples: valid, ks, beamSize: beam, trie, progress: false, domains })) as Record<string, number>;
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

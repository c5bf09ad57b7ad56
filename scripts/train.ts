// `semid train`: trains a sequence model on a data set's leave-one-out histories and a tokenizer's item codes.
import { readFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { trainModel } from '../pipelines/index.js';
import { modelArchitectures, presetNames } from '../seq2seq/index.js';

/** CLI flag (yargs camel-case) -> config field. */
const FIELDS: Record<string, string> = {
  steps: 'steps', batchSize: 'batchSize', lr: 'lr', warmupSteps: 'warmupSteps', schedule: 'schedule', weightDecay: 'weightDecay', clipNorm: 'clipNorm', embeddingLr: 'embeddingLr', beta2: 'beta2',
  evalEvery: 'evalEvery', patience: 'patience', checkpointEvery: 'checkpointEvery', seed: 'seed', dropout: 'dropout',
  dModel: 'dModel', heads: 'heads', headDim: 'headDim', dFf: 'dFF', encoderLayers: 'encoderLayers', decoderLayers: 'decoderLayers',
  maxHistory: 'maxHistory', userBuckets: 'userBuckets', historyTokens: 'historyTokens', monitor: 'monitor',
  head: 'head', headLoss: 'headLoss', idEmbedding: 'idEmbedding', textTokens: 'textTokens', textDropout: 'textDropout', textVariant: 'textVariant', trainOnly: 'trainOnly',
};

export const trainCommand: CommandModule = {
  command: 'train',
  describe: 'train the sequence model (encoder-decoder or decoder-only) and write MODELDIR',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory' })
    .option('tokenizer', { type: 'string', demandOption: true, describe: 'tokenizer directory TOKDIR (codes.parquet)' })
    .option('out', { type: 'string', demandOption: true, describe: 'model directory MODELDIR' })
    .option('preset', { type: 'string', default: 'small', choices: presetNames(), describe: 'model and trainer sizes' })
    .option('arch', { type: 'string', choices: modelArchitectures(), describe: 'a registered model: encdec (TIGER), decoder (RecGPT-style), causal (every position), sasrec (baseline)' })
    .option('head', { type: 'string', choices: ['autoregressive', 'parallel'], describe: 'causal: the ID head (parallel ranks the whole catalog exactly)' })
    .option('head-loss', { type: 'string', choices: ['levels', 'catalog'], describe: 'causal, parallel head: one softmax per level, or one over the catalog of the item scores it ranks by' })
    .option('id-embedding', { type: 'boolean', describe: 'causal: add a learned per-item ID embedding to each item token' })
    .option('resume', { type: 'boolean', default: false, describe: 'continue the unfinished run in MODELDIR.staging, else MODELDIR/checkpoints/last (an error when there is none)' })
    .option('allow-mismatch', { type: 'boolean', default: false, describe: 'with --resume: go on although the data set or tokenizer differ from the run\'s' })
    .option('config', { type: 'string', describe: 'JSON file of model/trainer fields (flags win)' })
    .option('steps', { type: 'number', describe: 'optimiser steps' })
    .option('batch-size', { type: 'number', describe: 'sequences per step' })
    .option('lr', { type: 'number', describe: 'peak learning rate' })
    .option('warmup-steps', { type: 'number', describe: 'linear warm-up steps, then --schedule' })
    .option('schedule', { type: 'string', choices: ['rsqrt', 'cosine'], describe: 'after warm-up: 1/sqrt(step) (TIGER), or a cosine to 0 at --steps' })
    .option('weight-decay', { type: 'number', describe: 'AdamW decoupled weight decay' })
    .option('embedding-lr', { type: 'number', describe: 'learning-rate multiplier of the embedding tables (sqrt(d_model) = SASRec\'s dynamics; default 1)' })
    .option('beta2', { type: 'number', describe: 'Adam second-moment decay (default .999; SASRec uses .98)' })
    .option('clip-norm', { type: 'number', describe: 'gradient clipping by global norm (0 = off)' })
    .option('eval-every', { type: 'number', describe: 'validate every N steps (0 = never)' })
    .option('patience', { type: 'number', describe: 'early stopping: validations without improvement (0 = never)' })
    .option('monitor', { type: 'string', describe: 'metric early stopping watches (default ndcg@10)' })
    .option('checkpoint-every', { type: 'number', describe: 'checkpoint every N steps' })
    .option('seed', { type: 'number', describe: 'seed of weights, data order and dropout' })
    .option('dropout', { type: 'number' })
    .option('d-model', { type: 'number' })
    .option('heads', { type: 'number' })
    .option('head-dim', { type: 'number' })
    .option('d-ff', { type: 'number' })
    .option('encoder-layers', { type: 'number' })
    .option('decoder-layers', { type: 'number' })
    .option('max-history', { type: 'number', describe: 'history items kept (default 20)' })
    .option('user-buckets', { type: 'number', describe: 'user hash buckets (default 2000; 0 = no user token)' })
    .option('history-tokens', { type: 'string', choices: ['codes', 'item'], describe: 'encoder input: one token per code, or one per item (sum of its code embeddings)' })
    .option('text-tokens', { type: 'number', describe: 'encdec/causal: read a text (preference, query) as this many context tokens, a learned projection of the text encoder\'s vector (0 = no text)' })
    .option('text-dropout', { type: 'number', describe: 'with --text-tokens: chance that a training example\'s preference is left out in a step (default .5)' })
    .option('text-variant', { type: 'string', choices: ['embedding', 'pieces'], describe: 'with --text-tokens: embedding = the text\'s TF-IDF + SVD vector projected to the tokens (Mender\'s embedding variant, the default); pieces = its first N SentencePiece pieces, one token each (the token variant; needs spm_train)' })
    .option('train-only', { type: 'string', choices: ['all', 'text'], describe: 'which weights training moves: all (default), or text (the text weights only: with --init PLAIN --text-tokens K, a text part on a frozen model whose answers without a text stay exactly PLAIN\'s)' })
    .option('text-vocab', { type: 'number', describe: 'with --text-variant pieces: SentencePiece vocabulary size asked of spm_train (default 2000)' })
    .option('text-dim', { type: 'number', describe: 'with --text-tokens: text encoder (TF-IDF + SVD of the item texts) dimensions per polarity half (default 64)' })
    .option('index-items', { type: 'boolean', describe: 'with --text-tokens, encdec: add DSI\'s indexing task (item text -> its ID) so the model answers `semid search`' })
    .option('valid-users', { type: 'number', describe: 'validation users (0 = no validation; default 500, a resumed run keeps its own)' })
    .option('beam', { type: 'number', describe: 'validation beam size (default 20, a resumed run keeps its own)' })
    .option('domain', { type: 'string', describe: 'multi-domain data set: train and validate on this domain\'s users only' })
    .option('init', { type: 'string', describe: 'fine-tune: start from this trained MODELDIR (its model config and weights; its trainer config under the given flags; all weights train)' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    let fromFile: Record<string, unknown> = {};
    if (typeof a.config === 'string') {
      try {
        fromFile = JSON.parse(await readFile(a.config, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`--config ${a.config}: ${(err as Error).message}`);
      }
    }
    const flags = Object.fromEntries(Object.entries(FIELDS).filter(([flag]) => a[flag] !== undefined).map(([flag, field]) => [field, a[flag]]));
    const result = await trainModel({
      data: a.data as string,
      tokenizer: a.tokenizer as string,
      out: a.out as string,
      preset: a.preset as string,
      arch: a.arch as string | undefined,
      resume: a.resume as boolean,
      allowMismatch: a.allowMismatch as boolean,
      overrides: { ...fromFile, ...flags },
      validUsers: a.validUsers as number,
      beam: a.beam as number,
      indexItems: a.indexItems as boolean | undefined,
      textEncoderDim: a.textDim as number | undefined,
      textPieceVocab: a.textVocab as number | undefined,
      domain: a.domain as string | undefined,
      init: a.init as string | undefined,
    });
    if (result.interrupted) {
      const again = process.argv.slice(2).filter((x) => x !== '--resume');
      process.stdout.write(`stopped at step ${result.step} of ${result.train.steps} (${result.stopReason}); checkpoint in ${result.checkpoint}\nresume with: semid ${[...again, '--resume'].join(' ')}\n`);
      process.exitCode = 130;
      return;
    }
    const best = result.best ? `best step ${result.best.step}: ${Object.entries(result.best.metrics).filter(([k]) => k.includes('@')).map(([k, v]) => `${k} ${v.toFixed(4)}`).join('  ')}` : 'no validation';
    const pop = result.popularity ? `; popularity recall@10 ${result.popularity['recall@10']?.toFixed(4)}` : '';
    process.stdout.write(`trained ${result.step} steps (${result.sequencesPerSecond.toFixed(1)} seq/s), loss ${result.lastLoss.toFixed(4)}; ${best}${pop}; model in ${result.out}\n`);
  },
};

// SentencePiece: train a model with Google's `spm_train` program (when installed), and split item text
// into a model's pieces with `sentencepiece-js` (SentencePiece compiled to wasm; it can encode but not train).
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createRequire } from 'node:module';
import { writeFileAtomic } from '../../tokenizer/io/index.js';
import { readDataset } from '../data/index.js';
import { normalizeText, type TermExtractor } from './textTerms.js';

export const SPM_INSTALL_HINT =
  'install SentencePiece\'s command-line tools: Debian/Ubuntu `sudo apt-get install sentencepiece`, '
  + 'macOS `brew install sentencepiece`, or build https://github.com/google/sentencepiece; '
  + 'then spm_train must be on PATH (or name it with SEMID_SPM_TRAIN=/path/to/spm_train)';

/** Where `spm_train` is (SEMID_SPM_TRAIN, else the first on PATH), or null when it is not installed. */
export async function findSpmTrain(): Promise<string | null> {
  const explicit = process.env.SEMID_SPM_TRAIN;
  const candidates = explicit ? [explicit] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'spm_train'));
  for (const path of candidates) {
    try {
      await access(path, constants.X_OK);
      if ((await stat(path)).isFile()) return path;
    } catch {
      // not here
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

const HAS_WORD_CHAR = /[\p{L}\p{N}]/u;

interface SpmProcessor {
  load(path: string): Promise<void>;
  encodePieces(text: string): string[];
}

/**
 * Loads a SentencePiece model and returns a term extractor giving `p:<piece>` per piece of the
 * normalised text. The file is checked first: sentencepiece-js ignores a failed load and crashes later.
 */
export async function sentencePieceTerms(modelPath: string): Promise<TermExtractor> {
  let bytes: Buffer;
  try {
    bytes = await readFile(modelPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`--spm-model ${modelPath}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  // A model is a protobuf whose first field (pieces, field 1, length-delimited) starts with tag 0x0a.
  if (bytes.length < 16 || bytes[0] !== 0x0a) {
    throw new Error(`--spm-model ${modelPath}: not a SentencePiece model file (train one with \`semid embed train-spm\`)`);
  }
  const require = createRequire(import.meta.url);
  const { SentencePieceProcessor } = require('sentencepiece-js') as { SentencePieceProcessor: new () => SpmProcessor };
  const processor = new SentencePieceProcessor();
  await processor.load(modelPath);
  let probe: string[];
  try {
    probe = processor.encodePieces('semid test');
  } catch (err) {
    throw new Error(`--spm-model ${modelPath}: SentencePiece could not use this model (${(err as Error).message ?? String(err)})`);
  }
  if (!Array.isArray(probe) || probe.length === 0) throw new Error(`--spm-model ${modelPath}: the model encodes text to no pieces`);
  return (text) => {
    const normalized = normalizeText(text).replace(/\s+/g, ' ').trim();
    if (!normalized) return [];
    // Pieces without a letter or digit (separators such as "▁" or "|") carry no meaning to weigh.
    return processor.encodePieces(normalized).filter((piece) => HAS_WORD_CHAR.test(piece)).map((piece) => `p:${piece}`);
  };
}

// ---------------------------------------------------------------------------------------------------
// Training

export interface TrainSentencePieceOptions {
  /** Item texts, one sentence per item (normalised here as for encoding). */
  texts: string[];
  /** Pieces in the model; a soft limit: small corpora get fewer (hard_vocab_limit=false). */
  vocabSize: number;
  /** Output model file; its vocabulary is written beside it with the extension `.vocab`. */
  out: string;
  /** unigram (default) or bpe. */
  modelType?: 'unigram' | 'bpe';
  seed?: number;
  /** Print nothing (spm_train's own log is captured either way, and shown on failure). */
  silent?: boolean;
  /** The command that needs spm_train, for the error when it is missing (default `semid embed train-spm`). */
  command?: string;
}

export interface TrainSentencePieceResult {
  model: string;
  vocab: string;
  /** Pieces in the trained model. */
  pieces: number;
  seconds: number;
  spmTrain: string;
}

function run(program: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** Trains a SentencePiece model on item texts with `spm_train`; a clear error says how to install it when absent. */
export async function trainSentencePieceModel(options: TrainSentencePieceOptions): Promise<TrainSentencePieceResult> {
  const { texts, vocabSize, out } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 8) throw new Error(`--vocab-size must be an integer >= 8, got ${vocabSize}`);
  const modelType = options.modelType ?? 'unigram';
  if (modelType !== 'unigram' && modelType !== 'bpe') throw new Error(`model type must be unigram or bpe, got ${String(modelType)}`);
  const spmTrain = await findSpmTrain();
  if (!spmTrain) throw new Error(`${options.command ?? 'semid embed train-spm'} needs the spm_train program, which is not installed: ${SPM_INSTALL_HINT}`);
  const lines = texts.map((t) => normalizeText(t).replace(/\s+/g, ' ').trim()).filter((t) => t.length > 0);
  if (lines.length === 0) throw new Error('no item has any text to train a SentencePiece model on');
  const start = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'semid-spm-'));
  try {
    const input = join(work, 'texts.txt');
    await writeFile(input, `${lines.join('\n')}\n`);
    const prefix = join(work, 'model');
    const args = [
      `--input=${input}`, `--model_prefix=${prefix}`, `--vocab_size=${vocabSize}`, `--model_type=${modelType}`,
      '--character_coverage=1.0', '--hard_vocab_limit=false', '--num_threads=1', `--random_seed=${(options.seed ?? 0) >>> 0}`,
      '--input_sentence_size=1000000', '--shuffle_input_sentence=true', '--minloglevel=1',
    ];
    try {
      await run(spmTrain, args);
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-5).join('\n');
      throw new Error(`spm_train (${spmTrain}) failed on ${lines.length} texts with --vocab_size=${vocabSize}:\n${stderr || (err as Error).message}`);
    }
    const model = await readFile(`${prefix}.model`);
    const vocab = await readFile(`${prefix}.vocab`, 'utf8');
    const vocabPath = out.replace(/\.model$/, '') + '.vocab';
    await writeFileAtomic(out, model);
    await writeFileAtomic(vocabPath, vocab);
    const pieces = vocab.split('\n').filter((l) => l.length > 0).length;
    return { model: out, vocab: vocabPath, pieces, seconds: (performance.now() - start) / 1000, spmTrain };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface TrainSentencePieceDataOptions extends Omit<TrainSentencePieceOptions, 'texts'> {
  /** Data set directory whose item texts train the model. */
  data: string;
}

/** `semid embed train-spm`: trains a SentencePiece model on a data set's item texts. */
export async function trainSentencePiece(options: TrainSentencePieceDataOptions): Promise<TrainSentencePieceResult> {
  const { data, ...rest } = options;
  const dataset = await readDataset(data);
  return trainSentencePieceModel({ ...rest, texts: dataset.items.texts });
}

// The token variant's text encoder (Mender's token variant; seq2seq/textContext.ts, textVariant "pieces"): a text is
// split by a SentencePiece model into pieces, and its first K pieces become K context tokens (a learned embedding per
// piece). The SentencePiece model is trained with `spm_train` (pipelines/embed/sentencePiece.ts: a clear error when
// it is not installed) on the catalog's item texts plus the preference templates rendered over the items' facets
// (so "no", "looking for", "I'm into" are pieces the model sees as in training), at a small vocabulary.
//
// A text's "vector" is K values: piece id + 1 per position, 0 where the text has no more pieces (those positions
// stay masked). Pieces that hold no letter or digit (a bare "▁") are left out: they would spend context positions on
// nothing. Pieces past K are cut (documented truncation, reported as `truncated`).
//
// Saved in MODELDIR/text/ (encoder.json: format, config, pieces; pieces.model: the SentencePiece model); the model
// records the encoder's fingerprint in its config (as the embedding variant's).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint, writeFileAtomic, writeJsonAtomic } from '../../tokenizer/io/index.js';
import { normalizeText, trainSentencePieceModel } from '../embed/index.js';
import { checkText } from './checkText.js';
import type { ItemFacets } from './facets.js';
import { historyPreference, negativePreference, steerPreference, STEER_VARIANTS } from './preferences.js';
import type { EncodedText } from './textEncoder.js';

export interface PieceEncoderConfig {
  /** SentencePiece vocabulary size asked of spm_train (a soft limit: small corpora get fewer). */
  vocabSize: number;
  /** Pieces per text (= the model's textTokens). */
  pieces: number;
  seed: number;
}

export const DEFAULT_PIECE_ENCODER: Omit<PieceEncoderConfig, 'pieces'> = { vocabSize: 2000, seed: 0 };

export const PIECES_FORMAT = 'semid-text-pieces';
const META_FILE = 'encoder.json';
const MODEL_FILE = 'pieces.model';
const HAS_WORD_CHAR = /[\p{L}\p{N}]/u;

interface SpmProcessor {
  load(path: string): Promise<void>;
  encodePieces(text: string): string[];
}

export function resolvePieceEncoderConfig(partial: Partial<PieceEncoderConfig>): PieceEncoderConfig {
  const c = { ...DEFAULT_PIECE_ENCODER, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as PieceEncoderConfig;
  if (!Number.isInteger(c.vocabSize) || c.vocabSize < 8) throw new Error(`\`textVocab\` (SentencePiece vocabulary) must be an integer >= 8, got ${JSON.stringify(c.vocabSize)}`);
  if (!Number.isInteger(c.pieces) || c.pieces < 1) throw new Error(`the token variant needs --text-tokens >= 1 (pieces per text), got ${JSON.stringify(c.pieces)}`);
  return c;
}

/** The texts the SentencePiece model is trained on: item texts, and per item its steer and negative preferences and a history preference with the next item. */
export function pieceTrainingTexts(facets: readonly ItemFacets[], itemTexts: readonly string[]): string[] {
  const out = [...itemTexts];
  let n = 0;
  const random = () => ((n = (Math.imul(n, 1103515245) + 12345) >>> 0) / 4294967296);
  facets.forEach((f, i) => {
    for (const variant of STEER_VARIANTS) {
      const s = steerPreference(f, variant, random);
      if (s) out.push(s);
    }
    if (f.brand) out.push(negativePreference({ brand: f.brand }));
    if (f.leaf) out.push(negativePreference({ category: f.leaf }));
    const h = historyPreference(facets, [i, (i + 1) % facets.length]);
    if (h) out.push(h);
  });
  return out;
}

async function loadProcessor(path: string, what: string): Promise<SpmProcessor> {
  const require = createRequire(import.meta.url);
  const { SentencePieceProcessor } = require('sentencepiece-js') as { SentencePieceProcessor: new () => SpmProcessor };
  const processor = new SentencePieceProcessor();
  await processor.load(path);
  try {
    if (processor.encodePieces('semid test').length === 0) throw new Error('it encodes text to no pieces');
  } catch (err) {
    throw new Error(`${what}: SentencePiece could not use this model (${(err as Error).message ?? String(err)})`);
  }
  return processor;
}

export class PieceTextEncoder {
  readonly kind = 'pieces' as const;
  readonly textDim: number;
  /** Rows of the model's piece table: the pieces + 1 (row 0 is "no piece"). */
  readonly tableRows: number;
  private readonly idOf: Map<string, number>;

  constructor(readonly config: PieceEncoderConfig, readonly vocabulary: readonly string[], private readonly modelBytes: Uint8Array, private readonly processor: SpmProcessor) {
    this.textDim = config.pieces;
    this.tableRows = vocabulary.length + 1;
    this.idOf = new Map(vocabulary.map((p, i) => [p, i]));
  }

  /** Trains the SentencePiece model (spm_train) on `texts` and loads it. */
  static async fit(texts: readonly string[], partial: Partial<PieceEncoderConfig>): Promise<PieceTextEncoder> {
    const config = resolvePieceEncoderConfig(partial);
    const work = await mkdtemp(join(tmpdir(), 'semid-pieces-'));
    try {
      const path = join(work, MODEL_FILE);
      await trainSentencePieceModel({ texts: [...texts], vocabSize: config.vocabSize, out: path, seed: config.seed, silent: true, command: 'the token variant (--text-variant pieces)' });
      const vocab = (await readFile(path.replace(/\.model$/, '.vocab'), 'utf8')).split('\n').filter((l) => l.length > 0).map((l) => l.split('\t')[0]);
      const bytes = new Uint8Array(await readFile(path));
      return new PieceTextEncoder(config, vocab, bytes, await loadProcessor(path, 'the trained SentencePiece model'));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** The pieces of a text that carry a letter or digit (see the file's head). */
  pieces(text: string): string[] {
    const normalized = normalizeText(text).replace(/\s+/g, ' ').trim();
    return normalized ? this.processor.encodePieces(normalized).filter((p) => HAS_WORD_CHAR.test(p)) : [];
  }

  /** A text's K values: piece id + 1 per position, 0 past its pieces. `what` names the input in errors. */
  encode(text: string, what = 'text'): EncodedText {
    checkText(text, what);
    const pieces = this.pieces(text);
    const vector = new Float32Array(this.textDim);
    let known = 0;
    const kept = Math.min(pieces.length, this.textDim);
    for (let k = 0; k < kept; k++) {
      const id = this.idOf.get(pieces[k]);
      // A piece outside the vocabulary list (cannot happen with the model's own pieces) is SentencePiece's <unk>, id 0.
      vector[k] = (id ?? 0) + 1;
      if (id !== undefined && id > 0) known++;
    }
    return { vector, knownTerms: known, truncated: pieces.length > this.textDim };
  }

  /** encode(), refusing a text in which the SentencePiece model knows no piece. */
  encodeKnown(text: string, what = 'text'): EncodedText {
    const e = this.encode(text, what);
    if (e.knownTerms === 0) throw new Error(`${what} ${JSON.stringify(text.slice(0, 80))} has no piece the model's SentencePiece model knows (it was trained on the catalog's item texts): use words of item titles, brands or categories`);
    return e;
  }

  describe(): string {
    return `${this.textDim} SentencePiece pieces per text (${this.vocabulary.length}-piece model)`;
  }

  fingerprint(): string {
    return fingerprint(this.modelBytes, JSON.stringify({ pieces: this.config.pieces }));
  }

  async save(modelDir: string): Promise<void> {
    const dir = join(modelDir, 'text');
    await writeFileAtomic(join(dir, MODEL_FILE), this.modelBytes);
    await writeJsonAtomic(join(dir, META_FILE), { format: PIECES_FORMAT, version: 1, config: this.config, textDim: this.textDim, fingerprint: this.fingerprint(), vocabulary: this.vocabulary });
  }

  /** Loads the encoder from MODELDIR/text (its encoder.json already read as `meta`). */
  static async load(modelDir: string, meta: { config: PieceEncoderConfig; vocabulary: string[]; fingerprint?: string }): Promise<PieceTextEncoder> {
    const path = join(modelDir, 'text', MODEL_FILE);
    const bytes = new Uint8Array(await readFile(path).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`${path}: ${err.code === 'ENOENT' ? 'missing (the text encoder is damaged; retrain)' : err.message}`);
    }));
    const encoder = new PieceTextEncoder(resolvePieceEncoderConfig(meta.config), meta.vocabulary, bytes, await loadProcessor(path, path));
    if (meta.fingerprint && encoder.fingerprint() !== meta.fingerprint) throw new Error(`${path} does not match ${join(modelDir, 'text', META_FILE)} (fingerprint): the text encoder is damaged; retrain`);
    return encoder;
  }
}

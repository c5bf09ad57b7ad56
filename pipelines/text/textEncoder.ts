// The text encoder of a model that reads text (seq2seq/textContext.ts): the data set's built-in embedder (TF-IDF +
// truncated SVD, pipelines/embed) fitted on the catalog's item texts, kept so that ANY text (a preference, a search
// query) maps into the same space by folding in: for the TF-IDF row x of a new text, x·V with V = Aᵀ U Σ⁻¹ (the
// items' own rows A V = U Σ are their LSA embeddings), L2-normalised.
//
// Polarity: a bag of words cannot tell "OPI" from "no OPI". The encoder splits a text into clauses (at , ; . ! ? and
// "but"); in a clause, the words after a negation cue (no, not, without, avoid, never, don't, hate, dislike, less) are
// negative, the others positive. The vector is [positive part, negative part], each folded in and normalised on its
// own (zeros when empty): textDim = 2 x dim. The model's projection can then learn opposite uses of the two halves.
//
// Saved in MODELDIR/text/ (encoder.json: config, vocabulary, idf; encoder.bin: V as float32), read back by eval,
// recommend and search; the model records the encoder's fingerprint in its config (textEncoder).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fingerprint, writeFileAtomic, writeJsonAtomic } from '../../tokenizer/io/index.js';
import { csrTransposeTimesDense, ngramTerms, normalizeText, randomizedSvd, resolveNgramTokenizer, splitWords, tfidfMatrix, type TermExtractor } from '../embed/index.js';
import { checkText, MAX_TEXT_WORDS } from './checkText.js';

export interface TextEncoderConfig {
  /** Dimensions per polarity half (the vector has 2 x dim values). */
  dim: number;
  wordNgrams: [number, number];
  /** Character n-grams within words (typos in queries still match), or null. */
  charNgrams: [number, number] | null;
  minDf: number;
  maxFeatures: number;
  seed: number;
}

export const DEFAULT_TEXT_ENCODER: TextEncoderConfig = { dim: 64, wordNgrams: [1, 1], charNgrams: [3, 5], minDf: 2, maxFeatures: 40_000, seed: 0 };

export const TEXT_ENCODER_DIR = 'text';
const META_FILE = 'encoder.json';
const WEIGHTS_FILE = 'encoder.bin';
const FORMAT = 'semid-text-encoder';

/** Words that make the rest of their clause negative. */
export const NEGATION_CUES: ReadonlySet<string> = new Set(['no', 'not', 'without', 'avoid', 'never', 'dont', 'don', 'hate', 'dislike', 'less', 'nothing', 'exclude', 'except']);
const CLAUSE_BREAK = /[,;.!?]|\bbut\b/u;

export function resolveTextEncoderConfig(partial: Partial<TextEncoderConfig> = {}): TextEncoderConfig {
  const c = { ...DEFAULT_TEXT_ENCODER, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as TextEncoderConfig;
  if (!Number.isInteger(c.dim) || c.dim < 1) throw new Error(`\`textEncoder.dim\` must be an integer >= 1, got ${JSON.stringify(c.dim)}`);
  if (!Number.isInteger(c.minDf) || c.minDf < 1) throw new Error(`\`textEncoder.minDf\` must be an integer >= 1, got ${JSON.stringify(c.minDf)}`);
  if (!Number.isInteger(c.maxFeatures) || c.maxFeatures < 1) throw new Error(`\`textEncoder.maxFeatures\` must be an integer >= 1, got ${JSON.stringify(c.maxFeatures)}`);
  resolveNgramTokenizer({ wordNgrams: c.wordNgrams, charNgrams: c.charNgrams });
  return c;
}

/** The positive and negative words of a text (see the polarity rule above), the first MAX_TEXT_WORDS words only. */
export function polarityWords(text: string): { positive: string[]; negative: string[]; truncated: boolean } {
  const positive: string[] = [];
  const negative: string[] = [];
  let seen = 0;
  for (const clause of normalizeText(text).replace(/[’']/g, '').split(CLAUSE_BREAK)) {
    let negated = false;
    for (const word of splitWords(clause)) {
      if (seen >= MAX_TEXT_WORDS) return { positive, negative, truncated: true };
      seen++;
      if (NEGATION_CUES.has(word)) {
        negated = true;
        continue;
      }
      (negated ? negative : positive).push(word);
    }
  }
  return { positive, negative, truncated: false };
}

/** What encoding a text found: its vector, the terms the encoder knows, and whether words were cut. */
export interface EncodedText {
  vector: Float32Array;
  knownTerms: number;
  truncated: boolean;
}

export class TextEncoder {
  readonly kind = 'embedding' as const;
  readonly textDim: number;
  private readonly column: Map<string, number>;
  private readonly extract: TermExtractor;
  private readonly familyOf: Uint8Array;
  private readonly families: string[];

  constructor(
    readonly config: TextEncoderConfig,
    readonly vocabulary: readonly string[],
    readonly idf: Float64Array,
    /** V [vocabulary, dim] (row-major). */
    readonly v: Float32Array,
    readonly dim: number,
  ) {
    if (v.length !== vocabulary.length * dim) throw new Error(`text encoder: V has ${v.length} values, expected ${vocabulary.length} x ${dim}`);
    this.textDim = 2 * dim;
    this.column = new Map(vocabulary.map((t, i) => [t, i]));
    this.extract = ngramTerms({ wordNgrams: config.wordNgrams, charNgrams: config.charNgrams });
    this.families = [...new Set(vocabulary.map((t) => t[0]))].sort();
    this.familyOf = Uint8Array.from(vocabulary, (t) => this.families.indexOf(t[0]));
  }

  /** Fits the encoder on texts (the catalog's item texts). */
  static fit(texts: readonly string[], partial: Partial<TextEncoderConfig> = {}): TextEncoder {
    const config = resolveTextEncoderConfig(partial);
    if (texts.length === 0) throw new Error('text encoder: no texts to fit on');
    const extract = ngramTerms({ wordNgrams: config.wordNgrams, charNgrams: config.charNgrams });
    const tfidf = tfidfMatrix(texts.map((t) => extract(t)), { minDf: config.minDf, maxFeatures: config.maxFeatures });
    const a = tfidf.matrix;
    if (a.cols === 0) throw new Error(`text encoder: no term appears in at least minDf=${config.minDf} item texts; nothing to fit`);
    const svd = randomizedSvd(a, { rank: config.dim, seed: config.seed });
    const rank = svd.rank;
    const at = csrTransposeTimesDense(a, svd.u, rank); // [cols, rank] = Aᵀ U
    const v = new Float32Array(a.cols * rank);
    for (let t = 0; t < a.cols; t++) for (let k = 0; k < rank; k++) v[t * rank + k] = at[t * rank + k] / svd.singularValues[k];
    return new TextEncoder({ ...config, dim: rank }, tfidf.vocabulary, tfidf.idf, v, rank);
  }

  /** The TF-IDF row of some words, as tfidf.ts weighs an item (sublinear tf x idf, per-family normalisation), folded in. */
  private fold(words: readonly string[], out: Float32Array, offset: number): number {
    if (words.length === 0) return 0;
    const counts = new Map<number, number>();
    for (const term of this.extract(words.join(' '))) {
      const col = this.column.get(term);
      if (col !== undefined) counts.set(col, (counts.get(col) ?? 0) + 1);
    }
    if (counts.size === 0) return 0;
    const familySq = new Float64Array(this.families.length);
    const weights = new Map<number, number>();
    for (const [col, n] of counts) {
      const w = (1 + Math.log(n)) * this.idf[col];
      weights.set(col, w);
      familySq[this.familyOf[col]] += w * w;
    }
    let present = 0;
    for (const sq of familySq) if (sq > 0) present++;
    const e = new Float64Array(this.dim);
    for (const [col, w] of weights) {
      const x = (w / Math.sqrt(familySq[this.familyOf[col]])) / Math.sqrt(present);
      for (let k = 0; k < this.dim; k++) e[k] += x * this.v[col * this.dim + k];
    }
    let sq = 0;
    for (const x of e) sq += x * x;
    const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let k = 0; k < this.dim; k++) out[offset + k] = e[k] * inv;
    return counts.size;
  }

  /** A text's vector [2 x dim]: positive half, negative half. `what` names the input in errors. */
  encode(text: string, what = 'text'): EncodedText {
    checkText(text, what);
    const { positive, negative, truncated } = polarityWords(text);
    const vector = new Float32Array(this.textDim);
    const knownTerms = this.fold(positive, vector, 0) + this.fold(negative, vector, this.dim);
    return { vector, knownTerms, truncated };
  }

  /** encode(), refusing a text in which the encoder knows no term (its vector would carry nothing). */
  encodeKnown(text: string, what = 'text'): EncodedText {
    const e = this.encode(text, what);
    if (e.knownTerms === 0) {
      throw new Error(`${what} ${JSON.stringify(text.slice(0, 80))} has no word the model's text encoder knows (it was fitted on the catalog's item texts): use words of item titles, brands or categories`);
    }
    return e;
  }

  describe(): string {
    return `a ${this.textDim}-value text vector (${this.vocabulary.length} terms)`;
  }

  /** A fingerprint of the encoder (recorded in the model's config; checked when the encoder is loaded). */
  fingerprint(): string {
    return fingerprint(new Uint8Array(this.v.buffer, this.v.byteOffset, this.v.byteLength), JSON.stringify(this.vocabulary));
  }

  async save(modelDir: string): Promise<void> {
    const dir = join(modelDir, TEXT_ENCODER_DIR);
    await writeFileAtomic(join(dir, WEIGHTS_FILE), new Uint8Array(this.v.buffer.slice(this.v.byteOffset, this.v.byteOffset + this.v.byteLength)));
    await writeJsonAtomic(join(dir, META_FILE), {
      format: FORMAT, version: 1, config: this.config, dim: this.dim, textDim: this.textDim, fingerprint: this.fingerprint(),
      vocabulary: this.vocabulary, idf: Array.from(this.idf),
    });
  }

  static async load(modelDir: string): Promise<TextEncoder> {
    const dir = join(modelDir, TEXT_ENCODER_DIR);
    const metaPath = join(dir, META_FILE);
    let meta: { format?: string; config: TextEncoderConfig; dim: number; vocabulary: string[]; idf: number[]; fingerprint?: string };
    try {
      meta = JSON.parse(await readFile(metaPath, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${modelDir} has no text encoder (${metaPath}): the model was trained without text (train with --text-tokens to use preferences or search)`);
      throw new Error(`${metaPath}: ${(err as Error).message}`);
    }
    if (meta.format !== FORMAT) throw new Error(`${metaPath} is not a semid text encoder (format ${JSON.stringify(meta.format)})`);
    const bytes = await readFile(join(dir, WEIGHTS_FILE));
    const v = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const encoder = new TextEncoder(resolveTextEncoderConfig(meta.config), meta.vocabulary, Float64Array.from(meta.idf), v, meta.dim);
    if (meta.fingerprint && encoder.fingerprint() !== meta.fingerprint) throw new Error(`${join(dir, WEIGHTS_FILE)} does not match ${metaPath} (fingerprint): the text encoder is damaged; retrain`);
    return encoder;
  }
}

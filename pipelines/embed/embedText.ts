// The built-in offline text embedder, `tfidf-svd` (latent semantic analysis): item text -> terms
// (word + character n-grams, or SentencePiece pieces) -> sublinear TF-IDF (sparse) -> truncated
// randomized SVD -> rows of U·diag(σ), L2-normalised. No model download; deterministic for a seed.
import type { EmbeddingMatrix } from '../../tokenizer/index.js';
import { Progress, writeJsonAtomic } from '../../tokenizer/io/index.js';
import { embeddingsPath, readDataset, writeEmbeddings } from '../data/index.js';
import { randomizedSvd } from './randomizedSvd.js';
import { computeEmbeddingReport, embeddingReportPath, type EmbeddingReport } from './report.js';
import { sentencePieceTerms } from './sentencePiece.js';
import { ngramTerms, resolveNgramTokenizer, type TermExtractor } from './textTerms.js';
import { resolveTfidf, tfidfMatrix } from './tfidf.js';

export const EMBED_METHODS = ['tfidf-svd'] as const;
export type EmbedMethod = (typeof EMBED_METHODS)[number];

export interface EmbedTextConfig {
  method: EmbedMethod;
  /** Output dimension (clamped to the TF-IDF matrix's rank when that is smaller; the report says so). */
  dim: number;
  seed: number;
  /** Built-in tokenizer: word n-gram range. */
  wordNgrams: [number, number];
  /** Built-in tokenizer: character n-gram range within word boundaries, or null for words only. */
  charNgrams: [number, number] | null;
  minDf: number;
  maxDfRatio: number;
  maxFeatures: number;
  /** Share of each row's TF-IDF norm per term family: w words, c character n-grams, p SentencePiece pieces. */
  familyWeights: Record<string, number>;
  /** Randomized SVD: extra sketch columns, and power iterations. */
  oversample: number;
  powerIterations: number;
}

export const DEFAULT_EMBED_TEXT: EmbedTextConfig = {
  method: 'tfidf-svd',
  dim: 256,
  seed: 0,
  wordNgrams: [1, 2],
  charNgrams: [3, 5],
  minDf: 2,
  maxDfRatio: 1,
  maxFeatures: 262_144,
  familyWeights: { w: 1, c: 1, p: 1 },
  oversample: 10,
  powerIterations: 2,
};

/** Fills defaults and validates, naming the field and the value. */
export function resolveEmbedTextConfig(partial: Partial<EmbedTextConfig> = {}): EmbedTextConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<EmbedTextConfig>;
  const config: EmbedTextConfig = { ...DEFAULT_EMBED_TEXT, ...defined, familyWeights: { ...DEFAULT_EMBED_TEXT.familyWeights, ...defined.familyWeights } };
  if (!(EMBED_METHODS as readonly string[]).includes(config.method)) {
    throw new Error(`\`method\` must be one of ${EMBED_METHODS.join(', ')}, got "${config.method}"`);
  }
  if (!Number.isInteger(config.dim) || config.dim < 1) throw new Error(`\`dim\` must be an integer >= 1, got ${config.dim}`);
  if (!Number.isInteger(config.seed)) throw new Error(`\`seed\` must be an integer, got ${config.seed}`);
  if (!Number.isInteger(config.oversample) || config.oversample < 0) throw new Error(`\`oversample\` must be an integer >= 0, got ${config.oversample}`);
  if (!Number.isInteger(config.powerIterations) || config.powerIterations < 0) {
    throw new Error(`\`powerIterations\` must be an integer >= 0, got ${config.powerIterations}`);
  }
  resolveNgramTokenizer({ wordNgrams: config.wordNgrams, charNgrams: config.charNgrams });
  resolveTfidf(config);
  return config;
}

export interface TextEmbeddingInfo {
  method: EmbedMethod;
  tokenizer: string;
  requestedDim: number;
  dim: number;
  /** Why `dim` is below `requestedDim`, when it is. */
  dimClamped: string | null;
  /** Terms kept / seen, and non-zeros of the TF-IDF matrix. */
  vocabulary: number;
  termsSeen: number;
  nonZeros: number;
  /** Share of the TF-IDF matrix's squared norm the kept dimensions capture. */
  explainedVariance: number;
  /** Items whose text has no kept term: their embedding is the zero vector. */
  emptyItems: number;
  singularValues: number[];
  seed: number;
  seconds: number;
}

export interface TextEmbedding {
  matrix: EmbeddingMatrix;
  info: TextEmbeddingInfo;
}

/** Embeds texts in memory (no files). `terms` defaults to the built-in n-gram tokenizer of `config`. */
export function embedTexts(
  texts: readonly string[], partial: Partial<EmbedTextConfig> = {}, terms?: TermExtractor,
  options: { tokenizer?: string; progress?: Progress } = {},
): TextEmbedding {
  const start = performance.now();
  const config = resolveEmbedTextConfig(partial);
  if (texts.length === 0) throw new Error('no items to embed');
  const extract = terms ?? ngramTerms(resolveNgramTokenizer({ wordNgrams: config.wordNgrams, charNgrams: config.charNgrams }));
  const progress = options.progress;
  const docs = texts.map((t) => extract(t));
  const tfidf = tfidfMatrix(docs, config);
  const a = tfidf.matrix;
  progress?.tick(1, { terms: a.cols });
  if (a.cols === 0) {
    throw new Error(`no term appears in at least minDf=${config.minDf} items; nothing to embed (lower minDf, or check the item texts)`);
  }
  const svd = randomizedSvd(a, {
    rank: config.dim, oversample: config.oversample, powerIterations: config.powerIterations, seed: config.seed,
    onStep: () => progress?.tick(1),
  });
  const { rows } = a;
  const dim = svd.rank;
  let dimClamped: string | null = null;
  if (dim < config.dim) {
    const bound = Math.min(a.rows, a.cols);
    dimClamped = config.dim > bound
      ? `dim ${config.dim} > min(items ${a.rows}, terms ${a.cols}) = ${bound}; the TF-IDF matrix has rank ${svd.numericalRank}, so ${dim} dimensions`
      : `the TF-IDF matrix has numerical rank ${svd.numericalRank} < dim ${config.dim}, so ${dim} dimensions`;
  }
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    for (let k = 0; k < dim; k++) {
      const v = svd.u[i * dim + k] * svd.singularValues[k];
      sq += v * v;
    }
    const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let k = 0; k < dim; k++) data[i * dim + k] = svd.u[i * dim + k] * svd.singularValues[k] * inv;
  }
  let energy = 0;
  for (let p = 0; p < a.values.length; p++) energy += a.values[p] * a.values[p];
  let kept = 0;
  for (const s of svd.singularValues) kept += s * s;
  return {
    matrix: { rows, dim, data },
    info: {
      method: config.method,
      tokenizer: options.tokenizer ?? (terms ? 'custom' : `ngram words ${config.wordNgrams.join('-')}, chars ${config.charNgrams ? config.charNgrams.join('-') : 'none'}`),
      requestedDim: config.dim,
      dim,
      dimClamped,
      vocabulary: a.cols,
      termsSeen: tfidf.termsSeen,
      nonZeros: a.values.length,
      explainedVariance: energy > 0 ? kept / energy : 0,
      emptyItems: tfidf.emptyRows.length,
      singularValues: Array.from(svd.singularValues.slice(0, 8), (s) => Number(s.toPrecision(6))),
      seed: config.seed,
      seconds: (performance.now() - start) / 1000,
    },
  };
}

export interface EmbedTextOptions {
  /** Data set directory. */
  data: string;
  /** Embeddings name (default "default"): writes DIR/embeddings/NAME.parquet, NAME.json, NAME.report.json. */
  name?: string;
  /** Tokenize with this SentencePiece model instead of the built-in n-grams. */
  spmModel?: string;
  config?: Partial<EmbedTextConfig>;
  silent?: boolean;
}

export interface EmbedTextResult {
  path: string;
  reportPath: string;
  info: TextEmbeddingInfo;
  report: EmbeddingReport;
}

/** `semid embed text`: embeds a data set's item texts and writes the embeddings and their report. */
export async function embedText(options: EmbedTextOptions): Promise<EmbedTextResult> {
  const name = options.name ?? 'default';
  const path = embeddingsPath(options.data, name);
  const config = resolveEmbedTextConfig(options.config);
  const dataset = await readDataset(options.data);
  const terms = options.spmModel ? await sentencePieceTerms(options.spmModel) : undefined;
  const progress = new Progress({ label: `embed text (${config.method}, dim ${config.dim})`, total: config.powerIterations + 3, unit: 'step', silent: options.silent });
  const { matrix, info } = embedTexts(dataset.items.texts, config, terms, {
    tokenizer: options.spmModel ? `sentencepiece ${options.spmModel}` : undefined, progress,
  });
  progress.finish({ dim: info.dim });
  if (info.dimClamped && !options.silent) progress.log(`note: ${info.dimClamped}`);
  if (info.emptyItems > 0 && !options.silent) progress.log(`note: ${info.emptyItems} items have no known term in their text; their embedding is the zero vector`);
  const meta = { ...info, config: { ...config, spmModel: options.spmModel ?? null } };
  await writeEmbeddings(options.data, name, matrix, meta);
  const report = computeEmbeddingReport(matrix, dataset.items, name, { seed: config.seed }, meta);
  const reportPath = embeddingReportPath(options.data, name);
  await writeJsonAtomic(reportPath, report);
  return { path, reportPath, info, report };
}

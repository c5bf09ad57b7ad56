// Public surface of pipelines/embed: item text embeddings (built-in tfidf-svd, SentencePiece), importing
// vectors made elsewhere, the embedding report, and the building blocks (tokenizers, TF-IDF, randomized
// SVD, nearest neighbours) for anyone who needs them.
export { embedText, embedTexts, resolveEmbedTextConfig, DEFAULT_EMBED_TEXT, EMBED_METHODS } from './embedText.js';
export type { EmbedTextConfig, EmbedMethod, EmbedTextOptions, EmbedTextResult, TextEmbedding, TextEmbeddingInfo } from './embedText.js';
export { importEmbeddings, matchEmbeddings, importFormatOf } from './importEmbeddings.js';
export type { ImportEmbeddingsOptions, ImportEmbeddingsResult, ImportSourceOptions, MatchOptions, MatchedEmbeddings, ImportFormat as EmbeddingFileFormat } from './importEmbeddings.js';
export { embeddingReport, computeEmbeddingReport, formatEmbeddingReport, embeddingReportPath, categoryKeys } from './report.js';
export type { EmbeddingReport, EmbeddingReportOptions, ReportOptions, SampleRow, NeighbourRow } from './report.js';
export { trainSentencePiece, trainSentencePieceModel, sentencePieceTerms, findSpmTrain, SPM_INSTALL_HINT } from './sentencePiece.js';
export type { TrainSentencePieceOptions, TrainSentencePieceDataOptions, TrainSentencePieceResult } from './sentencePiece.js';
export { buildNeighbourIndex, nearestNeighbours } from './neighbours.js';
export type { NeighbourIndex, NeighbourIndexOptions, Neighbour } from './neighbours.js';
export { ngramTerms, normalizeText, splitWords, resolveNgramTokenizer, DEFAULT_NGRAM_TOKENIZER } from './textTerms.js';
export type { NgramTokenizerConfig, TermExtractor } from './textTerms.js';
export { tfidfMatrix, resolveTfidf, DEFAULT_TFIDF } from './tfidf.js';
export type { TfidfConfig, TfidfResult } from './tfidf.js';
export { randomizedSvd, RANK_TOLERANCE } from './randomizedSvd.js';
export type { RandomizedSvdOptions, RandomizedSvdResult } from './randomizedSvd.js';
export { csrFromDense, checkCsr, csrTimesDense, csrTransposeTimesDense, gramTimes } from './sparse.js';
export type { CsrMatrix } from './sparse.js';
export { parseNpy, toNpy } from './npy.js';
export type { NpyMatrix } from './npy.js';
export { seededRandom } from './random.js';
export type { RandomSource } from './random.js';

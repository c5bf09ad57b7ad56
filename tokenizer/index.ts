// Public surface of tokenizer/: the lowest layer (item tokenizers). The file, lock and progress utilities every
// layer uses are in tokenizer/io/ (importing them does not load tfjs or register tokenizers).
export type { EmbeddingMatrix, SemanticIds } from './types.js';
export type { FitOptions, FitReport, LevelReport, TrainingPoint, ItemTokenizer, TokenizerFactory } from './types.js';
import './methods.js';
export {
  registerTokenizer, tokenizerMethods, tokenizerFactory, createTokenizer, saveTokenizer, loadTokenizer,
  readTokenizerManifest, MANIFEST_FILE,
} from './registry.js';
export type { TokenizerManifest } from './registry.js';
export { collisionStats, disambiguate, disambiguateNew } from './collisions.js';
export type { CollisionStats } from './collisions.js';
export { buildReport, formatReport, levelReport } from './report.js';
export type { TokenizerReport } from './report.js';
export { domainCodeReport, formatDomainCodeReport } from './domainReport.js';
export type { DomainCodeReport, DomainCodeUsage } from './domainReport.js';
export { kmeans, DEFAULT_KMEANS } from './kmeans.js';
export type { KMeansConfig, KMeansResult } from './kmeans.js';
export { MAX_POINTS_PER_CENTROID, fitRowCount, resolveFitSample } from './fitSample.js';
export type { FitSample } from './fitSample.js';
export { residualQuantize, residualLookup, fitResidual, fitResidualRows, encodeResidual } from './residual.js';
export type { LevelQuantizer, ResidualOutput, ResidualStep, EncodeResidualOptions, EncodeResidualResult } from './residual.js';
export { LastLevelSpreader } from './uniformMapping.js';
export { fitNormalizer, identityNormalizer, normalizeMatrix, normalizeRows, denormalizeRows } from './normalizer.js';
export type { Normalizer } from './normalizer.js';
export { Codebook } from './codebook.js';
export { RqKMeansTokenizer, DEFAULT_RQKMEANS, resolveRqKMeans } from './rqKmeans.js';
export type { RqKMeansConfig } from './rqKmeans.js';
export { checkMatrix, reconstructionError } from './matrix.js';
export { FixedTokenizer, parseFixedIds } from './fixed.js';
export { RqVaeTokenizer, DEFAULT_RQVAE, resolveRqVae } from './rqVae.js';
export type { RqVaeConfig } from './rqVae.js';
export { FsqTokenizer, FsqLevel, DEFAULT_FSQ, resolveFsq, fsqBound, fsqDigitsToIndex, fsqIndexToDigits, fsqLevelsFor, FSQ_LEVEL_SETS } from './fsq.js';
export type { FsqConfig } from './fsq.js';

// Public surface of pipelines/text: text in the model (preferences, Mender; search queries, DSI): the text encoder a
// model with text tokens reads, item facets, preference templates and files, the training texts, BM25, noisy
// queries, `semid search` and the text evaluations (preference modes, search).
export { checkText, decodeUtf8, MAX_TEXT_WORDS } from './checkText.js';
export { TextEncoder, resolveTextEncoderConfig, polarityWords, DEFAULT_TEXT_ENCODER, NEGATION_CUES, TEXT_ENCODER_DIR } from './textEncoder.js';
export type { TextEncoderConfig, EncodedText } from './textEncoder.js';
export { PieceTextEncoder, pieceTrainingTexts, resolvePieceEncoderConfig, DEFAULT_PIECE_ENCODER } from './pieceEncoder.js';
export type { PieceEncoderConfig } from './pieceEncoder.js';
export { loadTextEncoder } from './modelTextEncoder.js';
export type { ModelTextEncoder } from './modelTextEncoder.js';
export { itemFacets, itemsByBrand, titleWords } from './facets.js';
export type { ItemFacets } from './facets.js';
export {
  historyPreference, steerPreference, negativePreference, userPreferences, writePreferences, readPreferences, PREFERENCES_FILE, STEER_VARIANTS,
} from './preferences.js';
export type { SteerVariant } from './preferences.js';
export { trainingTexts, examplePreference, indexingTexts } from './trainingText.js';
export type { TrainingTextOptions, TrainingTexts } from './trainingText.js';
export { Bm25Index, DEFAULT_BM25 } from './bm25.js';
export type { Bm25Config } from './bm25.js';
export { noisyQueries, typo } from './queries.js';
export type { SearchQuery } from './queries.js';

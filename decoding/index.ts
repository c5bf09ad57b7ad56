// Public surface of decoding/: catalog-constrained search over a scorer; imports no tensor library.
export type { DecodeStepInput, ScoringSession, StepScorer, ProcessorStep, LogitsProcessor, Candidate } from './types.js';
export { PrefixTrie, benchmarkTrie } from './trie.js';
export type { TrieBenchmark, TrieParts } from './trie.js';
export { TrieProcessor, ItemFilter } from './processors.js';
export { beamSearch, resolveBeamSearch, DEFAULT_BEAM_SEARCH } from './beamSearch.js';
export type { BeamSearchConfig, BeamSearchOptions, BeamSearchResult, BeamSearchStats, InvalidIdFallback } from './beamSearch.js';
export { exactScores, topItems, beamMissRate } from './exactScoring.js';
export type { ExactScoringOptions } from './exactScoring.js';
export { rankCatalog, subtractRows, sumLevelScores } from './catalogRanking.js';
export type { CatalogScorer, CatalogRankOptions } from './catalogRanking.js';
export { benchmarkBeamSearch, tableScorer, randomCatalog } from './benchmark.js';
export type { BeamSearchBenchmark } from './benchmark.js';

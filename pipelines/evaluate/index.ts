// Public surface of pipelines/evaluate/: ranking users with a model (ranking.ts), the baselines (baselines.ts),
// popularity buckets (buckets.ts), the exact-scoring audit (audit.ts), the unconstrained search's fallback
// (fallback.ts) and the `semid eval` command (command.ts).
export {
  rankerOf, isCatalogScorer, rankWithModel, recommendBatch, evaluateModel, checkTopK, evenSample,
  NOT_KEPT,
} from './ranking.js';
export type { Ranker, RankOptions, ModelRanks, EvaluateModelOptions, UserContext } from './ranking.js';
export { BASELINES, trainingPopularity, popularityRanks, denseRanks, itemNeighbourIndex } from './baselines.js';
export type { Baseline, BaselineContext, BaselineResult, DenseOptions, ItemIndex } from './baselines.js';
export { popularityBuckets, metricsByPopularity } from './buckets.js';
export { examplesByDomain, perDomainRanks, domainPopularityRanks, domainDenseRanks, metricsByDomain } from './domains.js';
export type { PopularityBucket } from './buckets.js';
export { beamMissRates } from './audit.js';
export type { BeamMissReport } from './audit.js';
export { nearestItemFallback } from './fallback.js';
export { runEvaluation } from './command.js';
export type { EvaluationRunOptions } from './command.js';
export { evaluatePreferenceModes, parsePreferenceModes, PREFERENCE_MODES } from './preferences.js';
export type { PreferenceMode, PreferenceEvalOptions } from './preferences.js';
export { evaluateSearch, searchMetrics } from './search.js';
export type { SearchEvalOptions } from './search.js';

// Public surface of pipelines/: what the CLI (scripts/) calls. Each stage adds its exports here.
export * from './data/index.js';
// Item embeddings: built-in tfidf-svd text embedder, SentencePiece, import, report (pipelines/embed).
export * from './embed/index.js';
export {
  fitTokenizer, encodeItems, readItemCodes, tokenizerReport, readImportedIds, formatTokenizerReport, CODES_FILE, REPORT_FILE,
} from './tokenize.js';
export type { FitTokenizerOptions, FitTokenizerResult, EncodeItemsOptions, EncodeItemsResult } from './tokenize.js';
export { rankOf, recallAtK, ndcgAtK, parseKs, metricsFromRanks } from './metrics.js';
export type { Metrics } from './metrics.js';
export {
  evaluateModel, rankWithModel, trainingPopularity, popularityRanks, denseRanks, popularityBuckets, beamMissRates,
  runEvaluation, evenSample, nearestItemFallback, evaluatePreferenceModes, parsePreferenceModes, PREFERENCE_MODES, evaluateSearch, searchMetrics,
} from './evaluate/index.js';
export type { PreferenceMode, PreferenceEvalOptions, SearchEvalOptions } from './evaluate/index.js';
// Text in the model: text encoder, preferences, BM25, noisy queries (pipelines/text); `semid search`.
export * from './text/index.js';
export { runSearch, searchQueries } from './search.js';
export type { SearchHit, SearchResult, SearchOptions, RunSearchOptions } from './search.js';
export type {
  UserContext, EvaluateModelOptions, RankOptions, ModelRanks, DenseOptions, PopularityBucket, BeamMissReport, EvaluationRunOptions,
} from './evaluate/index.js';
export {
  runRecommend, writeRecommendations, resolveRequests, requestIssues, readRequestTable, parseShard, shardPath, encodePreferences,
} from './recommend.js';
export type { RecommendRequest, RequestIssues, WriteRecommendationsOptions, ShardSummary, RecommendRunOptions } from './recommend.js';
export { datasetRequests, requestsSource, isRequestSource } from './requestSource.js';
export { inputRequests, inspectInput, requestLookup, resolveInputRows, inputRows } from './inputRequests.js';
export type { InputRows, InputTable, RequestLookup } from './inputRequests.js';
export type { RequestSource, DatasetRequestsOptions } from './requestSource.js';
// Stopping on SIGINT/SIGTERM (train, eval, recommend).
export { Stopped, stopOnSignals, signalExitCode, untilStopped, withStopOnSignals } from './stop.js';
export type { StopRequest } from './stop.js';
// Config-driven runs (`semid run`, `semid demo`) and the run report (`semid report`).
export {
  resolvePipelineConfig, loadPipelineConfig, DEFAULT_PIPELINE_CONFIG, PUBLISHED_RESULTS,
  DATA_SOURCES, EMBED_SOURCES, ARCHS, SPLITS, IMPORT_FILE_FLAGS, IMPORT_OPTIONS,
} from './runConfig.js';
export type {
  PipelineConfig, DataSection, EmbedSection, TokenizeSection, TrainSection, EvalSection, RecommendSection, ReportSection, PublishedResult,
} from './runConfig.js';
export { runStages, stageKey, hashPath, canonicalJson, checkStageGraph, readStageRecord, MARKER as STAGE_MARKER } from './runner.js';
export type { StageDefinition, StageContext, StageRecord, StageOutcome, RunStagesOptions } from './runner.js';
export { runPipelineWith, pipelineStages, STAGE_NAMES } from './run.js';
export type { StageImplementations, StageDirs, StageName, RunPipelineOptions } from './run.js';
export {
  writeRunReport, collectReportInputs, readTrainingCurve, methodsFromMetrics, renderReportHtml, plotsFor, renderSvg,
  REPORT_FILE as RUN_REPORT_FILE, parseValidationCurve, parseReferenceCurve, writeRecallCurves, parseCurveRun,
} from './report/index.js';
export type { ReportInputs, Plot, TrainingPoint, CodebookLevel, MethodScores, CurvePoint, CurveRun, CurveRow } from './report/index.js';
// Training the sequence model (`semid train`).
export { trainModel } from './train.js';
export type { TrainModelOptions, TrainModelResult } from './train.js';
export { runPipeline, validatePipelineConfig, defaultRunDir, trainerConfigs, bucketCounts, recommendationSample, SAMPLE_FILE } from './stages.js';
export type { RunPipelineResult, RecommendationSample } from './stages.js';
export { runDemo, demoConfig, formatMetricTable, formatRecommendations, browserCommand, DEMO_CONFIG_PATH } from './demo.js';
export type { DemoOptions, DemoPreset } from './demo.js';
export { trainDemoTextModel, demoTextShowcase, formatSteered, formatSearch, pickSteering, titleQuery, DEMO_TEXT_MODEL, DEMO_TEXT_DIR } from './demoText.js';
export type { SteeredSample, DemoTextShowcase } from './demoText.js';
// `semid doctor`: backends, GPU adapter, Vulkan driver, package versions.
export { runDoctor, formatDoctorReport, parseVulkanSummary, DOCTOR_PACKAGES } from './doctor.js';
export type { DoctorReport, DoctorOptions, BackendStatus, VulkanDevice } from './doctor.js';
// `semid export`: a trained model as a static folder that recommends in the browser (pipelines/web).
export * from './web/index.js';

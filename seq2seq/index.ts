// Public surface of seq2seq/: backend choice, vocabulary, transformer models, trainer, scorer.
export {
  initBackend, parseBackendName, registerBackendProbe, BACKEND_NAMES, backendTraits, registerWasmKernels,
  describeWebGpuAdapter, probeWebGpuAdapter, findVulkanLoader, listVulkanIcds, packageVersion,
} from './backend/index.js';
export type {
  BackendInfo, BackendName, BackendOptions, BackendProbe, BackendTraits, WebGpuAdapterDescription, WebGpuAdapterProbe, WebGpuFailure, VulkanIcd,
} from './backend/index.js';
export {
  DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG, PRESETS, presetNames, getPreset, resolveModelConfig, resolveTrainConfig, splitOverrides,
} from './config.js';
export type { ModelConfig, TrainConfig, Preset, Architecture, HistoryTokens, LrSchedule, IdHead } from './config.js';
import './models.js';
export { registerModel, modelArchitectures, modelFactory, modelNeedsItems, createModel } from './registry.js';
export type { ModelFactory } from './registry.js';
export { ParamStore, DropoutSeeds } from './layers.js';
export { Vocab, PAD, BOS, EOS, hashUser } from './vocab.js';
export type { VocabLayout } from './vocab.js';
export { Batcher, DataOrder, sequenceWindows } from './batches.js';
export type { TokenBatch, Example as TrainingExample, ContextInput, DataPosition } from './batches.js';
export type {
  SequenceModel, TokenModel, TrainingData, TrainingSequence, TrainingSet, TrainingText, TrainBatch, ModelScorer, ScorerOptions, UserContext,
} from './model.js';
export { batchLoss, tokenTrainingSet } from './model.js';
export { CausalModel, causalStack, initCausalStack, windowTrainingSet, windowBatch, contextItems } from './causal.js';
export type { WindowBatch } from './causal.js';
export { SasRec } from './sasrec.js';
export { EncoderDecoder } from './encoderDecoder.js';
export { DecoderOnly, decoderOnlyPattern } from './decoderOnly.js';
export { saveModel, loadModel, modelFromArtifacts, modelArtifacts, MODEL_FILE, WEIGHTS_FILE } from './checkpoint.js';
export type { ModelManifest } from './checkpoint.js';
export { train, learningRate, AdamW, METRICS_FILE, CHECKPOINT_DIR } from './trainer.js';
export type { TrainOptions, TrainResult, ValidateFn, Metrics } from './trainer.js';
export { createStepScorer, createScorer } from './scorer.js';
export { StackStepSession, DEFAULT_INCREMENTAL } from './incremental.js';
export type { IncrementalDecoding, IncrementalOptions, StepSession, StackWeights } from './incremental.js';

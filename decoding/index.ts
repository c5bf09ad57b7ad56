// Public surface of decoding/: catalog-constrained search over a scorer; imports no tensor library.
export type { DecodeStepInput, ScoringSession, StepScorer } from './types.js';

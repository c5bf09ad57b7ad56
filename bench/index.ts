// Public surface of bench/: `semid bench` (scripts/bench.ts) calls runBench.
export { runBench, formatSuite, compare, DEFAULT_RESULTS_DIR } from './runner.js';
export type { BenchOptions, SuiteResult, VariantResult, Comparison } from './runner.js';
export { SUITES, SUITE_NAMES, getSuite } from './suites.js';
export type { Figure, Suite, Summary, Variant } from './types.js';
export { referenceStatus } from './reference.js';

// Public surface of seq2seq/: backend choice, vocabulary, transformer models, trainer, scorer.
export { initBackend, parseBackendName, registerBackendProbe, BACKEND_NAMES } from './backend.js';
export type { BackendInfo, BackendName, BackendOptions, BackendProbe } from './backend.js';

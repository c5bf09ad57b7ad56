// Public surface of tokenizer/: the lowest layer (item tokenizers, plus the file and progress utilities every layer uses).
export type { EmbeddingMatrix, SemanticIds } from './types.js';
export { writeFileAtomic, writeJsonAtomic, writeDirAtomic } from './atomicWrite.js';
export { Progress } from './progress.js';
export type { ProgressOptions, ProgressFields } from './progress.js';

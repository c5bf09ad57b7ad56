// Public surface of pipelines/: what the CLI (scripts/) calls. Each stage adds its exports here.
export type { Items, Sequences, Manifest, Dataset, Example, SplitName } from './data/types.js';

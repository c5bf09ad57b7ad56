// What a reader gets: the options, where bad rows go, the engine and its interactions table, and how to
// stream files (chunk size; which files turned out not to be UTF-8 and are re-read as Latin-1).
import type { ImportEngine } from './engine.js';
import type { InputIssues } from './issues.js';
import type { ImportOptions } from './options.js';
import type { StreamOptions } from './read.js';
import type { InteractionStore } from './store.js';

export interface ImportContext {
  options: ImportOptions;
  issues: InputIssues;
  engine: ImportEngine;
  store: InteractionStore;
  /** Files found not to be UTF-8 (read as Latin-1 on the next attempt). */
  latin1: ReadonlySet<string>;
}

/** How to stream `path` in this import. */
export function streamOptions(ctx: ImportContext, path: string): StreamOptions {
  return { chunkBytes: ctx.options.chunkBytes, latin1: ctx.latin1.has(path) };
}

// The tokenizer registry: a method is a name plus a factory. A new method is one file that exports a
// TokenizerFactory plus one `registerTokenizer` line (methods.ts for the built-in ones; anywhere for yours).
// `saveTokenizer` / `loadTokenizer` write and read TOKDIR/tokenizer.json, the file that names the method.
import { join } from 'node:path';
import { loadJson } from './state.js';
import { writeJsonAtomic } from './io/index.js';
import type { ItemTokenizer, TokenizerFactory } from './types.js';

const factories = new Map<string, TokenizerFactory>();

/** Registers (or replaces) a tokenizer method. Names are lowercase letters, digits, `-` and `_`. */
export function registerTokenizer(method: string, factory: TokenizerFactory): void {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(method)) throw new Error(`tokenizer method name must match [a-z0-9][a-z0-9_-]*, got "${method}"`);
  factories.set(method, factory);
}

/** Registered method names, sorted. */
export function tokenizerMethods(): string[] {
  return [...factories.keys()].sort();
}

export function tokenizerFactory(method: string): TokenizerFactory {
  const factory = factories.get(method);
  if (!factory) throw new Error(`unknown tokenizer method "${method}": expected one of ${tokenizerMethods().join(', ')}`);
  return factory;
}

/** A new, unfitted tokenizer of `method` with `config` (validated by the method). */
export function createTokenizer(method: string, config: Record<string, unknown> = {}): ItemTokenizer {
  return tokenizerFactory(method).create(config);
}

/** Contents of TOKDIR/tokenizer.json. */
export interface TokenizerManifest {
  format: 1;
  method: string;
  config: Record<string, unknown>;
  /** Code count per position, including the disambiguation position (the last one) when present. */
  levels: number[];
  /** Whether the last position is a disambiguation code. */
  disambiguation: boolean;
  createdAt: string;
  [key: string]: unknown;
}

export const MANIFEST_FILE = 'tokenizer.json';

/** Writes the method's state files and tokenizer.json into `dir`. */
export async function saveTokenizer(tokenizer: ItemTokenizer, dir: string, extra: { levels?: number[]; disambiguation?: boolean } & Record<string, unknown> = {}): Promise<void> {
  await tokenizer.save(dir);
  const manifest: TokenizerManifest = {
    format: 1,
    method: tokenizer.method,
    config: tokenizer.config as Record<string, unknown>,
    createdAt: new Date().toISOString(),
    ...extra,
    levels: extra.levels ?? tokenizer.levels,
    disambiguation: extra.disambiguation ?? false,
  };
  await writeJsonAtomic(join(dir, MANIFEST_FILE), manifest);
}

export async function readTokenizerManifest(dir: string): Promise<TokenizerManifest> {
  const manifest = await loadJson<TokenizerManifest>(dir, MANIFEST_FILE);
  if (typeof manifest.method !== 'string' || !Array.isArray(manifest.levels) || typeof manifest.config !== 'object') {
    throw new Error(`${join(dir, MANIFEST_FILE)}: not a semid tokenizer manifest (needs method, config, levels)`);
  }
  return manifest;
}

/** Restores the fitted tokenizer saved in `dir`. */
export async function loadTokenizer(dir: string): Promise<ItemTokenizer> {
  const manifest = await readTokenizerManifest(dir);
  return tokenizerFactory(manifest.method).load(dir, manifest.config);
}

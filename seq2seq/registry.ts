// The model registry: an architecture is a name plus a factory, as tokenizers are (tokenizer/registry.ts). A new
// model is one file that implements SequenceModel (training rows and loss, and its scorer for decoding) and one
// `registerModel` line (models.ts for the built-in ones; anywhere for yours). Config validation, the CLI's
// --arch choices, checkpoint loading and the pipelines read this table; nothing else names an architecture.
import type { ModelConfig } from './config.js';
import type { ParamStore } from './layers.js';
import type { SequenceModel } from './model.js';
import type { Vocab } from './vocab.js';

export interface ModelFactory {
  /** One line for --help and doctor. */
  description: string;
  /** A model with fresh weights (seeded by config.seed), or over the given weights. */
  create(config: ModelConfig, vocab: Vocab, params?: ParamStore): SequenceModel;
  /** Checks of the fields this architecture reads, beyond resolveModelConfig's ranges (throws naming field and value). */
  check?(config: ModelConfig): void;
  /** Whether the model needs the catalog size in its vocabulary (per-item embeddings or an item softmax). */
  needsItems?(config: ModelConfig): boolean;
  /** Whether the model reads text context tokens (`textTokens` > 0: preferences, DSI queries; textContext.ts). */
  textContext?: boolean;
}

const factories = new Map<string, ModelFactory>();

/** Registers (or replaces) an architecture. Names are lowercase letters, digits, `-` and `_`. */
export function registerModel(arch: string, factory: ModelFactory): void {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(arch)) throw new Error(`model architecture name must match [a-z0-9][a-z0-9_-]*, got "${arch}"`);
  factories.set(arch, factory);
}

/** Registered architecture names, in registration order (the built-in default first). */
export function modelArchitectures(): string[] {
  return [...factories.keys()];
}

export function modelFactory(arch: string): ModelFactory {
  const factory = factories.get(arch);
  if (!factory) throw new Error(`unknown model architecture "${arch}": expected one of ${modelArchitectures().join(', ')}`);
  return factory;
}

/** Whether a model of this config needs `items` in its vocabulary. */
export function modelNeedsItems(config: ModelConfig): boolean {
  return modelFactory(config.arch).needsItems?.(config) ?? false;
}

/** Builds the model for a config (fresh weights unless given). */
export function createModel(config: ModelConfig, vocab: Vocab, params?: ParamStore): SequenceModel {
  const factory = modelFactory(config.arch);
  if (factory.needsItems?.(config) && !(vocab.items > 0)) throw new Error(`the ${config.arch} model needs the catalog size in its vocabulary (items), got ${vocab.items}`);
  return factory.create(config, vocab, params);
}

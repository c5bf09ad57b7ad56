// The models the train and decode suites time. `codes` (one encoder token per code: 1 user + 20 x 4 = 81 tokens)
// is the PyTorch reference's model, so its ratio compares like with like. `item` (one token per history item, the
// sum of its code embeddings: 21 tokens) is semid's layout for `tiny`/`small` (BENCHMARKS.md, quality): a quarter
// of the encoder's work; its ratio is against the reference's per-code model of the same size, and says so.
import { resolveModelConfig } from '../seq2seq/index.js';
import type { HistoryTokens, ModelConfig } from '../seq2seq/index.js';

export interface BenchModel {
  preset: string;
  layout: HistoryTokens;
}

/** Part names: `small` / `tiger` (per-code, the reference's model) and `small+item` / `tiger+item`. */
export function parseBenchModel(part: string): BenchModel {
  const [preset, layout = 'codes'] = part.split('+');
  if (layout !== 'codes' && layout !== 'item') throw new Error(`bench model "${part}": layout must be codes or item, got "${layout}"`);
  return { preset, layout };
}

export function benchModelName(m: BenchModel): string {
  return m.layout === 'codes' ? m.preset : `${m.preset}+item`;
}

/** Human label: the preset and its encoder input. */
export function benchModelLabel(m: BenchModel, historyItems: number, codes: number): string {
  return `${m.preset} (${m.layout === 'codes' ? 'per-code' : 'item'}, ${encoderTokens(m, historyItems, codes)} tokens)`;
}

export function benchModelConfig(m: BenchModel, overrides: Partial<ModelConfig>): ModelConfig {
  return resolveModelConfig({ ...overrides, historyTokens: m.layout }, m.preset);
}

/** Encoder tokens of one sequence under a layout. */
export function encoderTokens(m: BenchModel, historyItems: number, codes: number): number {
  return 1 + historyItems * (m.layout === 'codes' ? codes : 1);
}

/**
 * The reference runs once per preset (its model is always per-code); each of its figures then stands beside every
 * bench model of that preset. `acrossLayouts` marks the item-layout ones, whose comparison is across layouts.
 */
export function modelsByPreset(parts: string[]): [string, { name: string; acrossLayouts: boolean }[]][] {
  const byPreset = new Map<string, { name: string; acrossLayouts: boolean }[]>();
  for (const part of parts) {
    const m = parseBenchModel(part);
    byPreset.set(m.preset, [...(byPreset.get(m.preset) ?? []), { name: benchModelName(m), acrossLayouts: m.layout !== 'codes' }]);
  }
  return [...byPreset.entries()];
}

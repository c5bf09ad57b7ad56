// `semid data info DIR`: the manifest and simple statistics of a data set, as text.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EMBEDDINGS_DIR, readDataset } from './dataset.js';
import { readEmbeddingsMeta } from './embeddings.js';
import { DEFAULT_MAX_HISTORY, examplesPerUser } from './split.js';
import type { Dataset, SplitName } from './types.js';

function quantiles(values: number[]): string {
  if (values.length === 0) return 'none';
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return `min ${sorted[0]}  median ${q(0.5)}  mean ${mean.toFixed(1)}  p90 ${q(0.9)}  max ${sorted[sorted.length - 1]}`;
}

export interface DatasetStats {
  historyLength: string;
  itemInteractions: string;
  itemsNeverSeen: number;
  density: number;
  splitExamples: Record<SplitName, number>;
  topCategories: [string, number][];
  meanTextChars: number;
}

export function datasetStats(ds: Dataset): DatasetStats {
  const lengths = ds.sequences.items.map((s) => s.length);
  const counts = new Array<number>(ds.items.keys.length).fill(0);
  for (const s of ds.sequences.items) for (const i of s) counts[i] += 1;
  const top = new Map<string, number>();
  for (const c of ds.items.categories) {
    const leaf = c.length ? c.join(' > ') : '(none)';
    top.set(leaf, (top.get(leaf) ?? 0) + 1);
  }
  const splitExamples = { train: 0, valid: 0, test: 0 };
  for (const n of lengths) for (const split of ['train', 'valid', 'test'] as const) splitExamples[split] += examplesPerUser(n, split);
  return {
    historyLength: quantiles(lengths),
    itemInteractions: quantiles(counts),
    itemsNeverSeen: counts.filter((c) => c === 0).length,
    density: ds.manifest.interactions / Math.max(1, ds.manifest.users * ds.manifest.items),
    splitExamples,
    topCategories: [...top].sort((a, b) => b[1] - a[1]).slice(0, 5),
    meanTextChars: ds.items.texts.reduce((s, t) => s + t.length, 0) / Math.max(1, ds.items.texts.length),
  };
}

export async function datasetInfo(dir: string): Promise<string> {
  const ds = await readDataset(dir);
  const s = datasetStats(ds);
  const embeddings = await readdir(join(dir, EMBEDDINGS_DIR)).catch(() => [] as string[]);
  const lines = [
    `data set ${dir}`,
    JSON.stringify(ds.manifest, null, 2),
    '',
    `history length      ${s.historyLength}`,
    `interactions/item   ${s.itemInteractions}${s.itemsNeverSeen ? `  (${s.itemsNeverSeen} items never interacted)` : ''}`,
    `density             ${(100 * s.density).toFixed(4)}%`,
    `leave-one-out       train ${s.splitExamples.train}  valid ${s.splitExamples.valid}  test ${s.splitExamples.test} examples (max history ${DEFAULT_MAX_HISTORY})`,
    `item text           mean ${s.meanTextChars.toFixed(0)} chars; e.g. "${ds.items.texts[0] ?? ''}"`,
    `top categories      ${s.topCategories.map(([c, n]) => `${c} (${n})`).join('; ')}`,
  ];
  for (const file of embeddings.filter((f) => f.endsWith('.parquet')).sort()) {
    const name = file.slice(0, -'.parquet'.length);
    const meta = await readEmbeddingsMeta(dir, name);
    lines.push(`embeddings          ${name}: ${meta.dim ?? '?'} dims${meta.model ? `, ${String(meta.model)}` : ''}`);
  }
  return lines.join('\n');
}

// `semid report RUN`: gathers what a run directory holds (config, stage records, training curve,
// tokenizer report, metrics, sample recommendations) and writes RUN/report.html.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonIfPresent, writeFileAtomic } from '../../tokenizer/io/index.js';
import type { MethodScores, TrainingPoint } from './charts.js';
import { renderReportHtml, type ReportInputs } from './html.js';
import { jsonlRows } from './jsonl.js';
import type { PublishedResult } from '../runConfig.js';

export { renderReportHtml, plotsFor, escapeHtml } from './html.js';
export type { ReportInputs, Plot } from './html.js';
export type { TrainingPoint, CodebookLevel, MethodScores, CurvePoint } from './charts.js';
export { parseValidationCurve, parseReferenceCurve, writeRecallCurves, parseCurveRun } from './curves.js';
export type { CurveRun, CurveRow } from './curves.js';
export { renderSvg } from './render.js';

export const REPORT_FILE = 'report.html';

/** The trainer's JSONL log: a point per logged step, loss and (when validation ran) Recall@10. */
export async function readTrainingCurve(path: string): Promise<TrainingPoint[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const points = new Map<number, TrainingPoint>();
  for (const row of jsonlRows(text)) {
    const step = Number(row.step);
    if (!Number.isFinite(step)) continue;
    const point = points.get(step) ?? { step };
    // The trainer logs `{kind: "train", loss}` every few steps and `{kind: "valid", "recall@10"}` at validation.
    if (row.kind === 'valid') {
      if (typeof row['recall@10'] === 'number') point.validRecall10 = row['recall@10'];
    } else if (typeof row.loss === 'number') {
      point.loss = row.loss;
    }
    points.set(step, point);
  }
  return [...points.values()].sort((a, b) => a.step - b.step);
}

/** The `recall@K` / `ndcg@K` entries of a metrics object. */
function scores(metrics: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([k, v]) => /^(recall|ndcg)@\d+$/.test(k) && typeof v === 'number')) as Record<string, number>;
}

/**
 * Model then baselines, from an eval `metrics.json`; the model under each protocol (history masked or not) where
 * the eval reports both, so it can stand beside published figures of either kind.
 */
export function methodsFromMetrics(metrics: Record<string, unknown>, modelName = 'semid'): MethodScores[] {
  const methods: MethodScores[] = [{ method: modelName, metrics: scores(metrics), ours: true }];
  const protocols = metrics.protocols as { unmasked?: Record<string, unknown>; masked?: Record<string, unknown> } | undefined;
  if (protocols?.unmasked && protocols.masked) {
    methods[0].method = `${modelName} (${metrics.excludeHistory ? 'history masked' : 'history not masked'})`;
    const other = metrics.excludeHistory ? protocols.unmasked : protocols.masked;
    methods.push({ method: `${modelName} (${metrics.excludeHistory ? 'history not masked' : 'history masked'})`, metrics: scores(other), ours: true });
  }
  const baselines = (metrics.baselines ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, values] of Object.entries(baselines)) methods.push({ method: name, metrics: scores(values) });
  return methods;
}

/** Published figures as report rows, each named with its protocol where it has one. */
export function publishedRows(published: readonly PublishedResult[]): MethodScores[] {
  return published.map((p) => ({ method: p.protocol ? `${p.method}: ${p.protocol}` : p.method, metrics: p.metrics }));
}

interface TokenizerReportJson {
  levels?: { size: number; used: number; usage?: number; perplexity?: number }[];
  distinctIds?: number;
  collisionRate?: number;
  maxBucket?: number;
  bucketCounts?: Record<string, number>;
}

/** Everything the report shows, read from a run directory (missing parts are left out). */
export async function collectReportInputs(runDir: string): Promise<ReportInputs> {
  const config = await readJsonIfPresent<Record<string, unknown>>(join(runDir, 'config.json'));
  if (!config) throw new Error(`${runDir}: not a semid run directory (no config.json); make one with semid run or semid demo`);
  const run = await readJsonIfPresent<{ stages?: { name: string; status: string; seconds: number }[] }>(join(runDir, 'run.json'));
  const manifest = await readJsonIfPresent<{ users?: number; items?: number; interactions?: number }>(join(runDir, 'data', 'manifest.json'));
  const tokenizer = await readJsonIfPresent<TokenizerReportJson>(join(runDir, 'tokenize', 'report.json'));
  const buckets = await readJsonIfPresent<Record<string, number>>(join(runDir, 'tokenize', 'buckets.json'));
  const metrics = await readJsonIfPresent<Record<string, unknown>>(join(runDir, 'eval', 'metrics.json'));
  const sample = await readJsonIfPresent<ReportInputs['recommendations']>(join(runDir, 'recommend', 'sample.json'));
  const domains = await readJsonIfPresent<NonNullable<ReportInputs['domains']>>(join(runDir, 'eval', 'domains.json'));
  const report = (config.report ?? {}) as { dataset?: string; published?: PublishedResult[] };
  const train = (config.train ?? {}) as { preset?: string; arch?: string };
  const tokenize = (config.tokenize ?? {}) as { method?: string; levels?: number; codebookSize?: number };

  const subtitle = [
    report.dataset ?? '',
    manifest ? `${manifest.users} users, ${manifest.items} items, ${manifest.interactions} interactions` : '',
    tokenize.method ? `${tokenize.method} ${tokenize.levels} x ${tokenize.codebookSize}` : '',
    train.preset ? `model ${train.preset} (${train.arch})` : '',
  ].filter(Boolean).join(' · ');
  const modelName = `semid ${train.preset ?? ''}`.trim();
  const bucketCounts = tokenizer?.bucketCounts ?? buckets ?? undefined;
  return {
    title: String(config.name ?? 'semid run'),
    subtitle,
    training: await readTrainingCurve(join(runDir, 'train', 'metrics.jsonl')),
    codebook: tokenizer?.levels
      ? {
          levels: tokenizer.levels,
          distinctIds: tokenizer.distinctIds,
          collisionRate: tokenizer.collisionRate,
          maxBucket: tokenizer.maxBucket,
          bucketCounts: bucketCounts
            ? Object.fromEntries(Object.entries(bucketCounts).map(([k, v]) => [Number(k), v]))
            : undefined,
        }
      : undefined,
    methods: metrics ? methodsFromMetrics(metrics, modelName) : undefined,
    published: report.published ? publishedRows(report.published) : undefined,
    stages: run?.stages,
    recommendations: sample ?? undefined,
    config,
    ...(domains ? { domains } : {}),
  };
}

/** Writes RUN/report.html (atomically) and returns its path. */
export async function writeRunReport(runDir: string, out = join(runDir, REPORT_FILE)): Promise<string> {
  const html = await renderReportHtml(await collectReportInputs(runDir));
  await writeFileAtomic(out, html);
  return out;
}

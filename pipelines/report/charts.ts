// The report's plots as Vega-Lite specs, one function per plot, each from plain data (no file access).
// Rendered to SVG in Node by render.ts, so a report is one self-contained HTML file.
import type { TopLevelSpec } from 'vega-lite';

/** One point of the training curve (from the trainer's JSONL metrics). */
export interface TrainingPoint {
  step: number;
  loss?: number;
  /** Validation Recall@10 at this step, when validation ran. */
  validRecall10?: number;
}

export interface CodebookLevel {
  size: number;
  used: number;
  usage?: number;
  perplexity?: number;
}

/** A method's scores, e.g. `{ method: 'semid', metrics: { 'recall@10': 0.06 } }`. */
export interface MethodScores {
  method: string;
  metrics: Record<string, number>;
  /** Our model (not a baseline): the rows set beside published figures. */
  ours?: boolean;
}

const WIDTH = 520;
const HEIGHT = 240;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function base(title: string): Record<string, unknown> {
  return { $schema: SCHEMA, title, width: WIDTH, height: HEIGHT, background: 'white' };
}

/** Training loss against step. */
export function lossChart(points: TrainingPoint[]): TopLevelSpec {
  return {
    ...base('Training loss'),
    data: { values: points.filter((p) => p.loss !== undefined && Number.isFinite(p.loss)).map((p) => ({ step: p.step, loss: p.loss })) },
    mark: { type: 'line', point: false },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: 'cross-entropy', scale: { zero: false } },
    },
  } as TopLevelSpec;
}

/** Validation Recall@10 against step. */
export function validRecallChart(points: TrainingPoint[]): TopLevelSpec {
  return {
    ...base('Validation Recall@10'),
    data: { values: points.filter((p) => p.validRecall10 !== undefined && Number.isFinite(p.validRecall10)).map((p) => ({ step: p.step, recall: p.validRecall10 })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'recall', type: 'quantitative', title: 'Recall@10' },
    },
  } as TopLevelSpec;
}

/** Share of each level's codebook in use. */
export function codebookUsageChart(levels: CodebookLevel[]): TopLevelSpec {
  return {
    ...base('Codebook usage per level'),
    data: {
      values: levels.map((l, i) => ({
        level: `level ${i}`,
        usage: l.usage ?? l.used / l.size,
        label: `${l.used}/${l.size}${l.perplexity !== undefined ? `, perplexity ${l.perplexity.toFixed(1)}` : ''}`,
      })),
    },
    layer: [
      { mark: 'bar', encoding: { x: { field: 'level', type: 'nominal', title: null, sort: null }, y: { field: 'usage', type: 'quantitative', title: 'codes used / codebook size', scale: { domain: [0, 1] }, axis: { format: '%' } } } },
      { mark: { type: 'text', dy: -6 }, encoding: { x: { field: 'level', type: 'nominal', sort: null }, y: { field: 'usage', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}

/** How many semantic IDs (before disambiguation) hold 1, 2, 3... items. */
export function collisionChart(bucketCounts: Record<number, number>): TopLevelSpec {
  const values = Object.entries(bucketCounts)
    .map(([size, ids]) => ({ size: Number(size), ids }))
    .sort((a, b) => a.size - b.size);
  return {
    ...base('Collision buckets (items sharing one ID before disambiguation)'),
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'size', type: 'ordinal', title: 'items per ID' },
      y: { field: 'ids', type: 'quantitative', title: 'IDs', scale: { type: 'symlog' } },
      tooltip: [{ field: 'size' }, { field: 'ids' }],
    },
  } as TopLevelSpec;
}

/** Grouped bars: each metric, one bar per method. */
export function metricsChart(title: string, methods: MethodScores[], metricNames: string[]): TopLevelSpec {
  const values = methods.flatMap((m) =>
    metricNames.filter((name) => m.metrics[name] !== undefined).map((name) => ({ method: m.method, metric: name, value: m.metrics[name] })),
  );
  return {
    ...base(title),
    width: { step: 14 },
    data: { values },
    mark: 'bar',
    encoding: {
      column: { field: 'metric', type: 'nominal', title: null, sort: metricNames },
      x: { field: 'method', type: 'nominal', title: null, sort: methods.map((m) => m.method), axis: { labels: false, ticks: false } },
      y: { field: 'value', type: 'quantitative', title: 'score' },
      color: { field: 'method', type: 'nominal', sort: methods.map((m) => m.method), legend: { orient: 'bottom', title: null } },
      tooltip: [{ field: 'method' }, { field: 'metric' }, { field: 'value', format: '.4f' }],
    },
  } as TopLevelSpec;
}

/** One validation point of one training run, for comparing runs. */
export interface CurvePoint {
  run: string;
  /** Training wall time from the run's first logged step, hours. */
  hours: number;
  step: number;
  recall10: number;
}

/** Validation Recall@10 against training wall time, one line per run. */
export function recallCurveChart(points: CurvePoint[], title = 'Validation Recall@10 against training time'): TopLevelSpec {
  const runs = [...new Set(points.map((p) => p.run))];
  return {
    ...base(title),
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'hours', type: 'quantitative', title: 'training wall time (hours)' },
      y: { field: 'recall10', type: 'quantitative', title: 'Recall@10 (validation)' },
      // Run labels are descriptive ("small, cosine to 10k steps"): one per row, never cut.
      color: { field: 'run', type: 'nominal', sort: runs, legend: { orient: 'bottom', title: null, direction: 'vertical', labelLimit: 0 } },
      tooltip: [{ field: 'run' }, { field: 'step' }, { field: 'hours', format: '.2f' }, { field: 'recall10', format: '.4f' }],
    },
  } as TopLevelSpec;
}

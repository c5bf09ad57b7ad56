// The report page: one self-contained HTML file (inline CSS, inline SVG plots, tables), no scripts,
// no network, so it opens anywhere and can be attached to an issue or e-mail.
import type { TopLevelSpec } from 'vega-lite';
import {
  codebookUsageChart, collisionChart, lossChart, metricsChart, validRecallChart,
  type CodebookLevel, type MethodScores, type TrainingPoint,
} from './charts.js';
import { renderSvg } from './render.js';

export interface ReportInputs {
  title: string;
  /** A line under the title (data set, sizes, date). */
  subtitle?: string;
  training?: TrainingPoint[];
  codebook?: {
    levels: CodebookLevel[];
    distinctIds?: number;
    collisionRate?: number;
    maxBucket?: number;
    /** Bucket size -> how many IDs have that many items (before disambiguation). */
    bucketCounts?: Record<number, number>;
  };
  /** Our model first, then the baselines. */
  methods?: MethodScores[];
  /** Published results on the same data set and protocol. */
  published?: MethodScores[];
  /** Metric names in display order (default: those of the first method). */
  metricNames?: string[];
  stages?: { name: string; status: string; seconds: number }[];
  recommendations?: { user: string; history: string[]; items: string[] }[];
  /** The resolved config, shown folded. */
  config?: unknown;
  /** Multi-domain runs: per domain, Recall/NDCG@10 of each method (unified, finetuned, popularity, dense). */
  domains?: Record<string, Record<string, Record<string, number | undefined>>>;
}

export interface Plot {
  id: string;
  spec: TopLevelSpec;
}

/** Our model's rows (one per protocol where the eval reports both), else the first method. */
function ourRows(methods: MethodScores[]): MethodScores[] {
  const ours = methods.filter((m) => m.ours);
  return ours.length ? ours : [methods[0]];
}

/** The plots the inputs support, in page order: a plot is left out when its data is absent. */
export function plotsFor(inputs: ReportInputs): Plot[] {
  const plots: Plot[] = [];
  const training = inputs.training ?? [];
  if (training.some((p) => p.loss !== undefined)) plots.push({ id: 'loss', spec: lossChart(training) });
  if (training.some((p) => p.validRecall10 !== undefined)) plots.push({ id: 'valid-recall', spec: validRecallChart(training) });
  if (inputs.codebook?.levels.length) plots.push({ id: 'codebook', spec: codebookUsageChart(inputs.codebook.levels) });
  if (inputs.codebook?.bucketCounts && Object.keys(inputs.codebook.bucketCounts).length) {
    plots.push({ id: 'collisions', spec: collisionChart(inputs.codebook.bucketCounts) });
  }
  const names = metricNamesOf(inputs);
  if (inputs.methods?.length) plots.push({ id: 'baselines', spec: metricsChart('Ours against baselines', inputs.methods, names) });
  if (inputs.methods?.length && inputs.published?.length) {
    const publishedNames = names.filter((n) => inputs.published!.some((p) => p.metrics[n] !== undefined));
    plots.push({
      id: 'published',
      spec: metricsChart('Ours against published results', [...ourRows(inputs.methods), ...inputs.published], publishedNames),
    });
  }
  return plots;
}

function metricNamesOf(inputs: ReportInputs): string[] {
  if (inputs.metricNames) return inputs.metricNames;
  const first = inputs.methods?.[0]?.metrics ?? {};
  return Object.keys(first).filter((k) => /^(recall|ndcg)@\d+$/.test(k));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : Math.abs(v) < 1 && v !== 0 ? v.toFixed(4) : String(Math.round(v * 1000) / 1000);
}

function metricTable(methods: MethodScores[], names: string[], caption: string): string {
  const head = `<tr><th>method</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>`;
  const rows = methods.map((m) => `<tr><td>${escapeHtml(m.method)}</td>${names.map((n) => `<td>${fmt(m.metrics[n])}</td>`).join('')}</tr>`);
  return `<table><caption>${escapeHtml(caption)}</caption>${head}${rows.join('')}</table>`;
}

/** One row per domain, Recall@10 / NDCG@10 per method (the methods any domain has, in first-seen order). */
function domainTable(domains: NonNullable<ReportInputs['domains']>): string {
  const methods = [...new Set(Object.values(domains).flatMap((row) => Object.keys(row)))];
  const head = `<tr><th>domain</th>${methods.map((m) => `<th>${escapeHtml(m)} R@10</th><th>${escapeHtml(m)} N@10</th>`).join('')}</tr>`;
  const rows = Object.entries(domains).map(([name, row]) => `<tr><td>${escapeHtml(name)}</td>${methods.map((m) => `<td>${fmt(row[m]?.['recall@10'])}</td><td>${fmt(row[m]?.['ndcg@10'])}</td>`).join('')}</tr>`);
  return `<section><h2>Per domain</h2><table><caption>Each domain's users, ranked within their domain (test split of the run's eval)</caption>${head}${rows.join('')}</table></section>`;
}

const CSS = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em}.sub{color:#666;margin-top:0}section{margin:2em 0}figure{margin:1em 0;display:inline-block;vertical-align:top}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td:first-child,th:first-child{text-align:left}
caption{text-align:left;font-weight:600;padding:.3em 0}pre{background:#f6f6f6;padding:1em;overflow:auto}.recs li{margin:.4em 0}.muted{color:#777}`;

/** Renders the whole report page. Every plot is an inline `<svg>`. */
export async function renderReportHtml(inputs: ReportInputs): Promise<string> {
  const parts: string[] = [];
  const plots = plotsFor(inputs);
  const svgs = new Map<string, string>();
  for (const plot of plots) svgs.set(plot.id, await renderSvg(plot.spec));
  const figure = (id: string): string => (svgs.has(id) ? `<figure id="plot-${id}">${svgs.get(id)}</figure>` : '');

  parts.push(`<h1>${escapeHtml(inputs.title)}</h1>`);
  if (inputs.subtitle) parts.push(`<p class="sub">${escapeHtml(inputs.subtitle)}</p>`);

  const names = metricNamesOf(inputs);
  if (inputs.methods?.length) {
    parts.push('<section><h2>Metrics</h2>');
    parts.push(metricTable(inputs.methods, names, 'Leave-one-out, full catalog'));
    parts.push(figure('baselines'));
    if (inputs.published?.length) {
      parts.push(metricTable([...ourRows(inputs.methods), ...inputs.published], names, 'Against published results (leave-one-out, full catalog; each row names its protocol)'));
      parts.push(figure('published'));
    }
    parts.push('</section>');
  }
  if (inputs.domains && Object.keys(inputs.domains).length) parts.push(domainTable(inputs.domains));
  if (svgs.has('loss') || svgs.has('valid-recall')) {
    parts.push(`<section><h2>Training</h2>${figure('loss')}${figure('valid-recall')}</section>`);
  }
  if (inputs.codebook) {
    const c = inputs.codebook;
    const facts = [
      c.distinctIds !== undefined ? `distinct IDs ${c.distinctIds}` : '',
      c.collisionRate !== undefined ? `collision rate ${(100 * c.collisionRate).toFixed(2)}%` : '',
      c.maxBucket !== undefined ? `largest bucket ${c.maxBucket}` : '',
    ].filter(Boolean).join(' · ');
    parts.push(`<section><h2>Semantic IDs</h2><p>${escapeHtml(facts)}</p>${figure('codebook')}${figure('collisions')}</section>`);
  }
  if (inputs.recommendations?.length) {
    const items = inputs.recommendations.map((r) => `<li><b>${escapeHtml(r.user)}</b><br><span class="muted">recent:</span> ${r.history.map(escapeHtml).join(' · ')}<br><span class="muted">recommended:</span> ${r.items.map(escapeHtml).join(' · ')}</li>`);
    parts.push(`<section><h2>Sample recommendations</h2><ul class="recs">${items.join('')}</ul></section>`);
  }
  if (inputs.stages?.length) {
    const rows = inputs.stages.map((s) => `<tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.status)}</td><td>${s.seconds.toFixed(1)}</td></tr>`);
    parts.push(`<section><h2>Stages</h2><table><tr><th>stage</th><th>status</th><th>seconds</th></tr>${rows.join('')}</table></section>`);
  }
  if (inputs.config !== undefined) {
    parts.push(`<section><details><summary>Resolved config</summary><pre>${escapeHtml(JSON.stringify(inputs.config, null, 2))}</pre></details></section>`);
  }
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(inputs.title)}</title><style>${CSS}</style></head><body>\n${parts.join('\n')}\n</body></html>\n`;
}

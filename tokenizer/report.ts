// Codebook health: per position, how many codes are used and how evenly (perplexity); overall, how
// many items share an ID. Printed as a table by `semid tokenize report`.
import { collisionStats, type CollisionStats } from './collisions.js';
import { formatDomainCodeReport, type DomainCodeReport } from './domainReport.js';
import type { FitReport, LevelReport, SemanticIds, TrainingPoint } from './types.js';

export interface TokenizerReport extends CollisionStats {
  method: string;
  /** Health of each code position before disambiguation. */
  levels: LevelReport[];
  /** Health of the disambiguation position (absent without one). */
  disambiguation?: LevelReport;
  /** Mean ||x - decode(encode(x))||^2 per item, and relative to the data's spread. */
  reconstruction: number | null;
  relativeReconstruction: number | null;
  fitSeconds: number | null;
  curve?: TrainingPoint[];
  details?: Record<string, unknown>;
  /** Multi-domain data: code usage per domain and first-level codes shared between domains. */
  domains?: DomainCodeReport;
}

/** Usage and perplexity of position `l` of `ids`. */
export function levelReport(ids: SemanticIds, l: number): LevelReport {
  const width = ids.levels.length;
  const size = ids.levels[l];
  const rows = ids.codes.length / width;
  const counts = new Map<number, number>();
  for (let r = 0; r < rows; r++) {
    const c = ids.codes[r * width + l];
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let entropy = 0;
  for (const n of counts.values()) {
    const p = n / rows;
    entropy -= p * Math.log(p);
  }
  return { size, used: counts.size, usage: size ? counts.size / size : 0, perplexity: Math.exp(entropy), dead: size - counts.size };
}

/**
 * The report of `ids` (with the disambiguation position when `disambiguated`), plus what fit measured.
 */
export function buildReport(method: string, ids: SemanticIds, disambiguated: boolean, fit?: FitReport): TokenizerReport {
  const base = disambiguated ? ids.levels.length - 1 : ids.levels.length;
  const width = ids.levels.length;
  const rows = ids.codes.length / width;
  const baseCodes = new Int32Array(rows * base);
  for (let r = 0; r < rows; r++) baseCodes.set(ids.codes.subarray(r * width, r * width + base), r * base);
  const baseIds = { levels: ids.levels.slice(0, base), codes: baseCodes };
  return {
    method,
    ...collisionStats(baseIds),
    levels: Array.from({ length: base }, (_, l) => levelReport(baseIds, l)),
    ...(disambiguated ? { disambiguation: levelReport(ids, base) } : {}),
    reconstruction: fit ? fit.reconstruction : null,
    relativeReconstruction: fit ? fit.relativeReconstruction : null,
    fitSeconds: fit ? fit.seconds : null,
    ...(fit?.curve ? { curve: fit.curve } : {}),
    ...(fit?.details ? { details: fit.details } : {}),
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const num = (v: number | null | undefined) => (v === null || v === undefined ? '-' : Math.abs(v) >= 1000 || v === 0 ? v.toFixed(0) : v.toPrecision(4));

/** The report as text: a table of positions, the ID-level figures, and the training curve if any. */
export function formatReport(report: TokenizerReport): string {
  const rows = report.levels.map((l, i) => [`${i}`, `${l.size}`, `${l.used}`, pct(l.usage), l.perplexity.toFixed(1), `${l.dead}`]);
  if (report.disambiguation) {
    const d = report.disambiguation;
    rows.push(['dedup', `${d.size}`, `${d.used}`, pct(d.usage), d.perplexity.toFixed(2), `${d.dead}`]);
  }
  const out = [
    `tokenizer ${report.method}: ${report.items} items`,
    '',
    table(['level', 'size', 'used', 'usage', 'perplexity', 'dead'], rows),
    '',
    `distinct IDs        ${report.distinctIds} / ${report.items}`,
    `collision rate      ${pct(report.collisionRate)} (items sharing an earlier item's codes, before disambiguation)`,
    `colliding items     ${pct(report.collidingItems)}`,
    `largest bucket      ${report.maxBucket}`,
    `reconstruction      ${num(report.reconstruction)} (mean squared error per item; relative ${report.relativeReconstruction === null ? '-' : pct(report.relativeReconstruction)})`,
    `fit time            ${report.fitSeconds === null ? '-' : `${report.fitSeconds.toFixed(1)} s`}`,
  ];
  if (report.domains) out.push('', ...formatDomainCodeReport(report.domains));
  if (report.curve && report.curve.length) {
    const step = Math.max(1, Math.ceil(report.curve.length / 12));
    const shown = report.curve.filter((_, i) => i % step === 0 || i === report.curve!.length - 1);
    out.push('', 'training curve', table(
      ['epoch', 'loss', 'reconstruction', 'level-0 used', 'restarts'],
      shown.map((p) => [`${p.epoch}`, num(p.loss), num(p.reconstruction), p.firstLevelUsed === undefined ? '-' : `${p.firstLevelUsed}`, p.restarts === undefined ? '-' : `${p.restarts}`]),
    ));
  }
  return out.join('\n');
}

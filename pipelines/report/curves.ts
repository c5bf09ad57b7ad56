// `semid report curves`: validation Recall@10 of several training runs against wall time, as one SVG chart and a
// JSON table, from each model directory's JSONL metrics (the trainer's `time` stamps). Wall time counts from the
// run's first logged step and includes validation; the time a resumed run was stopped is left out (the trainer
// logs a `resume` row where it picks up). A run may also be the JSONL log of a reference script
// (`../shared/reference/sasrec_ref.py`: `{"epoch", "trainSeconds", "valid": {"recall@10", ...}}` per evaluation), so
// a PyTorch baseline's curve sits in the same chart; its hours are the script's own training seconds.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../tokenizer/io/index.js';
import { recallCurveChart, type CurvePoint } from './charts.js';
import { jsonlRows } from './jsonl.js';
import { renderSvg } from './render.js';

export interface CurveRun {
  label: string;
  modelDir: string;
}

export interface CurveRow extends CurvePoint {
  ndcg10?: number;
}

/** The validation points of one run's metrics log (JSONL text); `source` names it in errors. */
export function parseValidationCurve(label: string, text: string, source: string): CurveRow[] {
  const rows: CurveRow[] = [];
  let trainedMs = 0;
  let last: number | null = null;
  for (const row of jsonlRows(text)) {
    const t = Date.parse(String(row.time));
    if (!Number.isFinite(t)) continue;
    if (last !== null && t > last && row.kind !== 'resume') trainedMs += t - last;
    last = t;
    if (row.kind === 'valid' && typeof row['recall@10'] === 'number') {
      rows.push({
        run: label, step: Number(row.step), hours: trainedMs / 3_600_000, recall10: row['recall@10'] as number,
        ...(typeof row['ndcg@10'] === 'number' ? { ndcg10: row['ndcg@10'] as number } : {}),
      });
    }
  }
  if (rows.length === 0) throw new Error(`${source}: no validation rows with recall@10 (train with --eval-every N and --valid-users > 0)`);
  return rows;
}

/** The validation points of a reference script's JSONL log: one row per `{"epoch", "trainSeconds", "valid"}`
 *  line (the epoch is the step); other lines (the header, the final test line) are skipped. */
export function parseReferenceCurve(label: string, text: string, source: string): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const row of jsonlRows(text)) {
    const valid = row.valid as Record<string, unknown> | undefined;
    if (!valid || typeof valid['recall@10'] !== 'number' || typeof row.trainSeconds !== 'number') continue;
    rows.push({
      run: label, step: Number(row.epoch ?? rows.length + 1), hours: (row.trainSeconds as number) / 3600,
      recall10: valid['recall@10'] as number, ...(typeof valid['ndcg@10'] === 'number' ? { ndcg10: valid['ndcg@10'] as number } : {}),
    });
  }
  if (rows.length === 0) throw new Error(`${source}: no lines with "trainSeconds" and "valid": {"recall@10": ...} (a reference script's log, e.g. sasrec_ref.py's stdout)`);
  return rows;
}

/** One run's rows: a model directory's `metrics.jsonl`, or a reference script's JSONL log given as a file. */
async function readCurve(run: CurveRun): Promise<CurveRow[]> {
  let isFile = false;
  try {
    isFile = (await stat(run.modelDir)).isFile();
  } catch { /* reported below, by the read */ }
  const path = isFile ? run.modelDir : join(run.modelDir, 'metrics.jsonl');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`--run ${run.label}=${run.modelDir}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return isFile ? parseReferenceCurve(run.label, text, path) : parseValidationCurve(run.label, text, path);
}

/** Reads every run's curve, writes OUT.svg and OUT.json (atomically), returns the rows. */
export async function writeRecallCurves(runs: CurveRun[], out: string): Promise<CurveRow[]> {
  if (runs.length === 0) throw new Error('report curves: give at least one --run LABEL=MODELDIR');
  const rows: CurveRow[] = [];
  for (const run of runs) rows.push(...(await readCurve(run)));
  const base = out.replace(/\.(svg|json)$/, '');
  await writeFileAtomic(`${base}.svg`, await renderSvg(recallCurveChart(rows)));
  await writeFileAtomic(`${base}.json`, `${JSON.stringify({ runs, points: rows }, null, 2)}\n`);
  return rows;
}

/** `LABEL=DIR` -> a run; the label names the line. */
export function parseCurveRun(spec: string): CurveRun {
  const at = spec.indexOf('=');
  if (at <= 0 || at === spec.length - 1) throw new Error(`--run "${spec}": expected LABEL=MODELDIR`);
  return { label: spec.slice(0, at), modelDir: spec.slice(at + 1) };
}

// The PyTorch references (../shared/reference/): tiger_ref.py (the same TIGER model trained and decoded by plain
// PyTorch) and sasrec_ref.py (SASRec-CE trained and evaluated on real data), on the same cores. Run one
// configuration at a time, right after semid's own measurement, so both see the same machine; their JSON-lines
// records are kept whole in the result file.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds } from './measure.js';
import type { ReferenceRecord, ReferenceScript } from './types.js';

/** Debian's python3-torch installs for this interpreter only. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** tiger_ref.py: the train, decode and kmeans suites' reference; records through `--out FILE`. */
export const TIGER_REFERENCE: ReferenceScript = { file: 'tiger_ref.py', records: 'out-file' };
/** sasrec_ref.py: SASRec-CE on real data; prints its records (one JSON line per evaluation) on stdout. */
export const SASREC_REFERENCE: ReferenceScript = { file: 'sasrec_ref.py', records: 'stdout' };

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** tiger_ref.py: SEMID_TORCH_REF, else ../shared/reference/ beside the repository. */
export function defaultReferenceScript(): string {
  return process.env.SEMID_TORCH_REF ?? join(REPO_ROOT, '..', 'shared', 'reference', 'tiger_ref.py');
}

/** The folder of the other reference scripts: SEMID_TORCH_REF_DIR, else tiger_ref.py's folder. */
export function defaultReferenceDir(tigerScript = defaultReferenceScript()): string {
  return process.env.SEMID_TORCH_REF_DIR ?? dirname(tigerScript);
}

/** Where a suite's script is: tiger_ref.py at its own path (--reference-script), others in the reference folder. */
export function referenceScriptPath(script: ReferenceScript, where: { tigerScript: string; dir: string }): string {
  return script.file === TIGER_REFERENCE.file ? where.tigerScript : join(where.dir, script.file);
}

export interface ReferenceStatus {
  available: boolean;
  /** Why not, in words a user can act on. */
  reason: string | null;
  python: string;
  /** The scripts checked (each present when `available`). */
  scripts: string[];
  torch: string | null;
}

/** Whether the references can run: every script exists and `python -c "import torch"` works. */
export function referenceStatus(python = DEFAULT_PYTHON, scripts: string[] = [defaultReferenceScript()]): ReferenceStatus {
  const base = { python, scripts, torch: null };
  const absent = scripts.find((s) => !existsSync(s));
  if (absent) {
    return { ...base, available: false, reason: `the PyTorch reference script ${absent} is absent (set SEMID_TORCH_REF to tiger_ref.py, SEMID_TORCH_REF_DIR to the folder of the others)` };
  }
  if (!existsSync(python)) {
    return { ...base, available: false, reason: `${python} is absent (the reference runs on Debian's python3 with python3-torch)` };
  }
  const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (probe.status !== 0) {
    const why = (probe.stderr || probe.error?.message || '').trim().split('\n').pop() ?? 'unknown error';
    return { ...base, available: false, reason: `${python} cannot import torch (${why}): apt-get install -y python3-torch python3-numpy python3-sklearn` };
  }
  return { ...base, available: true, reason: null, torch: probe.stdout.trim() };
}

export interface ReferenceResult {
  argv: string[];
  records: ReferenceRecord[];
  /** Seconds from the start until each record's line arrived (`stdout` scripts; null for `out-file`). */
  arrivalSeconds: number[] | null;
  /** The script's CPU seconds when each record arrived (`stdout` scripts, Linux; null entries where unknown). */
  cpuSeconds: (number | null)[] | null;
  wallSeconds: number;
  /** Set when the run failed: the records may then be partial. */
  error: string | null;
}

/** Parses JSON lines; a line that is not JSON fails naming the script and the line. */
function parseRecords(text: string, script: string): ReferenceRecord[] {
  return text.split('\n').filter((l) => l.trim()).map((l) => {
    try {
      return JSON.parse(l) as ReferenceRecord;
    } catch {
      throw new Error(`${script} printed a line that is not JSON: ${l.slice(0, 200)}`);
    }
  });
}

/**
 * Runs `python script args` and returns its JSON records: from `--out FILE` (`out-file` scripts) or from its
 * standard output, each stamped with when it arrived (`stdout` scripts). Its stderr goes to ours unless `quiet`.
 */
export async function runReference(
  script: ReferenceScript, path: string, args: string[], status: ReferenceStatus, opts: { quiet?: boolean; timeoutSeconds?: number } = {},
): Promise<ReferenceResult> {
  const dir = await mkdtemp(join(tmpdir(), 'semid-bench-ref-'));
  const out = join(dir, 'records.jsonl');
  const toFile = script.records === 'out-file';
  const argv = [path, ...args, ...(toFile ? ['--out', out] : [])];
  const t0 = performance.now();
  let error: string | null = null;
  let stderrTail = '';
  let stdout = '';
  const lines: { line: string; seconds: number; cpu: number | null }[] = [];
  try {
    const code = await new Promise<number | null>((resolvePromise, reject) => {
      const child = spawn(status.python, argv, { stdio: ['ignore', toFile ? 'ignore' : 'pipe', 'pipe'] });
      const timer = opts.timeoutSeconds ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutSeconds * 1000) : null;
      child.stdout?.on('data', (chunk: Buffer) => {
        const seconds = (performance.now() - t0) / 1000;
        const cpu = child.pid === undefined ? null : processCpuSeconds(child.pid);
        stdout += chunk.toString();
        let nl;
        while ((nl = stdout.indexOf('\n')) >= 0) {
          const line = stdout.slice(0, nl);
          stdout = stdout.slice(nl + 1);
          if (line.trim()) lines.push({ line, seconds, cpu });
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        stderrTail = (stderrTail + text).slice(-2000);
        if (!opts.quiet) process.stderr.write(text);
      });
      child.on('error', reject);
      child.on('close', (c) => {
        if (timer) clearTimeout(timer);
        resolvePromise(c);
      });
    });
    if (stdout.trim()) lines.push({ line: stdout, seconds: (performance.now() - t0) / 1000, cpu: null });
    if (code !== 0) error = `${status.python} ${argv.join(' ')} exited with ${code}: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}`;
    let records: ReferenceRecord[] = [];
    let arrivalSeconds: number[] | null = null;
    let cpuSeconds: (number | null)[] | null = null;
    try {
      if (toFile) {
        let text = '';
        try {
          text = await readFile(out, 'utf8');
        } catch {
          error ??= `${path} wrote no records`;
        }
        records = parseRecords(text, path);
      } else {
        records = parseRecords(lines.map((l) => l.line).join('\n'), path);
        arrivalSeconds = lines.map((l) => l.seconds);
        cpuSeconds = lines.map((l) => l.cpu);
        if (records.length === 0) error ??= `${path} printed no records`;
      }
    } catch (err) {
      error ??= (err as Error).message;
    }
    return { argv: [status.python, ...argv.slice(0, toFile ? -2 : argv.length)], records, arrivalSeconds, cpuSeconds, wallSeconds: (performance.now() - t0) / 1000, error };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads a nested number from a reference record (`seq_per_s.median`), or throws naming the path. */
export function recordNumber(record: ReferenceRecord, path: string): number {
  let v: unknown = record;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`reference record (${record.bench ?? JSON.stringify(record).slice(0, 60)}) has no number at ${path}`);
  return v;
}

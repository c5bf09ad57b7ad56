// The PyTorch reference (../shared/reference/tiger_ref.py): the same TIGER model trained and decoded by
// plain PyTorch on the same cores. Run one configuration at a time, right after semid's own measurement,
// so both see the same machine; its JSON-lines records are kept whole in the result file.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReferenceRecord } from './types.js';

/** Debian's python3-torch installs for this interpreter only. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** tiger_ref.py: SEMID_TORCH_REF, else ../shared/reference/ beside the repository. */
export function defaultReferenceScript(): string {
  return process.env.SEMID_TORCH_REF ?? join(REPO_ROOT, '..', 'shared', 'reference', 'tiger_ref.py');
}

export interface ReferenceStatus {
  available: boolean;
  /** Why not, in words a user can act on. */
  reason: string | null;
  python: string;
  script: string;
  torch: string | null;
}

/** Whether the reference can run: the script exists and `python -c "import torch"` works. */
export function referenceStatus(python = DEFAULT_PYTHON, script = defaultReferenceScript()): ReferenceStatus {
  const base = { python, script, torch: null };
  if (!existsSync(script)) {
    return { ...base, available: false, reason: `the PyTorch reference script ${script} is absent (set SEMID_TORCH_REF to its path)` };
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
  wallSeconds: number;
  /** Set when the run failed: the records may then be partial. */
  error: string | null;
}

/** Runs tiger_ref.py with `args` and returns its JSON records. Its stderr goes to ours unless `quiet`. */
export async function runReference(args: string[], status: ReferenceStatus, opts: { quiet?: boolean; timeoutSeconds?: number } = {}): Promise<ReferenceResult> {
  const dir = await mkdtemp(join(tmpdir(), 'semid-bench-ref-'));
  const out = join(dir, 'records.jsonl');
  const argv = [status.script, ...args, '--out', out];
  const t0 = performance.now();
  let error: string | null = null;
  let stderrTail = '';
  try {
    const code = await new Promise<number | null>((resolvePromise, reject) => {
      const child = spawn(status.python, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      const timer = opts.timeoutSeconds ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutSeconds * 1000) : null;
      child.stderr.on('data', (chunk: Buffer) => {
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
    if (code !== 0) error = `${status.python} ${argv.join(' ')} exited with ${code}: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}`;
    let text = '';
    try {
      text = await readFile(out, 'utf8');
    } catch {
      error ??= `${status.script} wrote no records`;
    }
    const records = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ReferenceRecord);
    return { argv: [status.python, ...argv.slice(0, -2)], records, wallSeconds: (performance.now() - t0) / 1000, error };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads a nested number from a reference record (`seq_per_s.median`), or throws naming the path. */
export function recordNumber(record: ReferenceRecord, path: string): number {
  let v: unknown = record;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`reference record (${record.bench}) has no number at ${path}`);
  return v;
}

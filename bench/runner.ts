// `semid bench`: runs each suite variant in a child process (its own backend and peak memory), then the
// PyTorch reference for the same configurations right after, compares, writes bench/results/<suite>.json
// atomically and prints a table.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '../tokenizer/io/index.js';
import { describeWebGpuAdapter } from '../seq2seq/index.js';
import type { ChildRequest, ChildResult } from './child.js';
import { defaultDataDir } from './datasets.js';
import { formatNumber, machineInfo, round, type MachineInfo } from './measure.js';
import {
  DEFAULT_PYTHON, defaultReferenceDir, defaultReferenceScript, referenceScriptPath, referenceStatus, runReference, TIGER_REFERENCE, type ReferenceStatus,
} from './reference.js';
import { getSuite, SUITE_NAMES } from './suites.js';
import type { Figure, ReferenceRecord, Suite, Variant } from './types.js';

/** Where the reference scripts are: tiger_ref.py's path and the folder of the others. */
interface ReferencePlaces {
  tigerScript: string;
  dir: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_RESULTS_DIR = join(HERE, 'results');

export interface BenchOptions {
  /** Suite names (default: all, in order). */
  suites?: string[];
  /** Tiny sizes: every suite in seconds (tests); no reference unless `withReference` is true. */
  quick?: boolean;
  /** Where <suite>.json goes (default bench/results). */
  out?: string;
  /** Run the PyTorch reference (default: when /usr/bin/python3 imports torch, and not --quick). */
  withReference?: boolean;
  python?: string;
  /** tiger_ref.py (default SEMID_TORCH_REF, else ../shared/reference/tiger_ref.py). */
  referenceScript?: string;
  /** The folder of the other reference scripts, e.g. sasrec_ref.py (default SEMID_TORCH_REF_DIR, else tiger_ref.py's folder). */
  referenceDir?: string;
  /** Public data folder (default: SEMID_DATA_DIR, else ../shared/data). */
  dataDir?: string | null;
  /** Also run train/decode with the threaded SIMD wasm build, 2 threads (default true). */
  threads?: boolean;
  /** Also run train/decode on webgpu when an adapter is present (default true). */
  webgpu?: boolean;
  /** Kill a variant after this many seconds (default 3600; 300 with --quick). */
  timeoutSeconds?: number;
  /** Child output is captured instead of shown, and the table is not printed. */
  quiet?: boolean;
  /** Where the table goes (default stdout). */
  print?: (text: string) => void;
}

/** One child process: a variant (backend) and a part of the suite (a preset), or the whole suite. */
export interface VariantResult extends ChildResult {
  id: string;
  part: string | null;
  label: string;
  env: Record<string, string>;
}

export interface Comparison {
  key: string;
  label: string;
  variant: string;
  part: string | null;
  backend: string;
  unit: string;
  semid: number;
  reference: number;
  /** semid's speed over PyTorch's: > 1 means semid is faster (inverted for times). */
  speedRatio: number;
}

export interface SuiteResult {
  suite: string;
  describe: string;
  quick: boolean;
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: { start: MachineInfo; loadavgEnd: number[]; note: string };
  variants: VariantResult[];
  reference: {
    measured: boolean;
    /** Why the reference was not measured, when it was not. */
    reason: string | null;
    torch: string | null;
    runs: { argv: string[]; wallSeconds: number; error: string | null; records: ReferenceRecord[]; arrivalSeconds?: number[]; cpuSeconds?: (number | null)[]; figures: Figure[] }[];
  };
  comparisons: Comparison[];
}

const MACHINE_NOTE = 'timings depend on what else runs: see machine.start.loadavg and each variant\'s load.otherCoresBusy (cores busy with other processes while it ran; 0 = quiet)';

/** Runs the suites and returns their results (also written to `out`). */
export async function runBench(options: BenchOptions = {}): Promise<SuiteResult[]> {
  const names = options.suites && options.suites.length > 0 ? options.suites : SUITE_NAMES;
  const suites = names.map(getSuite); // unknown names fail before anything runs
  const quick = options.quick ?? false;
  const out = resolve(options.out ?? DEFAULT_RESULTS_DIR);
  const print = options.print ?? ((t: string) => process.stdout.write(t));
  const dataDir = options.dataDir === undefined ? defaultDataDir() : options.dataDir;
  const status = await decideReference(options, quick, suites);
  const webgpu = await webgpuVariant(options, suites);
  await mkdir(out, { recursive: true });
  const results: SuiteResult[] = [];
  for (const suite of suites) {
    const result = await runSuite(suite, { ...options, quick, dataDir }, status, webgpu);
    await writeJsonAtomic(join(out, `${suite.name}.json`), result);
    results.push(result);
    if (!options.quiet) print(`${formatSuite(result)}\n  -> ${join(out, `${suite.name}.json`)}\n\n`);
  }
  return results;
}

/** The references' status, with the reason they will not run when they will not. */
async function decideReference(options: BenchOptions, quick: boolean, suites: Suite[]): Promise<ReferenceStatus & { run: boolean; places: ReferencePlaces }> {
  const python = options.python ?? DEFAULT_PYTHON;
  const tigerScript = options.referenceScript ?? defaultReferenceScript();
  const places = { tigerScript, dir: options.referenceDir ?? defaultReferenceDir(tigerScript) };
  const withReference = suites.filter((s) => s.reference);
  const scripts = [...new Set(withReference.map((s) => referenceScriptPath(s.referenceScript ?? TIGER_REFERENCE, places)))];
  const none = (reason: string) => ({ available: false, reason, python, scripts, torch: null, run: false, places });
  if (withReference.length === 0) return none('no PyTorch reference for this suite');
  if (options.withReference === false) return none('not requested (--no-with-reference)');
  if (quick && options.withReference !== true) return none('not run with --quick (pass --with-reference to force)');
  const status = referenceStatus(python, scripts);
  if (!status.available && options.withReference === true) {
    throw new Error(`--with-reference: the PyTorch reference cannot run: ${status.reason}`);
  }
  return { ...status, run: status.available, places };
}

async function webgpuVariant(options: BenchOptions, suites: Suite[]): Promise<Variant | { none: string }> {
  if (options.webgpu === false) return { none: 'webgpu variant not requested' };
  if (!suites.some((s) => s.webgpuVariant)) return { none: 'no suite here runs on webgpu' };
  const requested = process.env.SEMID_BACKEND;
  if (requested && requested !== 'wasm' && requested !== 'webgpu') return { none: `backend forced to ${requested}` };
  let adapter;
  try {
    adapter = await describeWebGpuAdapter();
  } catch (err) {
    return { none: `webgpu probe failed: ${(err as Error).message}` };
  }
  if (!adapter) return { none: 'no WebGPU adapter (see `semid doctor`)' };
  return {
    id: 'webgpu', label: `webgpu, ${adapter.software ? 'software' : 'hardware'} adapter "${adapter.name}"`,
    env: { SEMID_BACKEND: 'webgpu' }, reduced: adapter.software,
  };
}

function variantsOf(suite: Suite, options: BenchOptions, webgpu: Variant | { none: string }): Variant[] {
  const requested = process.env.SEMID_BACKEND;
  const variants: Variant[] = [{ id: 'default', label: suite.usesBackend ? (requested ? `--backend ${requested}` : 'default backend') : 'no tfjs', env: {} }];
  if (!suite.usesBackend) return variants;
  if (suite.threadsVariant && options.threads !== false && (!requested || requested === 'wasm')) {
    variants.push({ id: 'wasm-threads2', label: 'wasm, threaded SIMD, 2 threads', env: { SEMID_BACKEND: 'wasm', SEMID_WASM_THREADS: '2' } });
  }
  if (suite.webgpuVariant && 'id' in webgpu && requested !== 'webgpu') variants.push(webgpu);
  return variants;
}

async function runSuite(
  suite: Suite, options: BenchOptions & { quick: boolean; dataDir: string | null }, status: ReferenceStatus & { run: boolean; places: ReferencePlaces }, webgpu: Variant | { none: string },
): Promise<SuiteResult> {
  const startedAt = new Date().toISOString();
  const start = machineInfo();
  const variants: VariantResult[] = [];
  const cacheDir = await mkdtemp(join(tmpdir(), `semid-bench-${suite.name}-cache-`));
  try {
    for (const variant of variantsOf(suite, options, webgpu)) {
      const listed = suite.parts ? suite.parts({ quick: options.quick }, variant) : [];
      const parts: (string | undefined)[] = listed.length > 0 ? listed : [undefined];
      for (const part of parts) {
        if (!options.quiet) process.stderr.write(`bench ${suite.name}${part ? ` ${part}` : ''}: ${variant.label}${options.quick ? ' (--quick)' : ''}...\n`);
        variants.push(await runVariant(suite, variant, part, cacheDir, options));
      }
    }
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
  const notRun = 'none' in webgpu && suite.webgpuVariant ? [`webgpu: ${webgpu.none}`] : [];
  if (notRun.length) variants[0].notes = [...(variants[0].notes ?? []), ...notRun];
  const reference: SuiteResult['reference'] = { measured: false, reason: status.reason, torch: status.torch, runs: [] };
  if (!suite.reference) {
    reference.reason = 'no PyTorch reference for this suite';
  } else if (status.run) {
    await runReferences(suite, variants, options, status, reference);
  }
  return {
    suite: suite.name, describe: suite.describe, quick: options.quick, command: process.argv.slice(1).join(' '),
    startedAt, finishedAt: new Date().toISOString(), machine: { start, loadavgEnd: machineInfo().loadavg, note: MACHINE_NOTE },
    variants, reference, comparisons: compare(variants, reference.runs.flatMap((r) => r.figures)),
  };
}

/** The thread count of a variant's backend (wasm says `threads=N`), or null. */
function variantThreads(v: VariantResult | undefined): number | null {
  const m = /threads=(\d+)/.exec(v?.backend?.detail ?? '');
  return m ? Number(m[1]) : null;
}

/** Runs the suite's reference configurations one after the other and keeps their records and figures. */
async function runReferences(
  suite: Suite, variants: VariantResult[], options: BenchOptions & { quick: boolean; dataDir: string | null },
  status: ReferenceStatus & { places: ReferencePlaces }, reference: SuiteResult['reference'],
): Promise<void> {
  const script = suite.referenceScript ?? TIGER_REFERENCE;
  const path = referenceScriptPath(script, status.places);
  const workDir = await mkdtemp(join(tmpdir(), `semid-bench-${suite.name}-ref-`));
  try {
    const threads = variantThreads(variants.find((v) => v.id === 'default'));
    const runs = await suite.reference!({ quick: options.quick, dataDir: options.dataDir, threads, workDir });
    for (const run of runs) {
      if (!options.quiet) process.stderr.write(`bench ${suite.name}: PyTorch reference ${script.file} ${run.args.join(' ')}...\n`);
      // --timeout bounds semid's child processes; the reference gets at least an hour (tiger under load is slow).
      const r = await runReference(script, path, run.args, status, { quiet: options.quiet, timeoutSeconds: Math.max(options.timeoutSeconds ?? 0, 3600) });
      let figures: Figure[] = [];
      try {
        figures = run.figures(r.records, { arrivalSeconds: r.arrivalSeconds, cpuSeconds: r.cpuSeconds });
      } catch (err) {
        r.error ??= (err as Error).message;
      }
      reference.runs.push({
        argv: r.argv, wallSeconds: round(r.wallSeconds, 2), error: r.error, records: r.records,
        ...(r.arrivalSeconds ? { arrivalSeconds: r.arrivalSeconds.map((x) => round(x, 3)) } : {}),
        ...(r.cpuSeconds ? { cpuSeconds: r.cpuSeconds.map((x) => (x === null ? null : round(x, 2))) } : {}), figures,
      });
    }
    reference.measured = reference.runs.some((r) => r.figures.length > 0);
    reference.reason = reference.measured ? null
      : runs.length === 0 ? 'the suite has no reference run for these options (see its notes)' : 'the reference ran but gave no figures (see runs[].error)';
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

const CHILD = join(HERE, 'child.ts');

async function runVariant(
  suite: Suite, variant: Variant, part: string | undefined, cacheDir: string, options: BenchOptions & { quick: boolean; dataDir: string | null },
): Promise<VariantResult> {
  const workDir = await mkdtemp(join(tmpdir(), `semid-bench-${suite.name}-`));
  const resultPath = join(workDir, 'result.json');
  const request: ChildRequest = { suite: suite.name, variant, options: { quick: options.quick, dataDir: options.dataDir, workDir, part, cacheDir }, resultPath };
  const timeout = options.timeoutSeconds ?? (options.quick ? 300 : 3600);
  let tail = '';
  try {
    const { code, timedOut } = await new Promise<{ code: number | null; timedOut: boolean }>((resolvePromise, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(request)], {
        env: { ...process.env, ...variant.env, SEMID_QUIET_BACKEND: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeout * 1000);
      // Kept for the error message when the child dies (a wasm abort prints only to its stderr).
      const keep = (chunk: Buffer): void => {
        tail = (tail + chunk.toString()).slice(-4000);
        if (!options.quiet) process.stderr.write(chunk);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      child.on('error', reject);
      child.on('close', (c) => { clearTimeout(timer); resolvePromise({ code: c, timedOut }); });
    });
    let result: ChildResult;
    try {
      result = JSON.parse(await readFile(resultPath, 'utf8')) as ChildResult;
    } catch {
      const why = timedOut ? `killed after ${timeout} s (timeout)` : `exited with ${code} before writing a result`;
      result = { backend: null, load: null, peakRssMiB: NaN, seconds: NaN, error: `${why}${tail ? `: ${tail.trim().split('\n').slice(-5).join(' | ')}` : ''}` };
    }
    return { id: variant.id, part: part ?? null, label: variant.label, env: variant.env, ...result };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Pairs every semid figure with the reference figure of the same key. */
export function compare(variants: VariantResult[], reference: Figure[]): Comparison[] {
  const out: Comparison[] = [];
  for (const v of variants) {
    for (const f of v.figures ?? []) {
      const ref = reference.find((r) => r.key === f.key);
      if (!ref || !(ref.value > 0) || !(f.value > 0)) continue;
      out.push({
        key: f.key, label: f.label, variant: v.id, part: v.part ?? null, backend: v.backend ? `${v.backend.name} (${v.backend.detail})` : v.label, unit: f.unit,
        semid: f.value, reference: ref.value, speedRatio: round(f.higherIsBetter ? f.value / ref.value : ref.value / f.value, 3),
      });
    }
  }
  return out;
}

function backendShort(v: VariantResult): string {
  if (!v.backend) return v.id === 'default' ? v.label : v.id;
  if (v.backend.name === 'wasm') {
    const threads = /threads=(\d+)/.exec(v.backend.detail)?.[1] ?? '1';
    return `wasm ${threads}t`;
  }
  if (v.backend.name === 'webgpu') return `webgpu (${/adapter "([^"]*)"/.exec(v.backend.detail)?.[1] ?? '?'})`;
  return v.backend.name;
}

/** The printed table of one suite. */
export function formatSuite(r: SuiteResult): string {
  const rows: string[][] = [['figure', 'backend', 'median', 'unit', 'runs: min..max', 'PyTorch', 'vs PyTorch', 'peak RSS']];
  for (const v of r.variants) {
    if (v.error) rows.push([`ERROR${v.part ? ` (${v.part})` : ''}: ${v.error.split('\n')[0].slice(0, 100)}`, backendShort(v), '', '', '', '', '', '']);
    for (const f of v.figures ?? []) {
      const cmp = r.comparisons.find((c) => c.key === f.key && c.variant === v.id && c.part === (v.part ?? null));
      const s = f.samples;
      rows.push([
        f.label, backendShort(v), formatNumber(f.value), f.unit,
        s && s.n > 1 ? `${formatNumber(s.min)}..${formatNumber(s.max)} s (n=${s.n})` : s ? `n=${s.n}` : '',
        cmp ? formatNumber(cmp.reference) : '', cmp ? `${cmp.speedRatio.toFixed(2)}x` : '', `${formatNumber(v.peakRssMiB)} MiB`,
      ]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  const lines = [`== ${r.suite}: ${r.describe}${r.quick ? ' [--quick]' : ''}`, line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)];
  const notes = new Set<string>();
  for (const v of r.variants) for (const n of v.notes ?? []) notes.add(`note (${v.id}): ${n}`);
  lines.push(...notes);
  const loads = r.variants.map((v) => `${v.id}${v.part ? `/${v.part}` : ''} ${v.load?.otherCoresBusy ?? '?'}`).join(', ');
  lines.push(`machine: ${r.machine.start.cpuModel}, ${r.machine.start.cores} cores, Node ${r.machine.start.node}; load average ${r.machine.start.loadavg.join(' ')}; cores busy with other processes: ${loads}`);
  if (r.reference.measured) {
    lines.push(`PyTorch reference (torch ${r.reference.torch}) measured in this run, right after semid; "vs PyTorch" = semid's speed / PyTorch's (> 1: semid faster)`);
  } else {
    lines.push(`PyTorch reference: not measured (${r.reference.reason})`);
  }
  for (const run of r.reference.runs) if (run.error) lines.push(`reference error: ${run.error}`);
  return lines.join('\n');
}

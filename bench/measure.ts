// Timing and machine-state helpers: medians of repeated runs after warm-up, the CPU that other processes
// used meanwhile (the machine may be shared), peak memory, and a description of the machine.
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Summary } from './types.js';

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('summarize: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1], n: sorted.length };
}

export interface RepeatOptions {
  /** Untimed calls first (JIT, allocation, caches). */
  warmup: number;
  /** Timed runs; the median is the figure. */
  runs: number;
  /** Calls per timed run (a run's time is divided by it). */
  callsPerRun?: number;
}

/** Seconds per call of `fn`, one value per run, after `warmup` untimed calls. */
export async function timeRepeated(fn: () => Promise<unknown> | unknown, opts: RepeatOptions): Promise<number[]> {
  const perRun = opts.callsPerRun ?? 1;
  for (let i = 0; i < opts.warmup; i++) await fn();
  const seconds: number[] = [];
  for (let r = 0; r < opts.runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRun; i++) await fn();
    seconds.push((performance.now() - t0) / 1000 / perRun);
  }
  return seconds;
}

/** Total busy CPU seconds of the machine (all cores) from /proc/stat; null off Linux. */
function machineBusySeconds(): { busy: number; steal: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]; // cpu user nice system idle iowait irq softirq steal ...
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const hz = 100; // USER_HZ is 100 on every Linux Node supports
    const busy = (f[0] + f[1] + f[2] + (f[5] ?? 0) + (f[6] ?? 0)) / hz;
    return { busy, steal: (f[7] ?? 0) / hz };
  } catch {
    return null;
  }
}

export interface LoadReport {
  /** Cores kept busy by other processes on average while this ran (0 = quiet machine). */
  otherCoresBusy: number | null;
  /** Hypervisor steal, in cores. */
  stealCores: number | null;
  loadavgStart: number[];
  loadavgEnd: number[];
  wallSeconds: number;
  /** CPU seconds of this process (all its threads) and of the child processes it waited for (a command it ran). */
  cpuSeconds: number;
}

/** Measures what else the machine did while a stretch of work ran (as the PyTorch reference does). */
export class LoadMeter {
  private readonly t0 = performance.now();
  private readonly cpu0 = process.cpuUsage();
  private readonly children0 = childrenCpuSeconds();
  private readonly machine0 = machineBusySeconds();
  private readonly load0 = loadavg();

  finish(): LoadReport {
    const wallSeconds = (performance.now() - this.t0) / 1000;
    const cpu = process.cpuUsage(this.cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6 + childrenCpuSeconds() - this.children0;
    const machine1 = machineBusySeconds();
    let otherCoresBusy: number | null = null;
    let stealCores: number | null = null;
    if (this.machine0 && machine1 && wallSeconds > 0) {
      otherCoresBusy = round(Math.max(0, machine1.busy - this.machine0.busy - cpuSeconds) / wallSeconds, 2);
      stealCores = round((machine1.steal - this.machine0.steal) / wallSeconds, 2);
    }
    return { otherCoresBusy, stealCores, loadavgStart: this.load0.map((x) => round(x, 2)), loadavgEnd: loadavg().map((x) => round(x, 2)), wallSeconds: round(wallSeconds, 3), cpuSeconds: round(cpuSeconds, 3) };
  }
}

/** CPU seconds of /proc/PID/stat's fields from utime on (utime, stime, cutime, cstime); null off Linux or once it is gone. */
function statCpuSeconds(pid: number | 'self'): number[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on; the name may hold spaces
    return f.slice(11, 15).map((x) => Number(x) / 100); // fields 14-17, in USER_HZ (100)
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, all threads) another process has used so far; null off Linux or once it is gone. */
export function processCpuSeconds(pid: number): number | null {
  const t = statCpuSeconds(pid);
  return t ? t[0] + t[1] : null;
}

/** CPU seconds of the child processes this process has waited for (cutime + cstime); 0 off Linux. */
function childrenCpuSeconds(): number {
  const t = statCpuSeconds('self');
  return t ? t[2] + t[3] : 0;
}

/** Peak resident memory of this process so far, MiB (VmHWM; maxRSS where /proc is absent). */
export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return round(Number(m[1]) / 1024, 1);
  } catch {
    // not Linux
  }
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

export interface MachineInfo {
  node: string;
  platform: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  loadavg: number[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpuModel: list[0]?.model?.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    loadavg: loadavg().map((x) => round(x, 2)),
  };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A figure's value for a table: 3 significant digits, no exponent for ordinary sizes. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

// `semid doctor`: what a user pastes into a bug report. The machine (Node, CPUs, memory), the versions of
// tfjs and of every backend package, which backends work here and which one is chosen (and why the others
// were skipped), the WebGPU adapter, the Vulkan driver, wasm SIMD/threads. Every probe is best effort:
// doctor reports a failure as a finding and never stops at one.
import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import {
  BACKEND_NAMES, findVulkanLoader, initBackend, listVulkanIcds, packageVersion, probeWebGpuAdapter,
  type BackendInfo, type BackendName, type VulkanIcd, type WebGpuAdapterProbe,
} from '../seq2seq/index.js';
import { semidVersion } from '../tokenizer/io/index.js';

/** Packages whose versions a bug report needs. */
export const DOCTOR_PACKAGES = [
  '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu',
] as const;

/** Environment variables that change the backend choice or the Vulkan driver. */
const RELEVANT_ENV = ['SEMID_BACKEND', 'SEMID_WASM_THREADS', 'VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'CUDA_VISIBLE_DEVICES', 'LD_LIBRARY_PATH'];

export interface BackendStatus {
  name: BackendName;
  /** Usable here (webgpu: an adapter exists; a software one is used only on request). */
  available: boolean;
  /** What was found, or why not. */
  detail: string;
}

/** One GPU as `vulkaninfo --summary` lists it. */
export interface VulkanDevice {
  deviceName: string;
  deviceType: string;
  driverName: string;
  driverInfo: string;
  apiVersion: string;
}

export interface DoctorReport {
  semid: string | null;
  node: { version: string; platform: string; arch: string };
  cpu: { count: number; model: string; memoryGiB: number };
  packages: Record<string, string | null>;
  backends: BackendStatus[];
  /** The backend semid uses with these options (null when none could start: see `chosenError`). */
  chosen: { name: BackendName; detail: string; request: string | null; skipped: string[] } | null;
  chosenError?: string;
  wasm: { simd: boolean | null; multithread: boolean | null; threads: number | null };
  webgpu: WebGpuAdapterProbe;
  vulkan: {
    /** Path of libvulkan.so.1; null: absent; undefined off Linux (no Vulkan needed). */
    loader: string | null | undefined;
    icds: VulkanIcd[];
    /** From `vulkaninfo --summary`; null when vulkaninfo is not installed or failed. */
    devices: VulkanDevice[] | null;
    /** Debian/Ubuntu packages of the driver (dpkg), when dpkg exists. */
    packages: Record<string, string | null> | null;
  };
  nvidia: string | null;
  env: Record<string, string>;
}

export interface DoctorOptions {
  /** Backend to choose (as `--backend`; default SEMID_BACKEND, else automatic). */
  backend?: string;
}

function run(command: string, args: string[], timeoutMs = 10000): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => resolve(err ? null : stdout));
  });
}

/** Parses the DEVICES part of `vulkaninfo --summary` (one block of `key = value` lines per GPU). */
export function parseVulkanSummary(text: string): VulkanDevice[] {
  const devices: VulkanDevice[] = [];
  const blocks = text.split(/^GPU\d+:\s*$/m).slice(1);
  for (const block of blocks) {
    const field = (key: string): string => block.match(new RegExp(`^\\s*${key}\\s*=\\s*(.*)$`, 'm'))?.[1].trim() ?? '';
    devices.push({
      deviceName: field('deviceName'), deviceType: field('deviceType'), driverName: field('driverName'),
      driverInfo: field('driverInfo'), apiVersion: field('apiVersion'),
    });
  }
  return devices;
}

async function tensorflowStatus(): Promise<BackendStatus> {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (packageVersion(pkg) === null) {
      failures.push(`${pkg} not installed`);
      continue;
    }
    try {
      require(pkg);
      return { name: 'tensorflow', available: true, detail: `${pkg} loads` };
    } catch (err) {
      failures.push(`${pkg} installed but fails to load: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { name: 'tensorflow', available: false, detail: failures.join('; ') };
}

function webgpuStatus(probe: WebGpuAdapterProbe): BackendStatus {
  if (!probe.ok) return { name: 'webgpu', available: false, detail: `${probe.failure}: ${probe.message}` };
  const a = probe.adapter;
  return {
    name: 'webgpu', available: true,
    detail: a.software
      ? `software adapter "${a.name}": used only on request (--backend webgpu), slower than wasm`
      : `hardware adapter "${a.name}": chosen automatically after tensorflow`,
  };
}

async function wasmStatus(active: boolean): Promise<{ status: BackendStatus; wasm: DoctorReport['wasm'] }> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return {
      status: { name: 'wasm', available: false, detail: `@tensorflow/tfjs-backend-wasm failed to load: ${(err as Error).message}` },
      wasm: { simd: null, multithread: null, threads: null },
    };
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const multithread = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  // The thread count is known once the backend has started; doctor does not start it only to count.
  const threads = active ? (multithread ? wasm.getThreadsCount() : 1) : null;
  const threadText = threads === null ? 'threads decided when it starts' : `threads=${threads}`;
  return { status: { name: 'wasm', available: true, detail: `simd=${simd}, multithread=${multithread}, ${threadText}` }, wasm: { simd, multithread, threads } };
}

/** Gathers the report. Starts the backend semid would use (so the choice shown is the real one). */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const request = options.backend ?? process.env.SEMID_BACKEND ?? null;
  let chosen: DoctorReport['chosen'] = null;
  let chosenError: string | undefined;
  try {
    const info: BackendInfo = await initBackend({ backend: request ?? undefined, quiet: true });
    chosen = { name: info.name, detail: info.detail, request, skipped: info.skipped };
  } catch (err) {
    chosenError = (err as Error).message;
  }
  const webgpu = await probeWebGpuAdapter();
  const wasm = await wasmStatus(chosen?.name === 'wasm');
  const backends: BackendStatus[] = [];
  for (const name of BACKEND_NAMES) {
    if (name === 'tensorflow') backends.push(await tensorflowStatus());
    else if (name === 'webgpu') backends.push(webgpuStatus(webgpu));
    else if (name === 'wasm') backends.push(wasm.status);
    else backends.push({ name: 'cpu', available: true, detail: 'pure JavaScript, always present; about 30x slower than wasm' });
  }

  const loader = findVulkanLoader();
  const summary = process.platform === 'linux' ? await run('vulkaninfo', ['--summary']) : null;
  let driverPackages: Record<string, string | null> | null = null;
  if (process.platform === 'linux') {
    const dpkg = await run('dpkg-query', ['-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\n', 'mesa-vulkan-drivers', 'libvulkan1']);
    if (dpkg !== null || (await run('dpkg-query', ['--version'])) !== null) {
      driverPackages = { 'mesa-vulkan-drivers': null, libvulkan1: null };
      for (const line of (dpkg ?? '').split('\n')) {
        const [pkg, version, status] = line.trim().split(/\s+/);
        if (pkg && version && status?.startsWith('ii')) driverPackages[pkg.replace(/:.*$/, '')] = version;
      }
    }
  }
  const nvidia = await run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']);

  const packages: Record<string, string | null> = {};
  for (const pkg of DOCTOR_PACKAGES) packages[pkg] = packageVersion(pkg);
  const env: Record<string, string> = {};
  for (const key of RELEVANT_ENV) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  const cpus = os.cpus();
  return {
    semid: semidVersion(),
    node: { version: process.version, platform: process.platform, arch: process.arch },
    cpu: { count: cpus.length, model: cpus[0]?.model.trim() ?? 'unknown', memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10 },
    packages,
    backends,
    chosen,
    ...(chosenError !== undefined ? { chosenError } : {}),
    wasm: wasm.wasm,
    webgpu,
    vulkan: { loader, icds: listVulkanIcds(), devices: summary === null ? null : parseVulkanSummary(summary), packages: driverPackages },
    nvidia: nvidia?.trim() || null,
    env,
  };
}

/** The report as text, one finding a line. */
export function formatDoctorReport(r: DoctorReport): string {
  const lines: string[] = [];
  const row = (key: string, value: string): void => { lines.push(`  ${key.padEnd(32)} ${value}`); };
  lines.push(`semid ${r.semid ?? '(version unknown)'} doctor`);
  row('node', `${r.node.version} (${r.node.platform} ${r.node.arch})`);
  row('cpus', `${r.cpu.count} x ${r.cpu.model}, ${r.cpu.memoryGiB} GiB memory`);
  row('your files', 'what is atomic, resumable and never overwritten: README.md, "What semid guarantees"');

  lines.push('packages');
  for (const [pkg, version] of Object.entries(r.packages)) row(pkg, version ?? 'not installed');

  lines.push(`backends (automatic order: ${r.backends.map((b) => b.name).join(', ')})`);
  for (const b of r.backends) row(b.name, `${b.available ? 'yes' : 'no '}  ${b.detail}`);
  if (r.chosen) {
    row('chosen', `${r.chosen.name} (${r.chosen.detail})${r.chosen.request ? ` on request "${r.chosen.request}"` : ''}`);
    for (const s of r.chosen.skipped) row('  skipped', s);
  } else {
    row('chosen', `none: ${r.chosenError ?? 'unknown error'}`);
  }
  row('wasm SIMD / threads', `${fmt(r.wasm.simd)} / ${r.wasm.threads ?? (r.wasm.multithread ? 'multithread build' : fmt(r.wasm.multithread))}`);

  lines.push('webgpu adapter');
  if (r.webgpu.ok) {
    const a = r.webgpu.adapter;
    row('description', a.description || '(none)');
    row('vendor / architecture / device', `${a.vendor || '?'} / ${a.architecture || '?'} / ${a.device || '?'}`);
    row('isFallbackAdapter', `${a.isFallbackAdapter}${a.software ? ' (software: used only with --backend webgpu)' : ''}`);
    for (const [key, value] of Object.entries(a.limits)) row(key, String(value));
  } else {
    row(r.webgpu.failure, r.webgpu.message);
  }

  lines.push('vulkan');
  row('loader (libvulkan.so.1)', r.vulkan.loader === undefined ? 'not used on this platform' : r.vulkan.loader ?? 'not found');
  if (r.vulkan.icds.length === 0) row('drivers (ICD manifests)', 'none');
  for (const icd of r.vulkan.icds) row(icd.file, `${icd.libraryPath} (Vulkan ${icd.apiVersion})`);
  if (r.vulkan.devices === null) row('vulkaninfo', 'not available (Debian: apt-get install vulkan-tools)');
  else for (const [i, d] of r.vulkan.devices.entries()) row(`GPU${i}`, `${d.deviceName} (${d.deviceType}), ${d.driverName} ${d.driverInfo}, Vulkan ${d.apiVersion}`);
  if (r.vulkan.packages) for (const [pkg, version] of Object.entries(r.vulkan.packages)) row(pkg, version ?? 'not installed');

  if (r.nvidia) row('nvidia-smi', r.nvidia);
  for (const [key, value] of Object.entries(r.env)) row(`$${key}`, value);
  return `${lines.join('\n')}\n`;
}

function fmt(value: boolean | null): string {
  return value === null ? 'unknown' : value ? 'yes' : 'no';
}

// The tfjs WebGPU backend in Node, over Dawn (the `webgpu` package's prebuilt `dawn.node`) on any Vulkan
// driver: a real GPU's, or Mesa's CPU driver lavapipe (tests and CI).
//
// Chosen automatically only for a hardware adapter (after tfjs-node-gpu, before tfjs-node/wasm); a software
// adapter (lavapipe, SwiftShader) is used only on request (`--backend webgpu`): it is slower than wasm and
// is there for correctness. `@tensorflow/tfjs-backend-webgpu` registers its backend only if `navigator.gpu`
// exists when it is imported, so we define it first, and both packages are imported lazily: nothing loads
// (or slows a start) unless the webgpu backend is tried.
//
// On webgpu, read tensors with `await t.data()`: `dataSync()` needs OffscreenCanvas, which Node lacks.
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { registerBackendProbe, type BackendProbe } from './init.js';

// --- The part of the WebGPU API we use (the `webgpu` package's full types live in @webgpu/types). ---

export interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export interface GpuDeviceLike {
  readonly lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}

export interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  /** Older spelling (before it moved into `info`). */
  readonly isFallbackAdapter?: boolean;
  readonly limits: Record<string, number> | object;
  requestDevice(descriptor?: { requiredFeatures?: string[]; requiredLimits?: Record<string, number> }): Promise<GpuDeviceLike>;
}

export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

/** What the tfjs WebGPU backend package exports that we need. */
export interface WebGpuBackendModule {
  WebGPUBackend: new (device: never, adapterInfo?: never) => tf.KernelBackend;
}

/**
 * Where the probe gets its pieces from; tests replace parts of it to simulate a missing package,
 * driver, adapter or device.
 */
export interface WebGpuEnvironment {
  /**
   * Loads the `webgpu` package and creates a GPU instance; throws when the package or dawn.node is missing.
   * `globals` are the WebGPU constants and classes (GPUBufferUsage, ...) tfjs expects as globals.
   */
  loadDawn(): Promise<DawnGpu>;
  /** Path of the Vulkan loader (libvulkan.so.1), null when absent; undefined where Vulkan is not how Dawn reaches the GPU. */
  findVulkanLoader(): string | null | undefined;
  /**
   * GPU device nodes (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg); undefined where we cannot tell (off Linux).
   * With none, only a software adapter can exist, so the automatic choice skips webgpu without loading Dawn.
   */
  findGpuDevices(): string[] | undefined;
  /** Imports `@tensorflow/tfjs-backend-webgpu` (after `navigator.gpu` is defined). */
  loadBackendModule(): Promise<WebGpuBackendModule>;
}

export interface DawnGpu {
  gpu: GpuLike;
  globals: Record<string, unknown>;
}

export type WebGpuFailure = 'package-missing' | 'driver-missing' | 'no-adapter' | 'device-failed' | 'backend-failed';

/** A description of the adapter Dawn gives us: what `semid doctor` and the benchmarks print. */
export interface WebGpuAdapterDescription {
  /** One human-readable name: the driver's description, else device, else vendor/architecture. */
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** As the adapter reports it (WebGPU's "fallback adapter": a software or otherwise limited one). */
  isFallbackAdapter: boolean;
  /** A CPU implementation (fallback, or a known software driver such as lavapipe/llvmpipe, SwiftShader). */
  software: boolean;
  /** The adapter's limits that bound tfjs' tensors and shaders (buffer sizes, workgroup sizes). */
  limits: Record<string, number>;
}

export type WebGpuAdapterProbe =
  | { ok: true; adapter: WebGpuAdapterDescription }
  | { ok: false; failure: WebGpuFailure; message: string };

// --- Finding the pieces. ---

const LIBRARY_DIRS = [
  '/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/aarch64-linux-gnu',
  '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib',
];

/**
 * The Vulkan loader Dawn opens on Linux. Checked before loading Dawn, so a machine without Vulkan is told
 * so plainly (and Dawn's own warning is not printed on every start). Undefined off Linux (Metal, D3D12).
 */
export function findVulkanLoader(env: NodeJS.ProcessEnv = process.env): string | null | undefined {
  if (process.platform !== 'linux') return undefined;
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  for (const dir of dirs) {
    const path = join(dir, 'libvulkan.so.1');
    if (existsSync(path)) return path;
  }
  return null;
}

/** Device nodes a hardware Vulkan driver opens on Linux: Mesa's (DRM render nodes), NVIDIA's, WSL2's. */
export function findGpuDevices(): string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  const found: string[] = [];
  const list = (dir: string, pattern: RegExp): void => {
    try {
      for (const name of readdirSync(dir)) if (pattern.test(name)) found.push(join(dir, name));
    } catch {
      // no such folder: no such devices
    }
  };
  list('/dev/dri', /^renderD\d+$/);
  list('/dev', /^(nvidia\d+|dxg)$/);
  return found;
}

/** One Vulkan driver manifest (ICD json): which library implements Vulkan, for which API version. */
export interface VulkanIcd {
  file: string;
  libraryPath: string;
  apiVersion: string;
}

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** The Vulkan drivers installed (VK_DRIVER_FILES / VK_ICD_FILENAMES when set, else the standard folders). */
export function listVulkanIcds(env: NodeJS.ProcessEnv = process.env): VulkanIcd[] {
  const explicit = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  const files: string[] = [];
  if (explicit) {
    files.push(...explicit.split(':').filter(Boolean));
  } else {
    for (const dir of ICD_DIRS) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir).sort()) if (name.endsWith('.json')) files.push(join(dir, name));
    }
  }
  const icds: VulkanIcd[] = [];
  for (const file of files) {
    if (!existsSync(file)) {
      icds.push({ file, libraryPath: '(manifest missing)', apiVersion: '?' });
      continue;
    }
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { ICD?: { library_path?: string; api_version?: string } };
      icds.push({ file, libraryPath: json.ICD?.library_path ?? '?', apiVersion: json.ICD?.api_version ?? '?' });
    } catch {
      icds.push({ file, libraryPath: '(unreadable manifest)', apiVersion: '?' });
    }
  }
  return icds;
}

/** Version of an installed package, or null when it is not installed. */
export function packageVersion(name: string): string | null {
  const require = createRequire(import.meta.url);
  try {
    const pkg = require(`${name}/package.json`) as { version?: string };
    return pkg.version ?? null;
  } catch {
    return null;
  }
}

let sharedDawn: Promise<DawnGpu> | null = null;

/** The real environment: `webgpu` (Dawn) and `@tensorflow/tfjs-backend-webgpu`, each imported on first use. */
export const DAWN_ENVIRONMENT: WebGpuEnvironment = {
  loadDawn() {
    // One Dawn instance per process: each `create` starts a new instance and enumerates adapters again.
    sharedDawn ??= import('webgpu').then((dawn) => ({
      gpu: dawn.create([]) as unknown as GpuLike,
      globals: dawn.globals as Record<string, unknown>,
    }));
    sharedDawn.catch(() => { sharedDawn = null; });
    return sharedDawn;
  },
  findVulkanLoader: () => findVulkanLoader(),
  findGpuDevices: () => findGpuDevices(),
  loadBackendModule: async () => (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as WebGpuBackendModule,
};

// --- The adapter. ---

const SOFTWARE_DRIVERS = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/** Turns a WebGPU adapter's info into our description. */
export function describeAdapterInfo(adapter: GpuAdapterLike): WebGpuAdapterDescription {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const isFallbackAdapter = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false);
  const software = isFallbackAdapter || SOFTWARE_DRIVERS.test(`${architecture} ${device} ${description}`);
  const name = description || device || [vendor, architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  return { name, vendor, architecture, device, description, isFallbackAdapter, software, limits: adapterLimits(adapter) };
}

/** The adapter limits tfjs' own factory asks for: its shaders assume the adapter's maxima, not WebGPU's defaults. */
const REQUIRED_LIMITS = [
  'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize',
  'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup',
];

function adapterLimits(adapter: GpuAdapterLike): Record<string, number> {
  const limits = adapter.limits as Record<string, number>;
  const out: Record<string, number> = {};
  for (const key of REQUIRED_LIMITS) if (typeof limits[key] === 'number') out[key] = limits[key];
  return out;
}

type AdapterResult = { ok: true; adapter: GpuAdapterLike } | { ok: false; failure: WebGpuFailure; message: string };

async function requestAdapter(env: WebGpuEnvironment): Promise<AdapterResult> {
  const loader = env.findVulkanLoader();
  if (loader === null) {
    return {
      ok: false, failure: 'driver-missing',
      message: 'no Vulkan loader (libvulkan.so.1) found: install a Vulkan driver (a GPU vendor driver, or on Debian/Ubuntu '
        + '`apt-get install libvulkan1 mesa-vulkan-drivers`; Debian 12 needs Mesa >= 24 from bookworm-backports)',
    };
  }
  let gpu: GpuLike;
  try {
    gpu = (await env.loadDawn()).gpu;
  } catch (err) {
    return {
      ok: false, failure: 'package-missing',
      message: `the \`webgpu\` package (Dawn) failed to load: ${(err as Error).message.split('\n')[0]}`,
    };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, failure: 'no-adapter', message: `requestAdapter() failed: ${(err as Error).message}` };
  }
  if (!adapter) {
    const icds = listVulkanIcds();
    return {
      ok: false, failure: 'no-adapter',
      message: icds.length === 0
        ? 'Dawn found no GPU adapter: the Vulkan loader is present but no Vulkan driver (ICD) is installed'
        : `Dawn found no GPU adapter among the Vulkan drivers installed (${icds.map((icd) => icd.libraryPath).join(', ')}); `
          + 'a driver may be too old (Dawn needs Vulkan 1.1 with Mesa >= 24 for lavapipe) or lack a usable device',
    };
  }
  return { ok: true, adapter };
}

/**
 * Describes the WebGPU adapter present, or says why there is none (missing package, missing driver, no
 * adapter). Safe to call anywhere: it never throws and never changes the tfjs backend. For `semid doctor`.
 */
export async function probeWebGpuAdapter(env: WebGpuEnvironment = DAWN_ENVIRONMENT): Promise<WebGpuAdapterProbe> {
  const result = await requestAdapter(env);
  return result.ok ? { ok: true, adapter: describeAdapterInfo(result.adapter) } : result;
}

/** The WebGPU adapter's description, or null when there is none. For benchmarks: include webgpu when non-null. */
export async function describeWebGpuAdapter(env: WebGpuEnvironment = DAWN_ENVIRONMENT): Promise<WebGpuAdapterDescription | null> {
  const probe = await probeWebGpuAdapter(env);
  return probe.ok ? probe.adapter : null;
}

// --- The backend. ---

type TryResult = Awaited<ReturnType<BackendProbe>>;

/**
 * Makes `navigator.gpu` the Dawn GPU (Node 20 has no `navigator`; Node 21+ has one without `gpu`) and the
 * WebGPU constants (GPUBufferUsage, GPUMapMode, ...) globals, as in a browser.
 */
function defineBrowserGlobals({ gpu, globals }: DawnGpu): void {
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else if (g.navigator.gpu !== gpu) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
}

/**
 * Tries the webgpu backend: adapter, device, then tfjs. `explicit` is true when the user asked for webgpu
 * (then a software adapter is accepted). Returns the detail line, or a reason naming what is missing.
 */
export async function tryWebGpu(explicit: boolean, env: WebGpuEnvironment = DAWN_ENVIRONMENT): Promise<TryResult> {
  if (!explicit && env.findGpuDevices()?.length === 0) {
    return 'no GPU device node (/dev/dri/renderD*, /dev/nvidia*): a software adapter at most, used only on request (--backend webgpu)';
  }
  const found = await requestAdapter(env);
  if (!found.ok) {
    // Past the device-node check, a GPU is there but unusable: worth a word even when webgpu was not asked for.
    if (!explicit) warn(`webgpu skipped: ${found.message}; falling back`);
    return `${found.failure}: ${found.message}`;
  }
  const adapter = describeAdapterInfo(found.adapter);
  const kind = adapter.software ? 'software' : 'hardware';
  if (adapter.software && !explicit) {
    return `only a software adapter ("${adapter.name}"), slower than wasm: used only on request (--backend webgpu)`;
  }
  let device: GpuDeviceLike;
  try {
    device = await found.adapter.requestDevice({ requiredFeatures: [], requiredLimits: adapter.limits });
  } catch (err) {
    const message = `device-failed: adapter "${adapter.name}" refused a device: ${(err as Error).message}`;
    if (!explicit) warn(`webgpu skipped: ${message}; falling back`);
    return message;
  }
  void device.lost.then((info) => {
    if (info?.reason !== 'destroyed') warn(`webgpu device lost (${info?.reason ?? 'unknown'}): ${info?.message ?? ''}`);
  });
  try {
    defineBrowserGlobals(await env.loadDawn());
    const module = await env.loadBackendModule();
    // Our factory replaces the package's own: it reuses the device we checked (the package's would request a
    // second adapter and device, and fail on a null adapter with an unhelpful TypeError).
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new module.WebGPUBackend(device as never, found.adapter.info as never), 1);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") returned false');
    await tf.ready();
  } catch (err) {
    device.destroy();
    const message = `backend-failed: @tensorflow/tfjs-backend-webgpu did not start on "${adapter.name}": ${(err as Error).message}`;
    if (!explicit) warn(`webgpu skipped: ${message}; falling back`);
    return message;
  }
  return {
    detail: `@tensorflow/tfjs-backend-webgpu ${packageVersion('@tensorflow/tfjs-backend-webgpu') ?? '?'} over Dawn `
      + `(webgpu ${packageVersion('webgpu') ?? '?'}), ${kind} adapter "${adapter.name}"`,
  };
}

function warn(message: string): void {
  if (!process.env.SEMID_QUIET_BACKEND) process.stderr.write(`semid: ${message}\n`);
}

registerBackendProbe('webgpu', (explicit) => tryWebGpu(explicit));

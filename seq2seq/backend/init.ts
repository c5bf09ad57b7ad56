// Chooses the fastest TensorFlow.js backend present and patches the gaps of the wasm backend.
//
// Order: tfjs-node-gpu (CUDA), tfjs-node (native CPU), wasm, cpu. `--backend` / SEMID_BACKEND override it.
// tfjs-node(-gpu) is an optionalDependency whose install downloads libtensorflow; where that failed,
// `import()` throws and we fall back. The choice is printed once per process.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { registerWasmKernels } from './wasmKernels.js';

export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** tfjs backend name as registered (`tensorflow` is tfjs-node or tfjs-node-gpu). */
  name: BackendName;
  /** Human-readable detail: which package, threads, SIMD, adapter. */
  detail: string;
  /** Backends tried before this one and why they were skipped. */
  skipped: string[];
}

export interface BackendOptions {
  /** Force one backend (also SEMID_BACKEND). Aliases: `node`, `node-gpu`, `gpu` for tensorflow. */
  backend?: string;
  /** Do not print the chosen backend. */
  quiet?: boolean;
  /** Threads for the wasm backend (SEMID_WASM_THREADS); default: tfjs' choice. */
  wasmThreads?: number;
}

let active: Promise<BackendInfo> | null = null;
let activeRequest: string | undefined;

const ALIASES: Record<string, BackendName> = {
  tensorflow: 'tensorflow', node: 'tensorflow', 'node-gpu': 'tensorflow', gpu: 'tensorflow', cuda: 'tensorflow',
  webgpu: 'webgpu', wasm: 'wasm', cpu: 'cpu',
};

/** Parses a user's backend request; throws naming the value when unknown. */
export function parseBackendName(value: string): BackendName {
  const name = ALIASES[value.trim().toLowerCase()];
  if (!name) {
    throw new Error(`unknown backend "${value}": expected one of ${Object.keys(ALIASES).join(', ')}`);
  }
  return name;
}

/**
 * Initialises tfjs once per process and returns what was chosen. Later calls return the same choice;
 * a later call that asks for a different backend switches to it.
 */
export function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const request = options.backend ?? process.env.SEMID_BACKEND ?? undefined;
  if (active && (request === undefined || request === activeRequest)) return active;
  activeRequest = request;
  active = chooseBackend(request, options).then((info) => {
    if (!options.quiet && !process.env.SEMID_QUIET_BACKEND) {
      process.stderr.write(`semid: tfjs backend ${info.name} (${info.detail})\n`);
    }
    return info;
  });
  active.catch(() => { active = null; });
  return active;
}

async function chooseBackend(request: string | undefined, options: BackendOptions): Promise<BackendInfo> {
  const skipped: string[] = [];
  const order: BackendName[] = request ? [parseBackendName(request)] : ['tensorflow', 'webgpu', 'wasm', 'cpu'];
  for (const name of order) {
    const explicit = request !== undefined;
    const result = await tryBackend(name, explicit, options);
    if (typeof result === 'string') {
      if (explicit) throw new Error(`backend "${request}" is not available: ${result}`);
      skipped.push(`${name}: ${result}`);
      continue;
    }
    return { name, detail: result.detail, skipped };
  }
  throw new Error(`no tfjs backend could be initialised (${skipped.join('; ')})`);
}

type TryResult = { detail: string } | string;

/** Hook for optional backends (webgpu) to plug into the choice without editing this file's callers. */
export type BackendProbe = (explicit: boolean) => Promise<TryResult>;
const probes = new Map<BackendName, BackendProbe>();
export function registerBackendProbe(name: BackendName, probe: BackendProbe): void {
  probes.set(name, probe);
}

async function tryBackend(name: BackendName, explicit: boolean, options: BackendOptions): Promise<TryResult> {
  switch (name) {
    case 'tensorflow':
      return tryNode();
    case 'webgpu': {
      if (!probes.has('webgpu')) await import('./webgpu.js'); // registers its probe; loads Dawn only when tried
      const probe = probes.get('webgpu');
      return probe ? probe(explicit) : 'no webgpu probe registered';
    }
    case 'wasm':
      return tryWasm(options);
    case 'cpu':
      await tf.setBackend('cpu');
      await tf.ready();
      return { detail: 'pure JavaScript; about 30x slower than wasm for training' };
  }
}

async function tryNode(): Promise<TryResult> {
  const require = createRequire(import.meta.url);
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require(pkg);
    } catch (err) {
      continue;
    }
    if (await tf.setBackend('tensorflow')) {
      await tf.ready();
      return { detail: pkg };
    }
  }
  return 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed';
}

async function tryWasm(options: BackendOptions): Promise<TryResult> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return `@tensorflow/tfjs-backend-wasm failed to load: ${(err as Error).message}`;
  }
  const threads = options.wasmThreads ?? (process.env.SEMID_WASM_THREADS ? Number(process.env.SEMID_WASM_THREADS) : undefined);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new Error(`wasm threads must be an integer >= 1, got ${threads} (SEMID_WASM_THREADS)`);
  }
  registerWasmFixes();
  // tfjs turns wasm threads off under Node; they work once its blob: worker URLs become real files.
  // Opt-in until the threaded pool is proven stable under Node (SEMID_WASM_THREADS=2).
  const wantThreads = threads !== undefined && threads > 1;
  if (wantThreads) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads ?? availableParallelism());
  }
  const restore = wantThreads ? patchForNodeWorkers(threads ?? availableParallelism()) : () => {};
  try {
    if (!(await tf.setBackend('wasm'))) return 'wasm backend failed to initialise';
    await tf.ready();
  } catch (err) {
    return `wasm backend failed to initialise: ${(err as Error).message}`;
  } finally {
    restore();
  }
  if (wantThreads) await settleWasmWorkers();
  tf.enableProdMode();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return { detail: `@tensorflow/tfjs-backend-wasm, simd=${simd}, threads=${threaded ? wasm.getThreadsCount() : 1}` };
}

/**
 * The threaded wasm build starts its pthread pool from `blob:` URLs: one for the worker script, one for the
 * module glue it imports. Node's worker_threads cannot load `blob:` URLs, so while the backend initialises,
 * Blob and URL.createObjectURL are wrapped: the worker script becomes a real temp file, and inside it
 * URL.createObjectURL is pointed at the package's un-bundled glue (wasm-out/...-threaded-simd.js), which
 * defines the same factory. Returns a function that restores the globals.
 */
function patchForNodeWorkers(threads: number): () => void {
  const require = createRequire(import.meta.url);
  // XNNPACK caps its pool at half the logical cores it sees; report enough cores for `threads`.
  const os = require('node:os') as typeof import('node:os');
  const originalCpus = os.cpus;
  os.cpus = () => {
    const cpus = originalCpus();
    return Array.from({ length: Math.max(cpus.length, 2 * threads) }, (_, i) => cpus[i % cpus.length]);
  };
  const glue = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL;
  const texts = new WeakMap<Blob, string>();
  class TextRecordingBlob extends OriginalBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      if (parts && parts.every((p) => typeof p === 'string')) texts.set(this, (parts as string[]).join(''));
    }
  }
  globalThis.Blob = TextRecordingBlob as typeof Blob;
  URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined) return originalCreate(blob);
    const workerPrelude = `URL.createObjectURL = () => ${JSON.stringify(glue)}; URL.revokeObjectURL = () => {};\n`;
    const body = workerPrelude + text;
    const file = join(tmpdir(), `semid-wasm-worker-${createHash('sha1').update(body).digest('hex').slice(0, 16)}.cjs`);
    // Each pool worker asks for this URL while earlier workers may be reading the file: write it once
    // (content-addressed name) and atomically, never truncate it under a reader.
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, body);
      renameSync(tmp, file);
    }
    return file;
  };
  return () => {
    os.cpus = originalCpus;
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreate;
  };
}

interface PThreadWorker { loaded?: boolean; unref(): void }
interface PThreadRegistry { unusedWorkers: PThreadWorker[]; runningWorkers: PThreadWorker[] }

/**
 * Waits until the pthread pool's workers have loaded (a main thread that blocks in wasm before they do
 * deadlocks), then unrefs them all: XNNPACK's pool thread runs for the life of the process and would
 * otherwise keep Node from exiting.
 */
async function settleWasmWorkers(): Promise<void> {
  const registry = (tf.backend() as unknown as { wasm?: { PThread?: PThreadRegistry } }).wasm?.PThread;
  if (!registry) return;
  const all = () => [...registry.unusedWorkers, ...registry.runningWorkers];
  for (let waited = 0; waited < 10_000 && !all().every((w) => w.loaded); waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (const worker of all()) worker.unref();
}

let wasmFixesRegistered = false;

/**
 * The wasm backend has no UnsortedSegmentSum kernel, which is the gradient of `gather` (embedding
 * lookups). Registered here in plain JavaScript over the wasm heap: a scatter-add of rows.
 */
function registerWasmFixes(): void {
  if (wasmFixesRegistered) return;
  wasmFixesRegistered = true;
  // semid's fused SIMD kernels (wasmKernels.ts): on by default, SEMID_WASM_KERNELS=0 turns them off (A/B checks).
  if (process.env.SEMID_WASM_KERNELS !== '0') registerWasmKernels();
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const wasmBackend = backend as unknown as WasmHeapBackend;
        const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
        const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
        const rowSize = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
        const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
        const out = wasmBackend.makeOutput(outShape, x.dtype);
        const outValues = wasmBackend.typedArrayFromHeap(out);
        outValues.fill(0);
        const xValues = wasmBackend.typedArrayFromHeap(x);
        const ids = wasmBackend.typedArrayFromHeap(segmentIds);
        for (let i = 0; i < ids.length; i++) {
          const segment = ids[i];
          if (segment < 0 || segment >= numSegments) continue; // tf semantics: out-of-range ids are dropped
          const src = i * rowSize;
          const dst = segment * rowSize;
          for (let j = 0; j < rowSize; j++) outValues[dst + j] += xValues[src + j];
        }
        return out;
      },
    });
  }
}

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

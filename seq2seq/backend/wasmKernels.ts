// Kernels that make training fast on the tfjs wasm backend, registered for `wasm` only (imported once by
// backend.ts). The model code asks for them by kernel name and falls back to plain tfjs ops where they are
// not registered (tfjs-node, webgpu, cpu), so the model stays a plain tfjs model everywhere.
//
// - `SemidAttention` / `SemidAttentionGrad`: fused multi-head attention, forward and backward, one call for all
//   (batch, head) pairs, in a small WebAssembly SIMD module (wasm/kernels.as.ts) that runs over the backend's
//   own heap. tfjs-wasm's batched matMul is a naive loop (10-20x slower than its 2-D matMul), and the composed
//   attention keeps ~8 score-sized tensors per layer for the backward pass; the fused kernels keep one.
// - `SemidDropoutMask`: a dropout keep-scale mask from a counter-based hash of (seed, index), instead of tfjs'
//   randomUniform (a JavaScript PRNG) plus three elementwise ops.
// - `SemidMatMulTN`: a^T b for the weight gradient of a dense layer (x^T dy: long batch axis, small widths),
//   which tfjs-wasm runs through a transpose plus an XNNPACK call that repacks the whole of dy every time.
// - `SemidDropout` / `SemidDropoutGrad`: dropout (optionally after a ReLU) applied in one pass, the mask regenerated
//   from its hash in the backward pass (no mask tensor, no Multiply, no ReLU gradient ops).
// - `SemidRmsNorm` / `SemidRmsNormGrad`: T5 RMSNorm forward and its hand-written gradient (autodiff of the composed
//   ops runs ~15 elementwise and reduction kernels per norm).
// - `SemidSoftmaxCE`: softmax cross-entropy per row and its gradient (softmax - onehot) in three passes over the
//   logits: full-softmax heads over a catalog ([targets, items], 11M floats a SASRec step on Beauty) spent ~1 s a
//   step in the composed ops (logSoftmax, oneHot, multiply, sum and their gradients).
// - `SemidCodeScores` / `SemidCodeScoresGrad`: per item, the sum of its codes' columns of a [rows, codes] score
//   matrix (forward: a gather-add over the [items, levels] code table; backward: the scatter-add), in JavaScript
//   over the heap: tfjs-wasm's gather and transpose ran ~50 ns an element (0.6 s each for a [900, 12101] result).
// - `Identity` re-registered to share the input's data (as tfjs' cpu backend does): the wasm backend's Identity
//   copies, and the engine clones every tensor a gradient saves. Likewise `Cast` to the same dtype (tfjs' Multiply
//   gradient casts both operands to float32, which the wasm backend copies).
import * as tf from '@tensorflow/tfjs';
import { activeBackendName } from './traits.js';
import { KERNELS_SHARED_WASM, KERNELS_WASM } from './wasm/kernelsWasm.js';

export const ATTENTION_KERNEL = 'SemidAttention';
export const ATTENTION_GRAD_KERNEL = 'SemidAttentionGrad';
export const DROPOUT_MASK_KERNEL = 'SemidDropoutMask';
export const MATMUL_TN_KERNEL = 'SemidMatMulTN';
export const DROPOUT_KERNEL = 'SemidDropout';
export const DROPOUT_GRAD_KERNEL = 'SemidDropoutGrad';
export const RMS_NORM_KERNEL = 'SemidRmsNorm';
export const RMS_NORM_GRAD_KERNEL = 'SemidRmsNormGrad';
export const SOFTMAX_CE_KERNEL = 'SemidSoftmaxCE';
export const CODE_SCORES_KERNEL = 'SemidCodeScores';
export const CODE_SCORES_GRAD_KERNEL = 'SemidCodeScoresGrad';
export const LOG_SUM_EXP_KERNEL = 'SemidLogSumExp';
export const GATHER_ROWS_KERNEL = 'SemidGatherRows';

/** Attributes of the dropout kernels. */
export interface DropoutAttrs {
  rate: number;
  /** Dropout seed (uint32). */
  seed: number;
  /** Apply a ReLU before the dropout. */
  relu: boolean;
}

/** Attributes of the attention kernels. */
export interface AttentionAttrs {
  heads: number;
  headDim: number;
  scale: number;
  /** Dropout rate on the attention probabilities (0 = none). */
  rate: number;
  /** Dropout seed (uint32). */
  seed: number;
}

interface KernelExports {
  matMulTN(M: number, N: number, K: number, a: number, b: number, c: number): void;
  dropoutMask(out: number, n: number, seed: number, threshold: number, scale: number): void;
  dropoutForward(x: number, out: number, n: number, seed: number, threshold: number, scale: number, relu: number): void;
  dropoutBackward(dy: number, y: number, dx: number, n: number, seed: number, threshold: number, scale: number, relu: number): void;
  rmsNormForward(x: number, g: number, y: number, rstd: number, rows: number, d: number, eps: number): void;
  rmsNormBackward(dy: number, x: number, g: number, rstd: number, dx: number, dg: number, rows: number, d: number): void;
  softmaxCrossEntropy(x: number, targets: number, stats: number, grad: number, rows: number, V: number): void;
  rowMaxSumExp(x: number, stats: number, rows: number, V: number): void;
  codeScoresForward(x: number, width: number, codes: number, L: number, items: number, y: number, rows: number): void;
  codeScoresBackward(dy: number, codes: number, L: number, items: number, dx: number, width: number, rows: number): void;
  attentionForward(
    B: number, H: number, Tq: number, Tk: number, D: number, q: number, qRs: number, k: number, kRs: number, v: number, vRs: number,
    bias: number, keyMask: number, out: number, oRs: number, probs: number, scale: number, seed: number, threshold: number, keep: number, scratch: number,
  ): void;
  attentionBackward(
    B: number, H: number, Tq: number, Tk: number, D: number, q: number, qRs: number, k: number, kRs: number, v: number, vRs: number,
    dOut: number, oRs: number, probs: number, scale: number, seed: number, threshold: number, keep: number,
    dq: number, dk: number, dv: number, dBias: number, scratch: number,
  ): void;
}

// The WebAssembly JS API, typed locally (the project's lib settings carry no DOM / WebAssembly types).
declare const WebAssembly: {
  Memory: new (...args: never[]) => { buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};
type WasmMemory = { buffer: ArrayBufferLike };

interface EmscriptenModule {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  asm?: { memory?: WasmMemory };
  wasmMemory?: WasmMemory;
}

interface WasmBackend {
  wasm: EmscriptenModule;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: tf.DataId): void;
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
}

/** The kernels instantiated over one backend's memory, and a scratch buffer on its heap. */
interface Instance {
  kernels: KernelExports;
  scratch: number;
  scratchBytes: number;
}

const instances = new WeakMap<EmscriptenModule, Instance>();

function decodeBase64(text: string): Uint8Array {
  return typeof Buffer !== 'undefined' ? new Uint8Array(Buffer.from(text, 'base64')) : Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The backend's heap: the plain build exports its memory; the threaded build creates a shared one and keeps it on the module. */
function memoryOf(module: EmscriptenModule): WasmMemory | undefined {
  return module.asm?.memory ?? module.wasmMemory;
}

function instanceFor(backend: WasmBackend): Instance {
  const module = backend.wasm;
  let inst = instances.get(module);
  if (inst) return inst;
  const memory = memoryOf(module);
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('semid wasm kernels: cannot find the tfjs wasm backend\'s memory');
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const compiled = new WebAssembly.Module(decodeBase64(shared ? KERNELS_SHARED_WASM : KERNELS_WASM));
  const kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as KernelExports;
  inst = { kernels, scratch: 0, scratchBytes: 0 };
  instances.set(module, inst);
  return inst;
}

/** A scratch buffer of at least `bytes` on the backend's heap (kept between calls, grown when needed). */
function scratch(backend: WasmBackend, inst: Instance, bytes: number): number {
  if (inst.scratchBytes < bytes) {
    if (inst.scratch) backend.wasm._free(inst.scratch);
    const size = Math.max(bytes, 2 * inst.scratchBytes);
    inst.scratch = backend.wasm._malloc(size) >>> 0;
    if (!inst.scratch) {
      inst.scratchBytes = 0;
      throw new Error(`semid wasm kernels: out of wasm memory allocating ${size} bytes of scratch`);
    }
    inst.scratchBytes = size;
  }
  return inst.scratch;
}

function ptr(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** Makes an output, failing with a clear message (not a wasm abort) when the 4 GiB wasm heap is exhausted. */
function output(backend: WasmBackend, shape: number[]): tf.TensorInfo {
  const bytes = 4 * shape.reduce((a, b) => a * b, 1);
  const p = backend.wasm._malloc(bytes) >>> 0;
  if (!p) {
    throw new Error(`out of wasm memory: cannot allocate ${(bytes / 2 ** 20).toFixed(0)} MiB for a [${shape}] tensor (the wasm heap is limited to 4 GiB): lower --batch-size or --max-history`);
  }
  backend.wasm._free(p);
  return backend.makeOutput(shape, 'float32');
}

/** out[r] = stats[r, 0] + log(stats[r, 1]) for stats [rows, 2] on the heap: the log the wasm module cannot take. */
function addLogOfSums(backend: WasmBackend, stats: number, out: tf.TensorInfo, rows: number): void {
  const heap = new Float32Array((memoryOf(backend.wasm) as WasmMemory).buffer);
  const o = ptr(backend, out) >>> 2;
  const st = stats >>> 2;
  for (let r = 0; r < rows; r++) heap[o + r] = heap[st + 2 * r] + Math.log(heap[st + 2 * r + 1]);
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Dropout threshold (uint32: an element is kept when its hash is >= threshold) and keep-scale for a rate. */
export function dropoutThreshold(rate: number): { threshold: number; keep: number } {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  return { threshold: Math.min(0xffffffff, Math.round(rate * 2 ** 32)) >>> 0, keep: 1 / (1 - rate) };
}

function attentionShapes(q: tf.TensorInfo, k: tf.TensorInfo, a: AttentionAttrs) {
  const [B, Tq, qw] = q.shape;
  const [, Tk, kw] = k.shape;
  const inner = a.heads * a.headDim;
  if (qw !== inner || kw !== inner) throw new Error(`attention: q/k widths ${qw}/${kw} differ from heads*headDim ${inner}`);
  return { B, Tq, Tk, H: a.heads, D: a.headDim, inner, TkP: (Tk + 3) & ~3 };
}

let registered = false;
let originalIdentity: tf.KernelConfig | undefined;
let originalCast: tf.KernelConfig | undefined;
const OWN_KERNELS = () => [
  ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL, DROPOUT_MASK_KERNEL, MATMUL_TN_KERNEL, DROPOUT_KERNEL, DROPOUT_GRAD_KERNEL, RMS_NORM_KERNEL, RMS_NORM_GRAD_KERNEL,
  SOFTMAX_CE_KERNEL, CODE_SCORES_KERNEL, CODE_SCORES_GRAD_KERNEL, LOG_SUM_EXP_KERNEL, GATHER_ROWS_KERNEL,
];

/**
 * Turns semid's wasm kernels off (the model then runs the plain tfjs ops, as before they existed) or back on.
 * For A/B measurements in one process; registerWasmKernels() turns them on.
 */
export function setWasmKernelsEnabled(enabled: boolean): void {
  if (!enabled) {
    if (!registered) return;
    registered = false;
    for (const name of OWN_KERNELS()) tf.unregisterKernel(name, 'wasm');
    if (originalIdentity) {
      tf.unregisterKernel('Identity', 'wasm');
      tf.registerKernel(originalIdentity);
    }
    if (originalCast) {
      tf.unregisterKernel('Cast', 'wasm');
      tf.registerKernel(originalCast);
    }
    return;
  }
  registerWasmKernels();
}

/** Registers the kernels for the `wasm` backend (idempotent). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;

  originalIdentity ??= tf.getKernel('Identity', 'wasm');
  if (originalIdentity) tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      (backend as unknown as WasmBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });

  originalCast ??= tf.getKernel('Cast', 'wasm');
  if (originalCast) {
    const copyingCast = originalCast.kernelFunc;
    tf.unregisterKernel('Cast', 'wasm');
    tf.registerKernel({
      kernelName: 'Cast',
      backendName: 'wasm',
      kernelFunc: (args) => {
        const { x } = args.inputs as { x: tf.TensorInfo };
        if ((args.attrs as unknown as { dtype: tf.DataType }).dtype !== x.dtype) return copyingCast(args);
        (args.backend as unknown as WasmBackend).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    });
  }

  tf.registerKernel({
    kernelName: DROPOUT_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { x } = inputs as { x: tf.TensorInfo };
      const { rate, seed, relu } = attrs as unknown as DropoutAttrs;
      const inst = instanceFor(b);
      const out = output(b, x.shape);
      const { threshold, keep } = dropoutThreshold(rate);
      inst.kernels.dropoutForward(ptr(b, x), ptr(b, out), sizeOf(x.shape), seed >>> 0, threshold, keep, relu ? 1 : 0);
      return out;
    },
  });

  tf.registerKernel({
    kernelName: DROPOUT_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
      const { rate, seed, relu } = attrs as unknown as DropoutAttrs;
      const inst = instanceFor(b);
      const dx = output(b, dy.shape);
      const { threshold, keep } = dropoutThreshold(rate);
      inst.kernels.dropoutBackward(ptr(b, dy), ptr(b, y), ptr(b, dx), sizeOf(dy.shape), seed >>> 0, threshold, keep, relu ? 1 : 0);
      return dx;
    },
  });

  tf.registerKernel({
    kernelName: RMS_NORM_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { x, gain } = inputs as { x: tf.TensorInfo; gain: tf.TensorInfo };
      const { eps } = attrs as unknown as { eps: number };
      const d = x.shape[x.shape.length - 1];
      if (d % 4 !== 0 || gain.shape.length !== 1 || gain.shape[0] !== d) {
        throw new Error(`${RMS_NORM_KERNEL}: needs a last axis that is a multiple of 4 and a gain of that size, got x [${x.shape}], gain [${gain.shape}]`);
      }
      const rows = sizeOf(x.shape) / d;
      const inst = instanceFor(b);
      const y = output(b, x.shape);
      const rstd = output(b, [rows]);
      inst.kernels.rmsNormForward(ptr(b, x), ptr(b, gain), ptr(b, y), ptr(b, rstd), rows, d, eps);
      return [y, rstd];
    },
  });

  tf.registerKernel({
    kernelName: RMS_NORM_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { dy, x, gain, rstd } = inputs as Record<string, tf.TensorInfo>;
      const d = x.shape[x.shape.length - 1];
      const rows = sizeOf(x.shape) / d;
      const inst = instanceFor(b);
      const dx = output(b, x.shape);
      const dGain = output(b, [d]);
      inst.kernels.rmsNormBackward(ptr(b, dy), ptr(b, x), ptr(b, gain), ptr(b, rstd), ptr(b, dx), ptr(b, dGain), rows, d);
      return [dx, dGain];
    },
  });

  tf.registerKernel({
    kernelName: SOFTMAX_CE_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { logits, targets } = inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo };
      const [rows, V] = logits.shape;
      if (logits.shape.length !== 2 || targets.shape.length !== 1 || targets.shape[0] !== rows || targets.dtype !== 'int32') {
        throw new Error(`${SOFTMAX_CE_KERNEL}: needs logits [rows, V] and int32 targets [rows], got [${logits.shape}] and ${targets.dtype} [${targets.shape}]`);
      }
      const inst = instanceFor(b);
      const loss = output(b, [rows]);
      const grad = output(b, [rows, V]);
      const stats = scratch(b, inst, 8 * rows);
      inst.kernels.softmaxCrossEntropy(ptr(b, logits), ptr(b, targets), stats, ptr(b, grad), rows, V);
      // loss = (max - x[target]) + log(sum of exponentials): the log taken here (the module has no math tables).
      addLogOfSums(b, stats, loss, rows);
      return [loss, grad];
    },
  });

  tf.registerKernel({
    kernelName: GATHER_ROWS_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      if (x.shape.length !== 2 || x.dtype !== 'float32' || indices.shape.length !== 1 || indices.dtype !== 'int32') {
        throw new Error(`${GATHER_ROWS_KERNEL}: needs float32 x [rows, d] and int32 indices [n], got ${x.dtype} [${x.shape}] and ${indices.dtype} [${indices.shape}]`);
      }
      const [rows, d] = x.shape;
      const n = indices.shape[0];
      const out = output(b, [n, d]);
      const buf = (memoryOf(b.wasm) as WasmMemory).buffer;
      const idx = new Int32Array(buf, ptr(b, indices), n);
      // One native memmove per row through a view starting at x (tfjs-wasm's GatherV2 walks ~60 ns an element).
      const from = ptr(b, x);
      const to = ptr(b, out);
      const view = new Float32Array(buf, Math.min(from, to));
      const src = (from - Math.min(from, to)) >>> 2;
      const dst = (to - Math.min(from, to)) >>> 2;
      for (let i = 0; i < n; i++) {
        const r = idx[i];
        if (!(r >= 0 && r < rows)) throw new Error(`${GATHER_ROWS_KERNEL}: index ${r} at position ${i} is outside [0, ${rows})`);
        view.copyWithin(dst + i * d, src + r * d, src + (r + 1) * d);
      }
      return out;
    },
  });

  tf.registerKernel({
    kernelName: LOG_SUM_EXP_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { x } = inputs as { x: tf.TensorInfo };
      if (x.shape.length !== 2 || x.dtype !== 'float32') throw new Error(`${LOG_SUM_EXP_KERNEL}: needs float32 x [rows, V], got ${x.dtype} [${x.shape}]`);
      const [rows, V] = x.shape;
      const inst = instanceFor(b);
      const lse = output(b, [rows]);
      const stats = scratch(b, inst, 8 * rows);
      inst.kernels.rowMaxSumExp(ptr(b, x), stats, rows, V);
      addLogOfSums(b, stats, lse, rows); // max + log(sum)
      return lse;
    },
  });

  tf.registerKernel({
    kernelName: CODE_SCORES_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { scores, codes } = inputs as { scores: tf.TensorInfo; codes: tf.TensorInfo };
      const [rows, width] = scores.shape;
      const [items, L] = codes.shape;
      const out = output(b, [rows, items]);
      instanceFor(b).kernels.codeScoresForward(ptr(b, scores), width, ptr(b, codes), L, items, ptr(b, out), rows);
      return out;
    },
  });

  tf.registerKernel({
    kernelName: CODE_SCORES_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { dy, codes } = inputs as { dy: tf.TensorInfo; codes: tf.TensorInfo };
      const { width } = attrs as unknown as { width: number };
      const [rows, items] = dy.shape;
      const L = codes.shape[1];
      const out = output(b, [rows, width]);
      instanceFor(b).kernels.codeScoresBackward(ptr(b, dy), ptr(b, codes), L, items, ptr(b, out), width, rows);
      return out;
    },
  });

  tf.registerKernel({
    kernelName: DROPOUT_MASK_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ attrs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { shape, rate, seed } = attrs as unknown as { shape: number[]; rate: number; seed: number };
      const inst = instanceFor(b);
      const out = output(b, shape);
      const { threshold, keep } = dropoutThreshold(rate);
      inst.kernels.dropoutMask(ptr(b, out), shape.reduce((x, y) => x * y, 1), seed >>> 0, threshold, keep);
      return out;
    },
  });

  tf.registerKernel({
    kernelName: MATMUL_TN_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { a, b: bb } = inputs as Record<string, tf.TensorInfo>;
      const [K, M] = a.shape;
      const [K2, N] = bb.shape;
      if (K !== K2 || N % 4 !== 0) throw new Error(`${MATMUL_TN_KERNEL}: needs a [K, M], b [K, N] with N a multiple of 4, got [${a.shape}], [${bb.shape}]`);
      const inst = instanceFor(b);
      const out = output(b, [M, N]);
      inst.kernels.matMulTN(M, N, K, ptr(b, a), ptr(b, bb), ptr(b, out));
      return out;
    },
  });

  tf.registerKernel({
    kernelName: ATTENTION_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { q, k, v, bias, keyMask } = inputs as Record<string, tf.TensorInfo>;
      const a = attrs as unknown as AttentionAttrs;
      const { B, Tq, Tk, H, D, inner, TkP } = attentionShapes(q, k, a);
      const inst = instanceFor(b);
      const out = output(b, [B, Tq, inner]);
      const probs = output(b, [B * H, Tq, TkP]);
      const work = scratch(b, inst, 4 * (D * TkP + Tq * TkP));
      const { threshold, keep } = dropoutThreshold(a.rate);
      inst.kernels.attentionForward(
        B, H, Tq, Tk, D, ptr(b, q), inner, ptr(b, k), inner, ptr(b, v), inner,
        ptr(b, bias), ptr(b, keyMask), ptr(b, out), inner, ptr(b, probs), a.scale, a.seed >>> 0, threshold, keep, work,
      );
      return [out, probs];
    },
  });

  tf.registerKernel({
    kernelName: ATTENTION_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as unknown as WasmBackend;
      const { dy, q, k, v, probs } = inputs as Record<string, tf.TensorInfo>;
      const a = attrs as unknown as AttentionAttrs;
      const { B, Tq, Tk, H, D, inner, TkP } = attentionShapes(q, k, a);
      const inst = instanceFor(b);
      const dq = output(b, [B, Tq, inner]);
      const dk = output(b, [B, Tk, inner]);
      const dv = output(b, [B, Tk, inner]);
      const dBias = output(b, [H, Tq, Tk]);
      const work = scratch(b, inst, 4 * (D * TkP + 2 * Tq * TkP));
      const { threshold, keep } = dropoutThreshold(a.rate);
      inst.kernels.attentionBackward(
        B, H, Tq, Tk, D, ptr(b, q), inner, ptr(b, k), inner, ptr(b, v), inner,
        ptr(b, dy), inner, ptr(b, probs), a.scale, a.seed >>> 0, threshold, keep,
        ptr(b, dq), ptr(b, dk), ptr(b, dv), ptr(b, dBias), work,
      );
      return [dq, dk, dv, dBias];
    },
  });
}

/** True when the active backend registers kernel `name` (semid's fused kernels exist on wasm only; callers fall back to composed ops). */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, activeBackendName()) !== undefined;
}


// What model, trainer and scorer code needs to know about the active tfjs backend, as one object the backend
// chooses (a strategy), so that code outside this folder never branches on a backend's name.
import * as tf from '@tensorflow/tfjs';

export interface BackendTraits {
  /** The active backend (`wasm`, `webgpu`, `cpu`, `tensorflow`, ...). */
  name: string;
  /**
   * Tensors can be read synchronously (dataSync): the incremental decoder keeps its residual stream in JS and reads
   * each layer back. WebGPU in Node cannot, so its scorer takes the plain path, which reads asynchronously.
   */
  readsSynchronously: boolean;
  /**
   * Bytes of activations one training forward/backward pass may keep, or null for no limit: the wasm heap is 4 GiB
   * at most, so the trainer runs a large batch in parts within 1.5 GiB (trainer.ts rowsPerPass).
   */
  passBudgetBytes: number | null;
}

const BY_BACKEND: Record<string, Omit<BackendTraits, 'name'>> = {
  wasm: { readsSynchronously: true, passBudgetBytes: 1.5 * 2 ** 30 },
  webgpu: { readsSynchronously: false, passBudgetBytes: null },
};
const OTHERS: Omit<BackendTraits, 'name'> = { readsSynchronously: true, passBudgetBytes: null };

/** The name of the backend tfjs runs on now. */
export function activeBackendName(): string {
  return tf.engine().backendName;
}

/** The traits of the backend tfjs runs on now. */
export function backendTraits(): BackendTraits {
  const name = activeBackendName();
  return { name, ...(BY_BACKEND[name] ?? OTHERS) };
}

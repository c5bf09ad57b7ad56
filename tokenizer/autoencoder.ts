// The pieces RQ-VAE and (R)FSQ share: an MLP encoder/decoder whose dense layers take gradients by plain
// 2-D matMuls (tfjs' own matMul gradient uses transpose flags, 10-20x slower on wasm), gradient helpers
// (stop-gradient, straight-through), and a mini-batch training loop with Adam and a loss curve.
import * as tf from '@tensorflow/tfjs';
import { Progress } from './io/index.js';
import { permutation, type Rng } from './rng.js';

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/** Identity forward, zero gradient (PyTorch's `.detach()`). */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x), // same shape as x
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as CustomGradFn) as (x: tf.Tensor) => tf.Tensor;

/** Forward `quantized`, backward straight into `x` (x + sg(quantized - x), the straight-through estimator). */
export const straightThrough = tf.customGrad(((x: tf.Tensor, quantized: tf.Tensor) => ({
  value: tf.clone(quantized), // same shape as x
  gradFunc: (dy: tf.Tensor) => [dy, tf.zerosLike(dy)],
})) as unknown as CustomGradFn) as (x: tf.Tensor, quantized: tf.Tensor) => tf.Tensor;

/** y = x w + b with a gradient made of plain 2-D matMuls over pre-transposed operands. */
const dense = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b), // [rows, out]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      return [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), // [rows, in]
        tf.matMul(tf.transpose(xs), dy as tf.Tensor2D), // [in, out]
        tf.sum(dy, 0), // [out]
      ];
    },
  };
}) as unknown as CustomGradFn) as (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

/** A ReLU MLP: sizes [in, h1, ..., out]; no activation after the last layer. */
export class Mlp {
  readonly weights: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];

  constructor(readonly sizes: number[], rng: Rng, name: string) {
    for (let i = 0; i + 1 < sizes.length; i++) {
      const fanIn = sizes[i];
      const fanOut = sizes[i + 1];
      const limit = Math.sqrt(6 / (fanIn + fanOut)); // Glorot uniform
      const w = new Float32Array(fanIn * fanOut);
      for (let j = 0; j < w.length; j++) w[j] = (2 * rng.next() - 1) * limit;
      this.weights.push(ownedVariable(tf.tensor2d(w, [fanIn, fanOut]), `${name}_w${i}`)); // [in, out]
      this.biases.push(ownedVariable(tf.zeros([fanOut]), `${name}_b${i}`)); // [out]
    }
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x; // [rows, sizes[0]]
    for (let i = 0; i < this.weights.length; i++) {
      h = dense(h, this.weights[i], this.biases[i]); // [rows, sizes[i + 1]]
      if (i + 1 < this.weights.length) h = tf.relu(h); // [rows, sizes[i + 1]]
    }
    return h;
  }

  get variables(): tf.Variable[] {
    return [...this.weights, ...this.biases];
  }

  /** Number of parameters (for state files). */
  get parameterCount(): number {
    let n = 0;
    for (let i = 0; i + 1 < this.sizes.length; i++) n += this.sizes[i] * this.sizes[i + 1] + this.sizes[i + 1];
    return n;
  }

  /** All weights then all biases, flattened. */
  toArray(): Float32Array {
    const out = new Float32Array(this.parameterCount);
    let o = 0;
    for (const v of this.variables) {
      const d = v.dataSync() as Float32Array;
      out.set(d, o);
      o += d.length;
    }
    return out;
  }

  fromArray(values: Float32Array): void {
    let o = 0;
    for (const v of this.variables) {
      const n = v.size;
      tf.tidy(() => v.assign(tf.tensor(values.subarray(o, o + n), v.shape))); // same shape as v
      o += n;
    }
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

let counter = 0;

/** A trainable variable initialised from `init` (disposed: tf.variable keeps its own reference). */
export function ownedVariable(init: tf.Tensor, name: string): tf.Variable {
  counter += 1;
  const v = tf.variable(init, true, `${name}_${counter}`);
  init.dispose();
  return v;
}

export interface TrainLoopOptions {
  label: string;
  x: tf.Tensor2D; // [rows, dim]
  epochs: number;
  batchSize: number;
  learningRate: number;
  variables: tf.Variable[];
  rng: Rng;
  silent?: boolean;
  /** Loss of one batch (`rows`: its row indices into `x`); returns the scalar to minimise and the reconstruction part (sum over dims, mean over rows). */
  loss: (batch: tf.Tensor2D, rows: Int32Array) => { loss: tf.Scalar; reconstruction: tf.Scalar };
  /** Called after each batch (outside the gradient), e.g. to count code usage. */
  afterBatch?: (batch: tf.Tensor2D) => void;
  /** Called at the end of each epoch; may return fields for the curve (restarts, codes used). */
  afterEpoch?: (epoch: number) => Record<string, number>;
  /** Reconstruction errors are multiplied by this in the progress line and the curve (normalised -> input units). */
  reconstructionUnits?: number;
}

export interface CurvePoint {
  epoch: number;
  loss: number;
  reconstruction: number;
  [key: string]: number;
}

/** Mini-batch Adam over shuffled rows; returns the per-epoch curve (means over the epoch's batches). */
export function trainLoop(opts: TrainLoopOptions): CurvePoint[] {
  const rows = opts.x.shape[0];
  const batchSize = Math.min(opts.batchSize, rows);
  const batches = Math.ceil(rows / batchSize);
  const optimizer = tf.train.adam(opts.learningRate);
  const progress = new Progress({ label: opts.label, total: opts.epochs * batches, unit: 'step', silent: opts.silent });
  const curve: CurvePoint[] = [];
  const units = opts.reconstructionUnits ?? 1;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const order = permutation(rows, opts.rng);
      let lossSum = 0;
      let reconSum = 0;
      for (let b = 0; b < batches; b++) {
        const rowIds = Int32Array.from(order.subarray(b * batchSize, Math.min(rows, (b + 1) * batchSize)));
        const idx = tf.tensor1d(rowIds, 'int32'); // [batch]
        const batch = tf.gather(opts.x, idx) as tf.Tensor2D; // [batch, dim]
        idx.dispose();
        let recon: tf.Scalar | null = null;
        const loss = optimizer.minimize(() => {
          const out = opts.loss(batch, rowIds);
          recon = tf.keep(out.reconstruction);
          return out.loss;
        }, true, opts.variables);
        lossSum += loss!.dataSync()[0];
        reconSum += (recon as tf.Scalar | null)?.dataSync()[0] ?? NaN;
        loss!.dispose();
        (recon as tf.Scalar | null)?.dispose();
        opts.afterBatch?.(batch);
        batch.dispose();
        progress.tick(1, { epoch, loss: lossSum / (b + 1), recon: (reconSum / (b + 1)) * units });
      }
      const extra = opts.afterEpoch?.(epoch) ?? {};
      curve.push({ epoch, loss: lossSum / batches, reconstruction: (reconSum / batches) * units, ...extra });
    }
  } finally {
    optimizer.dispose();
  }
  progress.finish();
  return curve;
}

/** Runs `f` over row blocks of `x` (JS data) and concatenates the Float32/Int32 outputs. */
export function mapRowBlocks<T extends Float32Array | Int32Array>(
  rows: number, block: number, width: number, make: (n: number) => T, f: (start: number, end: number) => tf.Tensor,
): T {
  const out = make(rows * width);
  for (let start = 0; start < rows; start += block) {
    const end = Math.min(rows, start + block);
    const t = f(start, end);
    out.set(t.dataSync() as T, start * width);
    t.dispose();
  }
  return out;
}

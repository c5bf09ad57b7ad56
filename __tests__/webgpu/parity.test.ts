// webgpu (Dawn over Vulkan; lavapipe on CI) against wasm: the same seeded training steps and the same beam
// search on both backends, compared within a stated tolerance. One process has one active tfjs backend,
// so each run is a whole sequence on one backend whose numbers are read out as plain arrays before the
// next backend starts; both start from the same weights (made on wasm, loaded through the model format).
//
// Skips with a message where no WebGPU adapter exists, unless SEMID_REQUIRE_WEBGPU=1 (set by .ci/run once
// it installed the driver): then a missing adapter is a failure.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../seq2seq/backend/index.js';
import {
  AdamW, Batcher, Vocab, batchLoss, createModel, modelArtifacts, modelFromArtifacts,
  resolveModelConfig, resolveTrainConfig, type ModelManifest, type TokenModel, type TrainingExample,
} from '../../seq2seq/index.js';
import { PrefixTrie, beamSearch, type Candidate } from '../../decoding/index.js';
import type { SemanticIds } from '../../tokenizer/index.js';
import { probeWebGpuAdapter } from '../../seq2seq/backend/webgpu.js';
import { beamScorer } from '../seq2seq/helpers.js';

/** Largest allowed |loss_webgpu - loss_wasm| at any step (float32; summation order differs by backend). */
const LOSS_TOLERANCE = 1e-4;
/** Largest allowed |score_webgpu - score_wasm| of a beam candidate (a sum of 3 log-probabilities). */
const SCORE_TOLERANCE = 1e-4;
/** Largest allowed |w_webgpu - w_wasm| of any weight after the steps. Measured on lavapipe: all three about 1e-6. */
const WEIGHT_TOLERANCE = 1e-4;
const STEPS = 12;

const probe = await probeWebGpuAdapter();
const required = process.env.SEMID_REQUIRE_WEBGPU === '1';
if (!probe.ok && !required) {
  console.warn(`webgpu parity tests skipped: ${probe.message} (.ci/run installs lavapipe; see semid doctor)`);
}
const describeWebGpu = probe.ok || required ? describe : describe.skip;

// --- A tiny catalog and users with a learnable next-item rule (self-contained). ---

const LEVELS = [4, 3, 3];
const ITEMS = 30;

function catalog(): SemanticIds {
  const codes = new Int32Array(ITEMS * LEVELS.length);
  for (let i = 0; i < ITEMS; i++) codes.set([i % 4, Math.floor(i / 4) % 3, Math.floor(i / 12) % 3], i * LEVELS.length);
  return { levels: LEVELS, codes };
}

function examples(users: number): TrainingExample[] {
  const out: TrainingExample[] = [];
  for (let u = 0; u < users; u++) {
    const seq = [(u * 7 + 3) % ITEMS];
    for (let t = 1; t < 6; t++) seq.push((seq[t - 1] * 7 + 2) % ITEMS);
    const h = 2 + (u % 4);
    out.push({ user: u, history: Int32Array.from(seq.slice(0, h)), target: seq[h] });
  }
  return out;
}

interface RunResult {
  losses: number[];
  weights: Map<string, Float32Array>;
  candidates: Candidate[][];
  leaked: number;
  stepMs: number[];
}

/** Trains STEPS AdamW steps from the given weights on the active backend, then beam-searches; reads everything out. */
async function trainAndSearch(backend: string, start: { manifest: ModelManifest; bytes: Uint8Array }): Promise<RunResult> {
  await initBackend({ backend, quiet: true });
  expect(tf.getBackend()).toBe(backend);
  const before = tf.memory().numTensors;
  const model = modelFromArtifacts(start.manifest, start.bytes) as TokenModel;
  const trainConfig = resolveTrainConfig({ batchSize: 16, weightDecay: 0.01 });
  const opt = new AdamW(model, trainConfig);
  const batcher = new Batcher(model.vocab, catalog(), model.config.maxHistory, model.config.historyTokens);
  const data = examples(48);
  const losses: number[] = [];
  const stepMs: number[] = [];
  const vars = [...model.params.vars.entries()];
  for (let step = 1; step <= STEPS; step++) {
    const t0 = performance.now();
    const first = ((step - 1) * 16) % data.length;
    const batch = batcher.batch(data.slice(first, first + 16));
    const { value, grads } = tf.variableGrads(() => batchLoss(model, batch, null), vars.map(([, v]) => v));
    const byName = new Map(vars.map(([name, v]) => [name, grads[v.name]]));
    opt.apply(byName, 0.01, step);
    losses.push((await value.data())[0]); // async read: webgpu has no dataSync in Node
    tf.dispose([value, ...Object.values(grads)]);
    stepMs.push(performance.now() - t0);
  }
  const weights = new Map<string, Float32Array>();
  for (const [name, v] of vars) weights.set(name, (await v.data()) as Float32Array);

  const scorer = beamScorer(model, catalog());
  const users = data.slice(0, 6).map((e) => ({ user: e.user, history: e.history }));
  const { candidates } = await beamSearch(scorer, PrefixTrie.build(catalog()), users, { beamSize: 8, topK: 5 });
  opt.dispose();
  model.dispose();
  return { losses, weights, candidates, leaked: tf.memory().numTensors - before, stepMs };
}

describeWebGpu('webgpu matches wasm', () => {
  let wasm: RunResult;
  let webgpu: RunResult;

  beforeAll(async () => {
    if (!probe.ok) throw new Error(`SEMID_REQUIRE_WEBGPU=1 but there is no WebGPU adapter: ${probe.message}`);
    await initBackend({ backend: 'wasm', quiet: true });
    const config = resolveModelConfig({
      encoderLayers: 1, decoderLayers: 1, dModel: 32, heads: 2, headDim: 16, dFF: 64, dropout: 0, userBuckets: 8, maxHistory: 8, seed: 3,
    });
    const fresh = createModel(config, new Vocab({ levels: LEVELS, userBuckets: config.userBuckets }));
    const start = await modelArtifacts(fresh); // read on wasm; webgpu then loads these exact bytes
    fresh.dispose();
    wasm = await trainAndSearch('wasm', start);
    webgpu = await trainAndSearch('webgpu', start);
    const maxLoss = Math.max(...wasm.losses.map((l, i) => Math.abs(l - webgpu.losses[i])));
    const maxScore = Math.max(...wasm.candidates.flatMap((cs, u) => cs.map((c, k) => Math.abs(c.score - (webgpu.candidates[u][k]?.score ?? NaN)))));
    let maxWeight = 0;
    for (const [name, w] of wasm.weights) {
      const g = webgpu.weights.get(name)!;
      for (let i = 0; i < w.length; i++) maxWeight = Math.max(maxWeight, Math.abs(w[i] - g[i]));
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`webgpu parity on "${probe.adapter.name}": max |loss diff| over ${STEPS} steps ${maxLoss.toExponential(2)}, `
      + `max |weight diff| ${maxWeight.toExponential(2)}, max |beam score diff| ${maxScore.toExponential(2)}; `
      + `median step wasm ${med(wasm.stepMs.slice(2)).toFixed(1)} ms, webgpu ${med(webgpu.stepMs.slice(2)).toFixed(1)} ms `
      + `(first webgpu step ${webgpu.stepMs[0].toFixed(0)} ms: shader compilation)`);
  }, 120000);

  afterAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it('gives the same training losses, step by step', () => {
    expect(webgpu.losses).toHaveLength(STEPS);
    for (let i = 0; i < STEPS; i++) {
      expect(Number.isFinite(webgpu.losses[i])).toBe(true);
      expect(Math.abs(webgpu.losses[i] - wasm.losses[i])).toBeLessThanOrEqual(LOSS_TOLERANCE);
    }
    // The steps trained something: a comparison of two constant sequences would prove little.
    expect(wasm.losses[STEPS - 1]).toBeLessThan(wasm.losses[0] - 0.1);
  });

  it('ends with the same weights', () => {
    let worst = 0;
    for (const [name, w] of wasm.weights) {
      const g = webgpu.weights.get(name)!;
      expect(g).toHaveLength(w.length);
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - g[i]));
    }
    expect(worst).toBeLessThanOrEqual(WEIGHT_TOLERANCE);
  });

  it('gives the same beam search results and scores', () => {
    expect(webgpu.candidates).toHaveLength(wasm.candidates.length);
    for (let u = 0; u < wasm.candidates.length; u++) {
      const a = wasm.candidates[u];
      const b = webgpu.candidates[u];
      expect(b).toHaveLength(a.length);
      for (let k = 0; k < a.length; k++) {
        expect(Math.abs(a[k].score - b[k].score)).toBeLessThanOrEqual(SCORE_TOLERANCE);
        // Items agree wherever the ranking is not a near-tie that float rounding may flip.
        const gapBefore = k > 0 ? a[k - 1].score - a[k].score : Infinity;
        const gapAfter = k + 1 < a.length ? a[k].score - a[k + 1].score : Infinity;
        if (Math.min(gapBefore, gapAfter) > 2 * SCORE_TOLERANCE) expect(b[k].item).toBe(a[k].item);
      }
    }
  });

  it('leaks no tensors on either backend', () => {
    expect(wasm.leaked).toBe(0);
    expect(webgpu.leaked).toBe(0);
  });
});

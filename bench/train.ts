// `train`: training throughput of the sequence model (forward, loss, backward, clipping, AdamW) through the
// trainer users run, on random tokens shaped like the PyTorch reference's: batch 256, 20 history items x 4
// codes + a user token = 81 encoder tokens, 4 target codes, a 12,101-item catalog of 4 x 256 codes.
import { randomCatalog } from '../decoding/index.js';
import { createModel, resolveTrainConfig, train, Vocab } from '../seq2seq/index.js';
import type { TrainingExample } from '../seq2seq/index.js';
import { summarize } from './measure.js';
import { benchModelConfig, benchModelLabel, benchModelName, encoderTokens, modelsByPreset, parseBenchModel } from './models.js';
import { recordNumber } from './reference.js';
import type { Figure, ReferenceRecord, ReferenceRun, Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

export interface TrainBenchConfig {
  presets: string[];
  batchSize: number;
  historyItems: number;
  items: number;
  users: number;
  warmup: number;
  runs: number;
  stepsPerRun: number;
}

/** The reference's protocol: 2 warm-up steps, then 5 runs of 2 steps; the median run gives s/step. */
export const FULL_TRAIN: TrainBenchConfig = {
  presets: ['small', 'tiger', 'small+item', 'tiger+item'], batchSize: 256, historyItems: 20, items: 12_101, users: 22_363, warmup: 2, runs: 5, stepsPerRun: 2,
};
export const QUICK_TRAIN: TrainBenchConfig = {
  presets: ['tiny', 'tiny+item'], batchSize: 8, historyItems: 3, items: 300, users: 50, warmup: 1, runs: 2, stepsPerRun: 1,
};
const REDUCED = { warmup: 1, runs: 1, stepsPerRun: 1 };

const LEVELS = [256, 256, 256, 256];

/** Random examples: `count` users with `historyItems` random items and a random target (seeded). */
export function randomExamples(count: number, historyItems: number, items: number, users: number, seed = 1): TrainingExample[] {
  let s = seed >>> 0 || 1;
  const next = (n: number): number => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
  return Array.from({ length: count }, () => ({
    user: next(users),
    history: Int32Array.from({ length: historyItems }, () => next(items)),
    target: next(items),
  }));
}

async function benchPreset(part: string, c: TrainBenchConfig, workDir: string): Promise<Figure[]> {
  const benchModel = parseBenchModel(part);
  const { preset } = benchModel;
  const name = benchModelName(benchModel);
  const modelConfig = benchModelConfig(benchModel, { maxHistory: c.historyItems });
  const vocab = new Vocab({ levels: LEVELS, userBuckets: modelConfig.userBuckets });
  const catalog = randomCatalog(c.items, LEVELS);
  // Four batches' worth of examples (as the reference cycles 4 batches): every batch is full.
  const examples = randomExamples(4 * c.batchSize, c.historyItems, c.items, c.users);
  const steps = c.warmup + c.runs * c.stepsPerRun;
  const trainConfig = resolveTrainConfig({
    batchSize: c.batchSize, steps, lr: 1e-3, warmupSteps: 0, evalEvery: 0, checkpointEvery: steps + 1, seed: 0,
  }, preset);
  const model = createModel(modelConfig, vocab);
  const data = model.trainingSet({ sequences: [], examples: () => examples, itemCodes: catalog });
  let params = 0;
  for (const [, v] of model.params.vars) params += v.size;
  const stamps: number[] = [];
  const losses: number[] = [];
  const t0 = performance.now();
  let result;
  try {
    result = await train({
      model, config: trainConfig, data, outDir: `${workDir}/train-${name}`, silent: true,
      onStep: (_step, loss) => {
        stamps.push(performance.now());
        losses.push(loss);
      },
    });
  } finally {
    model.dispose();
  }
  const stepSeconds = stamps.map((t, i) => (t - (i === 0 ? t0 : stamps[i - 1])) / 1000);
  const runSeconds: number[] = [];
  for (let r = 0; r < c.runs; r++) {
    const first = c.warmup + r * c.stepsPerRun;
    const run = stepSeconds.slice(first, first + c.stepsPerRun);
    runSeconds.push(run.reduce((a, b) => a + b, 0) / c.stepsPerRun);
  }
  const samples = summarize(runSeconds);
  const srcLen = encoderTokens(benchModel, c.historyItems, LEVELS.length);
  const tokensPerSeq = srcLen + LEVELS.length;
  const detail = {
    preset, layout: benchModel.layout, params, batchSize: c.batchSize, encoderTokens: srcLen, tokensPerSequence: tokensPerSeq,
    warmupSteps: c.warmup, runs: c.runs, stepsPerRun: c.stepsPerRun, stepSeconds: samples,
    lossFirst: losses[0], lossLast: losses[losses.length - 1], trainerSteps: result.step,
    model: modelConfig,
  };
  const label = benchModelLabel(benchModel, c.historyItems, LEVELS.length);
  return [
    {
      key: `train.${name}.seqPerSec`, label: `train ${label}, batch ${c.batchSize}`, value: c.batchSize / samples.median,
      unit: 'seq/s', higherIsBetter: true, samples, detail,
    },
    {
      key: `train.${name}.tokPerSec`, label: `train ${label}, tokens (${tokensPerSeq}/seq)`, value: (c.batchSize * tokensPerSeq) / samples.median,
      unit: 'tok/s', higherIsBetter: true, samples,
    },
  ];
}

export const trainSuite: Suite = {
  name: 'train',
  describe: 'training sequences/s and tokens/s, `small` and `tiger`, batch 256, per-code (81-token, the reference\'s) and item (21-token) encoder input, random tokens',
  usesBackend: true,
  threadsVariant: true,
  webgpuVariant: true,
  parts(options: { quick: boolean }, variant: Variant): string[] {
    const presets = (options.quick ? QUICK_TRAIN : FULL_TRAIN).presets;
    return variant.reduced ? presets.slice(0, 1) : presets;
  },
  async run(options: SuiteOptions, variant: Variant): Promise<VariantOutput> {
    const full = options.quick ? QUICK_TRAIN : FULL_TRAIN;
    const base = options.part ? { ...full, presets: [options.part] } : full;
    // A software GPU adapter is for correctness, far slower than wasm: one preset, one timed repetition.
    const c = variant.reduced ? { ...base, ...REDUCED, presets: base.presets.slice(0, 1) } : base;
    const figures: Figure[] = [];
    for (const preset of c.presets) figures.push(...(await benchPreset(preset, c, options.workDir)));
    return { figures, notes: variant.reduced ? ['reduced on this backend: first preset only, 1 warm-up step, 1 timed step'] : [] };
  },
  reference(): ReferenceRun[] {
    return modelsByPreset(FULL_TRAIN.presets).map(([preset, models]) => ({
      args: ['--preset', preset, '--bench', 'train', '--batch', String(FULL_TRAIN.batchSize), '--warmup', String(FULL_TRAIN.warmup),
        '--runs', String(FULL_TRAIN.runs), '--steps-per-run', String(FULL_TRAIN.stepsPerRun)],
      figures: (records: ReferenceRecord[]): Figure[] => {
        const r = records.find((x) => x.bench === 'train' && x.preset === preset);
        if (!r) return [];
        const samples = r.step_s as Figure['samples'];
        const seq = recordNumber(r, 'seq_per_s.median');
        const tok = recordNumber(r, 'tok_per_s.median');
        return models.flatMap(({ name, acrossLayouts }): Figure[] => {
          const sequences: Figure = {
            key: `train.${name}.seqPerSec`, label: `train ${preset}, batch ${FULL_TRAIN.batchSize}${acrossLayouts ? ' (PyTorch: per-code, 81 tokens)' : ''}`,
            value: seq, unit: 'seq/s', higherIsBetter: true, samples,
          };
          // Across layouts only sequences/s compare (a sequence is 25 tokens in one, 85 in the other).
          return acrossLayouts ? [sequences] : [sequences, { key: `train.${name}.tokPerSec`, label: `train ${preset}, tokens (85/seq)`, value: tok, unit: 'tok/s', higherIsBetter: true, samples }];
        });
      },
    }));
  },
};

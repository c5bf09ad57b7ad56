// `causal`: the models that learn from every position (issue 15), on Amazon Beauty with the reference semantic IDs
// (sids/rqvae.json, disambiguated as `semid tokenize fit --method fixed` does): training windows/s and targets/s
// through the trainer users run (the causal model with the autoregressive head, the parallel head with and without
// the per-item ID embedding, and SASRec-CE), and ranking users/s through `semid eval`'s ranking (autoregressive:
// trie beam search, beam 20; parallel and SASRec: exact top-10 of the whole catalog), random weights. The PyTorch
// reference is sasrec_ref.py (SASRec-CE, plain PyTorch) on the same Beauty.txt, in the same run.
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PrefixTrie, randomCatalog } from '../decoding/index.js';
import {
  DEFAULT_GENERATE, generateData, leaveOneOut, rankWithModel, readDataset, readImportedIds, trainingSequences, type Sequences,
} from '../pipelines/index.js';
import { createModel, resolveModelConfig, resolveTrainConfig, train, Vocab } from '../seq2seq/index.js';
import type { ModelConfig, SequenceModel, TrainingSet } from '../seq2seq/index.js';
import { disambiguate, type SemanticIds } from '../tokenizer/index.js';
import { beautyAbsent, beautyFiles, loadBeauty } from './datasets.js';
import { summarize } from './measure.js';
import { recordNumber, SASREC_REFERENCE } from './reference.js';
import type { Figure, ReferenceOptions, ReferenceRecord, ReferenceRun, ReferenceTiming, Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

/**
 * The models timed: the `causal` preset's stack with each head (every head field given, so a change of the preset's
 * defaults does not change what a name means), and the `sasrec` preset.
 */
const MODELS: Record<string, { preset: string; model: Partial<ModelConfig>; label: string }> = {
  'causal-ar': { preset: 'causal', model: { head: 'autoregressive', idEmbedding: false, headLoss: 'levels' }, label: 'causal, autoregressive head' },
  'causal-par': { preset: 'causal', model: { head: 'parallel', idEmbedding: false, headLoss: 'levels' }, label: 'causal, parallel head' },
  'causal-par+id': { preset: 'causal', model: { head: 'parallel', idEmbedding: true, headLoss: 'levels' }, label: 'causal, parallel head + ID embedding' },
  'causal-par+id+cat': {
    preset: 'causal', model: { head: 'parallel', idEmbedding: true, headLoss: 'catalog' }, label: 'causal, parallel head + ID embedding, catalog softmax loss',
  },
  sasrec: { preset: 'sasrec', model: {}, label: 'SASRec-CE' },
};
const TRAIN_MODELS = ['causal-ar', 'causal-par', 'causal-par+id', 'causal-par+id+cat', 'sasrec'];
const RANK_MODELS = ['causal-ar', 'causal-par', 'causal-par+id+cat', 'sasrec'];

/** Issue 15's decoding goals on one core (users/s). */
const RANK_GOALS: Record<string, number> = { 'causal-ar': 500, 'causal-par': 2000, 'causal-par+id+cat': 2000 };

export interface CausalBenchConfig {
  /** Training: untimed steps, then `runs` runs of `stepsPerRun` steps (the preset's batch size and schedule). */
  warmupSteps: number;
  runs: number;
  stepsPerRun: number;
  /** Ranking: users per batch (`semid eval`'s default), untimed batches, timed batches. */
  batchUsers: number;
  warmupBatches: number;
  rankBatches: number;
  beamSize: number;
  topK: number;
  /** Overrides of the presets' model sizes (quick runs only). */
  model: Partial<ModelConfig>;
  /** Training batch (windows), the same for every model and the reference (default: the preset's). */
  batchSize?: number;
  /** sasrec_ref.py epochs: the first is untimed, the others give seconds per epoch. */
  referenceEpochs: number;
}

/** Sized to finish in ~5 CPU-minutes with the reference (the machine it was written on shares its cores). */
export const FULL_CAUSAL: CausalBenchConfig = {
  warmupSteps: 5, runs: 3, stepsPerRun: 10, batchUsers: 256, warmupBatches: 1, rankBatches: 4, beamSize: 20, topK: 10, model: {}, batchSize: 128, referenceEpochs: 2,
};
export const QUICK_CAUSAL: CausalBenchConfig = {
  warmupSteps: 1, runs: 2, stepsPerRun: 2, batchUsers: 16, warmupBatches: 1, rankBatches: 2, beamSize: 5, topK: 3,
  model: { dModel: 16, heads: 2, headDim: 8, dFF: 32, maxHistory: 5 }, batchSize: 16, referenceEpochs: 2,
};
const QUICK_DATA = { ...DEFAULT_GENERATE, users: 200, items: 120 };
const QUICK_LEVELS = [8, 8, 8];

interface BenchData {
  name: string;
  sequences: Sequences;
  itemCodes: SemanticIds;
  items: number;
}

function beautyIds(dataDir: string | null): string | null {
  const path = dataDir ? join(dataDir, 'beauty', 'sids', 'rqvae.json') : null;
  return path && existsSync(path) ? path : null;
}

/** Beauty with the reference IDs (imported once per suite run into the shared cache), or generated data (--quick). */
async function benchData(options: SuiteOptions): Promise<BenchData | string> {
  if (options.quick) {
    const g = generateData(QUICK_DATA);
    return { name: `generated (${QUICK_DATA.users} users, ${QUICK_DATA.items} items)`, sequences: g.sequences, itemCodes: randomCatalog(QUICK_DATA.items, QUICK_LEVELS), items: QUICK_DATA.items };
  }
  const files = beautyFiles(options.dataDir);
  const ids = beautyIds(options.dataDir);
  if (!files || !ids) return files ? `Amazon Beauty's reference IDs not found (${options.dataDir}/beauty/sids/rqvae.json): skipped` : beautyAbsent(options.dataDir);
  const dir = join(options.cacheDir ?? options.workDir, 'beauty');
  const dataset = existsSync(join(dir, 'manifest.json')) ? await readDataset(dir) : await loadBeauty(files, dir);
  const imported = await readImportedIds(ids);
  const itemCodes = disambiguate(imported, Math.max(...imported.levels));
  const items = dataset.items.keys.length;
  if (itemCodes.codes.length / itemCodes.levels.length !== items) throw new Error(`${ids} has IDs for ${itemCodes.codes.length / itemCodes.levels.length} items, Beauty has ${items}`);
  return { name: 'Amazon Beauty, reference IDs (rqvae + disambiguation code)', sequences: dataset.sequences, itemCodes, items };
}

function modelConfigOf(name: string, c: CausalBenchConfig): { preset: string; config: ModelConfig } {
  const m = MODELS[name];
  if (!m) throw new Error(`bench causal: unknown model "${name}": expected one of ${Object.keys(MODELS).join(', ')}`);
  return { preset: m.preset, config: resolveModelConfig({ ...m.model, ...c.model }, m.preset) };
}

function newModel(name: string, c: CausalBenchConfig, data: BenchData): { model: SequenceModel; preset: string; config: ModelConfig } {
  const { preset, config } = modelConfigOf(name, c);
  const vocab = new Vocab({ levels: data.itemCodes.levels, userBuckets: config.userBuckets, items: data.items });
  return { model: createModel(config, vocab), preset, config };
}

/** The training set, with every batch the trainer asks for recorded (rows, targets, positions). */
function observed(set: TrainingSet, batches: { rows: number; targets: number; positions: number }[]): TrainingSet {
  return {
    ...set,
    batch: (indices) => {
      const b = set.batch(indices);
      batches.push({ rows: b.size, targets: b.targets, positions: b.positions });
      return b;
    },
  };
}

async function benchTraining(name: string, c: CausalBenchConfig, data: BenchData, workDir: string): Promise<Figure[]> {
  const { model, preset, config } = newModel(name, c, data);
  const steps = c.warmupSteps + c.runs * c.stepsPerRun;
  const trainConfig = resolveTrainConfig({ ...(c.batchSize ? { batchSize: c.batchSize } : {}), steps, evalEvery: 0, checkpointEvery: steps + 1, seed: 0 }, preset);
  const batches: { rows: number; targets: number; positions: number }[] = [];
  const stamps: number[] = [];
  const cpuStamps: number[] = [];
  const losses: number[] = [];
  let rows = 0;
  const params = model.params.count();
  try {
    const set = model.trainingSet({ sequences: trainingSequences(data.sequences), itemCodes: data.itemCodes, examples: () => leaveOneOut(data.sequences, 'train', { maxHistory: config.maxHistory }) });
    rows = set.size;
    await train({
      model, config: trainConfig, data: observed(set, batches), outDir: join(workDir, `train-${name}`), silent: true,
      onStep: (_step, loss) => {
        stamps.push(performance.now());
        cpuStamps.push(cpuSeconds());
        losses.push(loss);
      },
    });
  } finally {
    model.dispose();
  }
  if (batches.length !== steps || stamps.length !== steps) throw new Error(`bench causal: ${name} ran ${stamps.length} steps over ${batches.length} batches, expected ${steps}`);
  const runSeconds: number[] = [];
  const runCpu: number[] = [];
  const runWindows: number[] = [];
  const runTargets: number[] = [];
  for (let r = 0; r < c.runs; r++) {
    const first = c.warmupSteps + r * c.stepsPerRun; // 0-based step index of the run's first step
    const last = first + c.stepsPerRun - 1;
    runSeconds.push((stamps[last] - stamps[first - 1]) / 1000);
    runCpu.push(cpuStamps[last] - cpuStamps[first - 1]);
    const run = batches.slice(first, last + 1);
    runWindows.push(run.reduce((n, b) => n + b.rows, 0));
    runTargets.push(run.reduce((n, b) => n + b.targets, 0));
  }
  const seconds = runSeconds.reduce((a, b) => a + b, 0);
  const cpu = runCpu.reduce((a, b) => a + b, 0);
  const windows = runWindows.reduce((a, b) => a + b, 0);
  const targets = runTargets.reduce((a, b) => a + b, 0);
  const timed = batches.slice(c.warmupSteps);
  const samples = summarize(runSeconds);
  const detail = {
    data: data.name, preset, model: config, params, trainingRows: rows, batchSize: trainConfig.batchSize, lengthBuckets: trainConfig.lengthBuckets,
    warmupSteps: c.warmupSteps, runs: c.runs, stepsPerRun: c.stepsPerRun, runSeconds, runCpuSeconds: runCpu, cpuShare: cpu / seconds, timedWindows: windows, timedTargets: targets,
    targetsPerWindow: targets / windows, meanPositions: timed.reduce((n, b) => n + b.positions, 0) / timed.length,
    windowsPerSecByRun: runWindows.map((w, r) => w / runSeconds[r]), lossFirst: losses[0], lossLast: losses[losses.length - 1],
  };
  const label = `train ${MODELS[name].label}, batch ${trainConfig.batchSize}`;
  return [
    { key: `causal.train.${name}.windowsPerSec`, label: `${label}, windows`, value: windows / seconds, unit: 'windows/s', higherIsBetter: true, samples, detail },
    { key: `causal.train.${name}.targetsPerSec`, label: `${label}, targets`, value: targets / seconds, unit: 'targets/s', higherIsBetter: true, samples },
    {
      key: `causal.train.${name}.targetsPerCpuSec`, label: `${label}, targets per CPU-second`, value: targets / cpu, unit: 'targets/CPU-s', higherIsBetter: true,
      samples: summarize(runCpu),
    },
  ];
}

/** CPU seconds (user + system) this process has used: under a shared core, work per CPU-second is what the load changes least. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function benchRanking(name: string, c: CausalBenchConfig, data: BenchData): Promise<Figure[]> {
  const { model, config } = newModel(name, c, data);
  const figures: Figure[] = [];
  try {
    const scored = model.scorer(data.itemCodes);
    const scorer = scored.kind === 'catalog' ? scored.catalog : scored.step;
    const trie = PrefixTrie.build(data.itemCodes);
    const batches = c.warmupBatches + c.rankBatches;
    const examples = leaveOneOut(data.sequences, 'test', { maxHistory: config.maxHistory, onShortUsers: () => undefined });
    if (examples.length < batches * c.batchUsers) throw new Error(`bench causal: ${data.name} has ${examples.length} test users, the ranking bench needs ${batches * c.batchUsers}`);
    const seconds: number[] = [];
    const cpu: number[] = [];
    let returned = 0;
    let outside = 0;
    let hits = 0;
    for (let b = 0; b < batches; b++) {
      const batch = examples.slice(b * c.batchUsers, (b + 1) * c.batchUsers);
      const t0 = performance.now();
      const c0 = cpuSeconds();
      const r = await rankWithModel({ scorer, trie, examples: batch, topK: c.topK, beamSize: c.beamSize, batchSize: c.batchUsers, progress: false });
      if (b >= c.warmupBatches) {
        seconds.push((performance.now() - t0) / 1000);
        cpu.push(cpuSeconds() - c0);
      }
      for (const list of r.recommended) {
        returned += list.length;
        for (const item of list) if (item < 0 || item >= data.items) outside += 1;
      }
      hits += r.ranks.filter((x) => x >= 0).length;
    }
    if (outside > 0) throw new Error(`bench causal: ${outside} of ${returned} recommendations of ${name} are not catalog items`);
    if (returned !== batches * c.batchUsers * c.topK) throw new Error(`bench causal: ${name} returned ${returned} recommendations, expected ${batches * c.batchUsers * c.topK} (top-${c.topK} of every user)`);
    const samples = summarize(seconds);
    const cpuSamples = summarize(cpu);
    const how = scored.kind === 'catalog' ? `exact top-${c.topK} of ${data.items.toLocaleString('en-US')} items` : `beam ${c.beamSize} top-${c.topK}`;
    const label = `rank ${MODELS[name].label}, ${how}, ${c.batchUsers} users/batch`;
    figures.push({
      key: `causal.rank.${name}.usersPerSec`, label,
      value: c.batchUsers / samples.median, unit: 'users/s', higherIsBetter: true, samples,
      detail: {
        data: data.name, kind: scored.kind, model: config, items: data.items, levels: data.itemCodes.levels, batchUsers: c.batchUsers, warmupBatches: c.warmupBatches,
        rankBatches: c.rankBatches, beamSize: scored.kind === 'beam' ? c.beamSize : null, topK: c.topK, resultsChecked: returned,
        targetsInTopK: hits, weights: 'random (seeded): speed only', goalUsersPerSec: RANK_GOALS[name] ?? null, cpuShare: cpuSamples.median / samples.median,
      },
    }, {
      key: `causal.rank.${name}.usersPerCpuSec`, label: `${label}, per CPU-second`, value: c.batchUsers / cpuSamples.median, unit: 'users/CPU-s', higherIsBetter: true, samples: cpuSamples,
    });
    return figures;
  } finally {
    model.dispose();
  }
}

/** Part names: `train:<model>` and `rank:<model>`. */
function allParts(): string[] {
  return [...TRAIN_MODELS.map((m) => `train:${m}`), ...RANK_MODELS.map((m) => `rank:${m}`)];
}

// ---- the PyTorch reference: sasrec_ref.py on the same data ----

interface RefShape {
  /** Key prefix of its figures: `causal.train.sasrec` pairs with semid's SASRec; others stand alone. */
  name: string;
  label: string;
  args: string[];
}

/** Seconds of each epoch, from the cumulative `trainSeconds` of the per-epoch records. */
function epochSeconds(epochs: ReferenceRecord[]): number[] {
  return epochs.map((r, i) => recordNumber(r, 'trainSeconds') - (i === 0 ? 0 : recordNumber(epochs[i - 1], 'trainSeconds')));
}

interface RecordGap {
  /** Training seconds in the gap (its epoch's `trainSeconds`; 0 before the test record). */
  train: number;
  /** The rest of the gap: one evaluation of every user. */
  evaluation: number;
  /** The script's CPU seconds over the gap's wall seconds (null where /proc could not say). */
  cpuShare: number | null;
}

/**
 * The gaps between records after the first epoch's: a validation record arrives one epoch's training plus one
 * evaluation after the previous record; the test record one evaluation (of the best checkpoint) after the last.
 */
function recordGaps(epochIndex: number[], testIndex: number, perEpoch: number[], timing: ReferenceTiming): RecordGap[] {
  const at = timing.arrivalSeconds;
  if (!at) return [];
  const ends = testIndex > epochIndex[epochIndex.length - 1] ? [...epochIndex, testIndex] : epochIndex;
  const gaps: RecordGap[] = [];
  for (let k = 1; k < ends.length; k++) {
    const wall = at[ends[k]] - at[ends[k - 1]];
    const train = k < epochIndex.length ? perEpoch[k] : 0;
    const c0 = timing.cpuSeconds?.[ends[k - 1]] ?? null;
    const c1 = timing.cpuSeconds?.[ends[k]] ?? null;
    gaps.push({ train, evaluation: wall - train, cpuShare: c0 !== null && c1 !== null && wall > 0 ? (c1 - c0) / wall : null });
  }
  return gaps;
}

/**
 * Figures of one sasrec_ref.py run: rows/s and targets/s from the epochs after the first; ranking users/s from the
 * gaps between its records (recordGaps); per CPU-second figures from the script's CPU share over each gap.
 */
export function sasrecReferenceFigures(shape: RefShape, records: ReferenceRecord[], timing: ReferenceTiming): Figure[] {
  const header = records.find((r) => typeof r.trainRows === 'number');
  const epochIndex = records.flatMap((r, i) => (typeof r.epoch === 'number' ? [i] : []));
  if (!header || epochIndex.length === 0) return [];
  const perEpoch = epochSeconds(epochIndex.map((i) => records[i]));
  const samples = summarize(perEpoch.length > 1 ? perEpoch.slice(1) : perEpoch);
  const rows = recordNumber(header, 'trainRows');
  const targets = recordNumber(header, 'trainTargets');
  const users = recordNumber(header, 'users');
  const gaps = timing.arrivalSeconds?.length === records.length ? recordGaps(epochIndex, records.findIndex((r) => r.test !== undefined), perEpoch, timing) : [];
  const detail = { args: shape.args, users, items: header.items, trainRows: rows, trainTargets: targets, params: header.params, threads: header.threads, epochSeconds: perEpoch, gaps };
  const rankName = shape.name.replace('causal.train.', 'causal.rank.');
  const rankLabel = `rank ${shape.label}: full-catalog scores and the target's rank, 2,048 users/batch`;
  const figures: Figure[] = [
    { key: `${shape.name}.windowsPerSec`, label: `train ${shape.label}, rows (users' sequences)`, value: rows / samples.median, unit: 'windows/s', higherIsBetter: true, samples, detail },
    { key: `${shape.name}.targetsPerSec`, label: `train ${shape.label}, targets`, value: targets / samples.median, unit: 'targets/s', higherIsBetter: true, samples },
  ];
  // Lines that reached us together (a buffered pipe) carry no evaluation time: then no ranking figure.
  if (gaps.length === 0 || gaps.some((g) => !(g.evaluation > 0))) return figures;
  const evaluations = summarize(gaps.map((g) => g.evaluation));
  figures.push({ key: `${rankName}.usersPerSec`, label: rankLabel, value: users / evaluations.median, unit: 'users/s', higherIsBetter: true, samples: evaluations });
  if (gaps.some((g) => !(g.cpuShare! > 0))) return figures;
  const trainCpu = summarize(gaps.filter((g) => g.train > 0).map((g) => g.train * g.cpuShare!));
  const evalCpu = summarize(gaps.map((g) => g.evaluation * g.cpuShare!));
  figures.push(
    { key: `${shape.name}.targetsPerCpuSec`, label: `train ${shape.label}, targets per CPU-second`, value: targets / trainCpu.median, unit: 'targets/CPU-s', higherIsBetter: true, samples: trainCpu },
    { key: `${rankName}.usersPerCpuSec`, label: `${rankLabel}, per CPU-second`, value: users / evalCpu.median, unit: 'users/CPU-s', higherIsBetter: true, samples: evalCpu },
  );
  return figures;
}

/** The generated data as S3-Rec text (`user item item ...`, 1-based), for the reference in --quick runs. */
async function quickSequencesFile(workDir: string): Promise<string> {
  const g = generateData(QUICK_DATA);
  const path = join(workDir, 'quick.txt');
  await writeFile(path, g.sequences.items.map((h, u) => `${u + 1} ${Array.from(h, (i) => i + 1).join(' ')}`).join('\n'));
  return path;
}

async function referenceRuns(options: ReferenceOptions): Promise<ReferenceRun[]> {
  const c = options.quick ? QUICK_CAUSAL : FULL_CAUSAL;
  const files = options.quick ? null : beautyFiles(options.dataDir);
  if (!options.quick && !files) return [];
  const data = files ? files.sequences : await quickSequencesFile(options.workDir);
  const sasrec = modelConfigOf('sasrec', c).config;
  const batch = c.batchSize ?? resolveTrainConfig({}, 'sasrec').batchSize;
  const common = ['--data', data, '--threads', String(options.threads ?? 1), '--epochs', String(c.referenceEpochs), '--eval-every', '1', '--max-minutes', '60'];
  // semid's shapes: its window length, heads, dropout and batch (the reference's FFN width stays d).
  const matched = [...common, '--maxlen', String(sasrec.maxHistory), '--heads', String(sasrec.heads), '--dropout', String(sasrec.dropout), '--batch', String(batch),
    ...(options.quick ? ['--d', String(sasrec.dModel)] : [])];
  // (Its own defaults, maxlen 50, 1 head, dropout 0.5, cost ~1.5x more per epoch here: BENCHMARKS.md.)
  const shapes: RefShape[] = [{ name: 'causal.train.sasrec', label: `PyTorch SASRec-CE, semid's shapes (maxlen ${sasrec.maxHistory}, ${sasrec.heads} heads, dropout ${sasrec.dropout})`, args: matched }];
  return shapes.map((shape) => ({ args: shape.args, figures: (records, timing) => sasrecReferenceFigures(shape, records, timing) }));
}

export const causalSuite: Suite = {
  name: 'causal',
  describe: 'causal semantic-ID model (autoregressive / parallel head, ID embedding) and SASRec-CE on Beauty: training windows/s and targets/s, ranking users/s (beam 20 / exact catalog)',
  usesBackend: true,
  // The goals are one core: one wasm thread; the 2-thread and software-GPU variants say nothing about them.
  threadsVariant: false,
  webgpuVariant: false,
  parts(options: { quick: boolean }, _variant: Variant): string[] {
    // --quick: one child for everything (seconds); full: each model's training and ranking in its own child.
    return options.quick ? [] : allParts();
  },
  async run(options: SuiteOptions, _variant: Variant): Promise<VariantOutput> {
    const c = options.quick ? QUICK_CAUSAL : FULL_CAUSAL;
    const data = await benchData(options);
    if (typeof data === 'string') return { figures: [], notes: [data] };
    const figures: Figure[] = [];
    for (const part of options.part ? [options.part] : allParts()) {
      const [what, name] = part.split(':');
      if (what === 'train') figures.push(...(await benchTraining(name, c, data, options.workDir)));
      else if (what === 'rank') figures.push(...(await benchRanking(name, c, data)));
      else throw new Error(`bench causal: unknown part "${part}": expected train:<model> or rank:<model>`);
    }
    return { figures, notes: options.quick ? ['--quick: generated data, a random code table, tiny model sizes'] : [] };
  },
  referenceScript: SASREC_REFERENCE,
  reference: referenceRuns,
};

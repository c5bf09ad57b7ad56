// `semid run --config pipeline.json`: every stage from one config, in one run directory.
//
//   RUN/config.json      the resolved config (every default filled in)
//   RUN/data/            the data set (generated, imported or copied)
//   RUN/embed/           the data set with its item embeddings (embeddings/default.parquet)
//   RUN/tokenize/        the fitted tokenizer, item codes, report.json
//   RUN/train/           the model, checkpoints, metrics.jsonl
//   RUN/eval/            metrics.json (model and baselines)
//   RUN/recommend/       recommendations and a printed sample
//   RUN/metrics.json     the eval metrics with the stage timings
//   RUN/run.json         what the last invocation did per stage (ran / reused / resumed, seconds)
//   RUN/report.html      the report
//
// Each stage hashes its config section, its upstream outputs and the files it reads (runner.ts), so
// editing only `train` re-trains, re-evaluates and re-recommends without re-tokenizing.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkOutputDir, outputMark, readMark, withLock, writeJsonAtomic, writeMark } from '../tokenizer/io/index.js';
import { runStages, type StageContext, type StageDefinition, type StageOutcome } from './runner.js';
import type { PipelineConfig } from './runConfig.js';
import { writeRunReport } from './report/index.js';

export const STAGE_NAMES = ['data', 'embed', 'tokenize', 'train', 'eval', 'recommend'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Directories a stage reads from, by upstream stage. */
export interface StageDirs {
  /** The data set (RUN/data). */
  data?: string;
  /** The data set with embeddings (RUN/embed): downstream stages use it as their data directory. */
  embed?: string;
  tokenize?: string;
  train?: string;
}

export type StageSummary = Record<string, unknown>;

/**
 * The work of each stage, given the resolved config, its upstream directories and its own output dir.
 * The real ones (stages.ts) call the pipeline functions; tests inject fakes.
 */
export interface StageImplementations {
  /** Checks the stage-specific fields the owning modules validate (model, trainer...); throws naming them. */
  validate?(config: PipelineConfig): void;
  data(config: PipelineConfig, dirs: StageDirs, ctx: StageContext): Promise<StageSummary | void>;
  embed(config: PipelineConfig, dirs: StageDirs, ctx: StageContext): Promise<StageSummary | void>;
  tokenize(config: PipelineConfig, dirs: StageDirs, ctx: StageContext): Promise<StageSummary | void>;
  /** `ctx.resume` is true when a previous attempt with the same inputs was interrupted: continue its checkpoint. */
  train(config: PipelineConfig, dirs: StageDirs, ctx: StageContext): Promise<StageSummary | void>;
  eval(config: PipelineConfig, dirs: StageDirs, ctx: StageContext): Promise<StageSummary | void>;
  recommend(config: PipelineConfig, dirs: StageDirs, ctx: StageContext): Promise<StageSummary | void>;
}

/** External files a stage reads: their contents are part of its key. */
function dataFiles(config: PipelineConfig): string[] {
  if (config.data.source === 'import') return Object.values(config.data.files);
  if (config.data.source === 'path') return [config.data.path!];
  if (config.data.source === 'merge') return Object.values(config.data.domains).flatMap((d) => (d.path ? [d.path] : Object.values(d.files)));
  return [];
}

function defined(...paths: (string | undefined)[]): string[] {
  return paths.filter((p): p is string => p !== undefined);
}

/**
 * The stage graph of a config: what each stage hashes and reads. Sections are hashed whole, so any
 * field a stage reads must be in the config it declares here.
 */
export function pipelineStages(config: PipelineConfig, impl: StageImplementations): StageDefinition[] {
  const dirsOf = (ctx: StageContext): StageDirs => Object.fromEntries(Object.entries(ctx.upstream).map(([n, r]) => [n, r.outDir]));
  const stage = (
    name: StageName,
    after: StageName[],
    stageConfig: unknown,
    inputFiles: string[] = [],
    resumable = false,
  ): StageDefinition => ({
    name,
    after,
    config: stageConfig,
    inputFiles,
    resumable,
    run: (ctx) => impl[name](config, dirsOf(ctx), ctx),
  });
  const { data, embed, tokenize, train, recommend, seed } = config;
  const split = { maxHistory: data.maxHistory };
  return [
    stage('data', [], { ...data, maxHistory: undefined }, dataFiles(config)),
    stage('embed', ['data'], { ...embed, seed: embed.seed ?? seed }, defined(embed.spmModel, embed.from)),
    stage('tokenize', ['embed'], { ...tokenize, seed }, defined(tokenize.from)),
    stage('train', ['embed', 'tokenize'], { ...train, ...split, seed }, [], true),
    stage('eval', ['embed', 'tokenize', 'train'], { ...config.eval, ...split, seed }),
    stage('recommend', ['embed', 'tokenize', 'train'], { ...recommend, ...split }),
  ];
}

export interface RunPipelineOptions {
  config: PipelineConfig;
  runDir: string;
  /** Stages to redo even when unchanged (with everything downstream). */
  force?: string[];
  /** Stop after this stage. */
  until?: string;
  /** Write RUN/report.html at the end (default true). */
  report?: boolean;
  log?: (message: string) => void;
}

export interface RunPipelineResult {
  runDir: string;
  outcomes: StageOutcome[];
  /** The eval stage's metrics.json, when the eval stage ran or was reused. */
  metrics: Record<string, unknown> | null;
  reportPath: string | null;
  seconds: number;
}

/** Runs (or reuses) every stage of `config` in `runDir` with the given stage implementations. */
export async function runPipelineWith(impl: StageImplementations, options: RunPipelineOptions): Promise<RunPipelineResult> {
  const t0 = performance.now();
  const runDir = resolve(options.runDir);
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  for (const name of [...(options.force ?? []), ...(options.until ? [options.until] : [])]) {
    if (!(STAGE_NAMES as readonly string[]).includes(name)) throw new Error(`unknown stage "${name}": expected one of ${STAGE_NAMES.join(', ')}`);
  }
  impl.validate?.(options.config);
  return withLock(runDir, () => runLocked(impl, options, runDir, log, t0));
}

/** A run directory is semid's: marked "run" (or, from before marks, holding config.json); others are refused. */
async function runLocked(impl: StageImplementations, options: RunPipelineOptions, runDir: string, log: (message: string) => void, t0: number): Promise<RunPipelineResult> {
  await checkOutputDir(runDir, { kind: 'run', flag: '--run-dir', signature: ['config.json'] });
  if (!(await readMark(runDir))) await writeMark(runDir, outputMark('run'));
  await mkdir(runDir, { recursive: true });
  await writeJsonAtomic(join(runDir, 'config.json'), options.config);
  log(`semid run: ${options.config.name} -> ${runDir}`);

  const outcomes: StageOutcome[] = [];
  let failure: unknown = null;
  try {
    await runStages(pipelineStages(options.config, impl), {
      runDir, force: options.force, until: options.until, log, onOutcome: (o) => outcomes.push(o),
    });
  } catch (err) {
    failure = err;
  }
  const stages = outcomes.map((o) => ({ name: o.name, status: o.status, seconds: o.status === 'reused' ? o.record.seconds : o.seconds }));
  await writeJsonAtomic(join(runDir, 'run.json'), {
    finishedAt: new Date().toISOString(),
    ok: failure === null,
    error: failure === null ? undefined : (failure as Error).message,
    stages,
  });
  if (failure !== null) throw failure;

  let metrics: Record<string, unknown> | null = null;
  if (outcomes.some((o) => o.name === 'eval')) {
    metrics = JSON.parse(await readFile(join(runDir, 'eval', 'metrics.json'), 'utf8')) as Record<string, unknown>;
    await writeJsonAtomic(join(runDir, 'metrics.json'), { ...metrics, stages });
  }
  let reportPath: string | null = null;
  if (options.report !== false) {
    reportPath = await writeRunReport(runDir);
    log(`report: ${reportPath}`);
  }
  return { runDir, outcomes, metrics, reportPath, seconds: (performance.now() - t0) / 1000 };
}

// The real stages of `semid run`: each calls the pipeline function that owns the work (data import
// or generation, embedding, tokenizer fit, training, evaluation, recommendation) with its section of
// the config, reading its upstream stages' directories and writing its own.
import { copyFile, cp, mkdir, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { resolveModelConfig, resolveTrainConfig } from '../seq2seq/index.js';
import { createTokenizer } from '../tokenizer/index.js';
import { writeJsonAtomic } from '../tokenizer/io/index.js';
import {
  domainIndex, generateDataset, importDataset, mergeDatasets, readDataset, readParquetTable, readUtf8Column, readInt32Column,
  makeTable, utf8Vector, writeParquetTable, checkDatasetOutput, ITEMS_FILE, SEQUENCES_FILE, MANIFEST_FILE, EMBEDDINGS_DIR,
  type ImportOptions,
} from './data/index.js';
import { embedText, importEmbeddings, resolveEmbedTextConfig, type EmbeddingReport } from './embed/index.js';
import { fitTokenizer } from './tokenize.js';
import { trainModel } from './train.js';
import { hasCheckpoint } from './trainDir.js';
import { runEvaluation } from './evaluate/index.js';
import { runRecommend } from './recommend.js';
import { runPipelineWith, type RunPipelineOptions, type RunPipelineResult as BaseResult, type StageDirs, type StageImplementations, type StageSummary } from './run.js';
import type { StageContext } from './runner.js';
import type { PipelineConfig } from './runConfig.js';

/** `RUN/recommend/sample.json`: a few users' recent histories and recommendations, as item text. */
export const SAMPLE_FILE = 'sample.json';
export const SAMPLE_USERS = 10;
const RECS_FILE = 'recs.parquet';

export interface RecommendationSample {
  user: string;
  history: string[];
  items: string[];
}

function prefixed<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new Error(`\`${field}\`: ${(err as Error).message}`);
  }
}

/** The model and trainer fields of a config, merged over the preset, as the trainer will see them. */
export function trainerConfigs(config: PipelineConfig) {
  const { preset, arch, model, trainer } = config.train;
  return {
    model: prefixed('train.model', () => resolveModelConfig({ maxHistory: config.data.maxHistory, arch, seed: config.seed, ...model }, preset)),
    train: prefixed('train.trainer', () => resolveTrainConfig({ seed: config.seed, ...trainer }, preset)),
  };
}

/** The tokenizer method's config: levels and codebook size (not for imported IDs), then its options. */
function tokenizerConfig(config: PipelineConfig): Record<string, unknown> {
  const t = config.tokenize;
  return { ...(t.method === 'fixed' ? {} : { levels: t.levels, codebookSize: t.codebookSize }), ...t.options };
}

/** Copies a data set's files (not its embeddings unless asked) into `out`. */
async function copyDataset(from: string, out: string, withEmbeddings: boolean): Promise<void> {
  await mkdir(out, { recursive: true });
  for (const file of [ITEMS_FILE, SEQUENCES_FILE, MANIFEST_FILE]) await copyFile(join(from, file), join(out, file));
  if (withEmbeddings) {
    const entries = await readdir(join(from, EMBEDDINGS_DIR)).catch(() => [] as string[]);
    if (entries.length) await cp(join(from, EMBEDDINGS_DIR), join(out, EMBEDDINGS_DIR), { recursive: true });
  }
}

const real: StageImplementations = {
  validate(config) {
    // Each owner's own validation, up front, so a typo in a late section fails before the early ones run.
    const e = config.embed;
    if (e.source === 'text') {
      prefixed('embed', () => resolveEmbedTextConfig({ ...e.options, method: e.method, dim: e.dim, seed: e.seed ?? config.seed }));
    }
    prefixed('tokenize', () => createTokenizer(config.tokenize.method, tokenizerConfig(config)));
    trainerConfigs(config);
  },

  async data(config, _dirs, ctx) {
    const d = config.data;
    if (d.source === 'generate') {
      const { manifest, seconds } = await generateDataset(ctx.outDir, d.generate);
      ctx.log(`generated ${manifest.users} users, ${manifest.items} items, ${manifest.interactions} interactions in ${seconds.toFixed(1)} s`);
      return { users: manifest.users, items: manifest.items, interactions: manifest.interactions };
    }
    if (d.source === 'import') {
      const options = { ...d.options, ...d.files, format: d.format!, out: ctx.outDir } as ImportOptions;
      await checkDatasetOutput(ctx.outDir, d.files);
      const { manifest, warnings, seconds } = await importDataset(options);
      for (const w of warnings) ctx.log(w);
      ctx.log(`imported ${manifest.users} users, ${manifest.items} items, ${manifest.interactions} interactions in ${seconds.toFixed(1)} s`);
      return { users: manifest.users, items: manifest.items, interactions: manifest.interactions, warnings };
    }
    if (d.source === 'merge') return mergeDomains(config, ctx);
    await copyDataset(d.path!, ctx.outDir, true);
    const { manifest } = await readDataset(ctx.outDir);
    ctx.log(`copied the data set at ${d.path}: ${manifest.users} users, ${manifest.items} items`);
    return { users: manifest.users, items: manifest.items, interactions: manifest.interactions };
  },

  async embed(config, dirs, ctx) {
    // RUN/embed is the data set plus its embeddings: downstream stages use it as their data directory.
    const e = config.embed;
    await copyDataset(dirs.data!, ctx.outDir, e.source === 'import');
    if (e.source === 'import') {
      const { matched, report } = await importEmbeddings({ ...e.options, data: ctx.outDir, from: e.from!, name: 'default', allowMissing: e.allowMissing });
      ctx.log(`imported ${matched.rows} x ${matched.dim} vectors${matched.filled ? `, ${matched.filled} missing filled` : ''}`);
      return embeddingSummary(report);
    }
    const { report } = await embedText({
      data: ctx.outDir, name: 'default', spmModel: e.spmModel,
      config: { ...e.options, method: e.method, dim: e.dim, seed: e.seed ?? config.seed },
    });
    return embeddingSummary(report);
  },

  async tokenize(config, dirs, ctx) {
    const t = config.tokenize;
    const { report, ids } = await fitTokenizer({
      data: dirs.embed!, method: t.method, config: tokenizerConfig(config), from: t.from, dedupSize: t.dedupSize, seed: config.seed, out: ctx.outDir,
    });
    await writeJsonAtomic(join(ctx.outDir, 'buckets.json'), bucketCounts(ids.codes, ids.levels.length - 1));
    ctx.log(`distinct IDs ${report.distinctIds}/${report.items}, collision rate ${(100 * report.collisionRate).toFixed(2)}%, largest bucket ${report.maxBucket}`);
    return { distinctIds: report.distinctIds, collisionRate: report.collisionRate, maxBucket: report.maxBucket };
  },

  async train(config, dirs, ctx) {
    const { model, train } = trainerConfigs(config);
    const t = config.train;
    const result = await trainModel({
      data: dirs.embed!, tokenizer: dirs.tokenize!, out: ctx.outDir, preset: t.preset, model, train, resume: ctx.resume && (await hasCheckpoint(ctx.outDir)),
      validUsers: t.validUsers, beam: t.validBeam,
    });
    const { step, lastLoss, best, stoppedEarly, seconds, sequencesPerSecond, tokensPerSecond, parameters, examples, popularity } = result;
    if (best) ctx.log(`best ${train.monitor} ${best.metrics[train.monitor]?.toFixed(4)} at step ${best.step}`);
    const finetuned = result.interrupted ? {} : await fineTuneDomains(config, dirs, ctx);
    return { step, lastLoss, best, stoppedEarly, seconds, sequencesPerSecond, tokensPerSecond, parameters, examples, popularity, ...finetuned };
  },

  async eval(config, dirs, ctx) {
    const e = config.eval;
    const report = await runEvaluation({
      data: dirs.embed!, tokenizer: dirs.tokenize!, model: dirs.train!, split: e.split, ks: e.k, beamSize: e.beam,
      users: e.maxUsers > 0 ? e.maxUsers : undefined, maxHistory: config.data.maxHistory, out: join(ctx.outDir, 'metrics.json'),
    });
    const pick = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => /^(recall|ndcg)@10$/.test(k)));
    const baselines = report.baselines as Record<string, Record<string, unknown>>;
    ctx.log(`model ${JSON.stringify(pick(report))}, popularity ${JSON.stringify(pick(baselines.popularity))}`);
    const domainTable = await evaluateFineTuned(config, dirs, ctx, report);
    return { ...pick(report), users: report.users, ...(domainTable ? { domainTable } : {}) };
  },

  async recommend(config, dirs, ctx) {
    const r = config.recommend;
    let input: string | undefined;
    if (r.users !== 'all') {
      const dataset = await readDataset(dirs.embed!);
      input = join(ctx.outDir, 'users.parquet');
      await writeParquetTable(input, makeTable({ user_key: utf8Vector(dataset.sequences.userKeys.slice(0, r.users)) }));
    }
    const out = join(ctx.outDir, RECS_FILE);
    const { shards, issues } = await runRecommend({
      data: dirs.embed!, tokenizer: dirs.tokenize!, model: dirs.train!, input, out, topK: r.topK, beamSize: r.beam,
      excludeHistory: r.excludeHistory, maxHistory: config.data.maxHistory,
    });
    const sample = await recommendationSample(dirs.embed!, out, SAMPLE_USERS);
    await writeJsonAtomic(join(ctx.outDir, SAMPLE_FILE), sample);
    const users = shards.reduce((s, x) => s + x.users, 0);
    return { users, rows: shards.reduce((s, x) => s + x.rows, 0), emptyHistoryUsers: issues.emptyHistory.users };
  },
};

/** Where a run keeps each domain's imported data set before the merge (RUN/domains/NAME). */
function domainDir(ctx: StageContext, name: string): string {
  return join(dirname(ctx.outDir), 'domains', name);
}

/** Data source `merge`: imports the domains given as files (into RUN/domains/NAME), then merges every domain. */
async function mergeDomains(config: PipelineConfig, ctx: StageContext): Promise<StageSummary> {
  const domains = [];
  for (const [name, d] of Object.entries(config.data.domains)) {
    if (d.path) {
      domains.push({ name, dir: d.path });
      continue;
    }
    const dir = domainDir(ctx, name);
    await checkDatasetOutput(dir, d.files);
    const { manifest, warnings } = await importDataset({ ...d.options, ...d.files, format: d.format!, out: dir } as ImportOptions);
    for (const w of warnings) ctx.log(`${name}: ${w}`);
    ctx.log(`${name}: imported ${manifest.users} users, ${manifest.items} items, ${manifest.interactions} interactions`);
    domains.push({ name, dir });
  }
  const { manifest, warnings } = await mergeDatasets({ domains, out: ctx.outDir });
  for (const w of warnings) ctx.log(w);
  ctx.log(`merged ${domains.length} domains: ${manifest.users} users, ${manifest.items} items, ${manifest.interactions} interactions`);
  return { users: manifest.users, items: manifest.items, interactions: manifest.interactions, domains: manifest.domains };
}

/** Where the fine-tuned model of domain `name` is (inside the unified model's stage directory). */
export function fineTunedDir(trainDir: string, name: string): string {
  return join(trainDir, 'finetune', name);
}

/** `train.finetune`: the unified model fine-tuned on each domain (resumable like the unified run). */
async function fineTuneDomains(config: PipelineConfig, dirs: StageDirs, ctx: StageContext): Promise<StageSummary> {
  const f = config.train.finetune;
  if (f.steps === 0) return {};
  const domains = domainIndex(await readDataset(dirs.embed!));
  if (!domains) throw new Error('`train.finetune`: the data set has no domains (use `data.source` "merge")');
  const out: Record<string, unknown> = {};
  for (const name of domains.names) {
    const dir = fineTunedDir(ctx.outDir, name);
    const r = await trainModel({
      data: dirs.embed!, tokenizer: dirs.tokenize!, out: dir, init: ctx.outDir, domain: name, resume: ctx.resume && (await hasCheckpoint(dir)),
      overrides: { ...f.trainer, steps: f.steps }, validUsers: config.train.validUsers, beam: config.train.validBeam,
    });
    ctx.log(`fine-tuned ${name}: ${r.step} steps in ${r.seconds.toFixed(1)} s${r.best ? `, best ${r.train.monitor} ${r.best.metrics[r.train.monitor]?.toFixed(4)} at step ${r.best.step}` : ''}`);
    out[name] = { step: r.step, seconds: r.seconds, examples: r.examples, best: r.best };
  }
  return { finetuned: out };
}

/** Per domain: the unified model's, the fine-tuned model's and the baselines' Recall/NDCG@10 (the report's table). */
export type DomainTable = Record<string, Record<string, { 'recall@10'?: number; 'ndcg@10'?: number }>>;

/** Evaluates each fine-tuned model on its domain; returns the per-domain table (null without domains). */
async function evaluateFineTuned(config: PipelineConfig, dirs: StageDirs, ctx: StageContext, unified: Record<string, unknown>): Promise<DomainTable | null> {
  const byDomain = unified.byDomain as Record<string, Record<string, Record<string, number> | number>> | undefined;
  if (!byDomain) return null;
  const e = config.eval;
  const pick = (m: unknown) => {
    const r = m as Record<string, number> | undefined;
    return r ? { 'recall@10': r['recall@10'], 'ndcg@10': r['ndcg@10'] } : {};
  };
  const table: DomainTable = {};
  for (const [name, d] of Object.entries(byDomain)) {
    const row: DomainTable[string] = { unified: pick(d.model), popularity: pick(d.popularity) };
    if (typeof d.dense === 'object') row.dense = pick(d.dense);
    if (config.train.finetune.steps > 0) {
      const report = await runEvaluation({
        data: dirs.embed!, tokenizer: dirs.tokenize!, model: fineTunedDir(dirs.train!, name), split: e.split, ks: e.k, beamSize: e.beam, domain: name,
        users: e.maxUsers > 0 ? e.maxUsers : undefined, maxHistory: config.data.maxHistory, out: join(ctx.outDir, `finetune-${name}.json`),
      });
      row.finetuned = pick(report);
    }
    table[name] = row;
    ctx.log(`${name}: ${Object.entries(row).map(([k, v]) => `${k} ${v['recall@10']?.toFixed(4) ?? '-'}`).join(', ')} (recall@10)`);
  }
  await writeJsonAtomic(join(ctx.outDir, 'domains.json'), table);
  return table;
}

function embeddingSummary(report: EmbeddingReport): Record<string, unknown> {
  const { items, dim, sameCategoryCosine, randomPairCosine, neighbourCategoryAgreement, chanceAgreement } = report;
  return { items, dim, sameCategoryCosine, randomPairCosine, neighbourCategoryAgreement, chanceAgreement };
}

/** How many IDs (before the disambiguation position) hold 1, 2, 3... items. */
export function bucketCounts(codes: Int32Array, baseWidth: number): Record<number, number> {
  const width = baseWidth + 1;
  const rows = codes.length / width;
  const sizes = new Map<string, number>();
  for (let r = 0; r < rows; r++) {
    const key = Array.from(codes.subarray(r * width, r * width + baseWidth)).join(',');
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
  }
  const counts: Record<number, number> = {};
  for (const n of sizes.values()) counts[n] = (counts[n] ?? 0) + 1;
  return counts;
}

/** The first `users` users of a recommendations file, with their recent history and items as text. */
export async function recommendationSample(dataDir: string, recsPath: string, users: number): Promise<RecommendationSample[]> {
  const dataset = await readDataset(dataDir);
  const textOf = new Map(dataset.items.keys.map((k, i) => [k, dataset.items.texts[i]]));
  const userOf = new Map(dataset.sequences.userKeys.map((k, u) => [k, u]));
  const table = await readParquetTable(recsPath);
  const userKeys = readUtf8Column(table, 'user_key', recsPath);
  const itemKeys = readUtf8Column(table, 'item_key', recsPath);
  const ranks = readInt32Column(table, 'rank', recsPath);
  const byUser = new Map<string, { rank: number; item: string }[]>();
  for (let i = 0; i < userKeys.length; i++) {
    if (!byUser.has(userKeys[i])) {
      if (byUser.size >= users) continue;
      byUser.set(userKeys[i], []);
    }
    byUser.get(userKeys[i])!.push({ rank: ranks[i], item: itemKeys[i] });
  }
  return [...byUser.entries()].map(([user, recs]) => {
    const u = userOf.get(user);
    const history = u === undefined ? [] : Array.from(dataset.sequences.items[u].slice(-5), (i) => dataset.items.texts[i]);
    return { user, history, items: recs.sort((a, b) => a.rank - b.rank).map((r) => textOf.get(r.item) ?? r.item) };
  });
}

export interface RunPipelineResult extends BaseResult {
  /** A few lines for the terminal: where things are, what ran, the headline metrics. */
  summary: string;
}

/** Checks a resolved config with each stage owner's own validation (embedder, tokenizer, model, trainer). */
export function validatePipelineConfig(config: PipelineConfig): void {
  real.validate!(config);
}

/** `semid run`: the whole pipeline of `config` in `runDir` with the real stages. */
export async function runPipeline(options: RunPipelineOptions): Promise<RunPipelineResult> {
  const result = await runPipelineWith(real, options);
  const lines = [`run directory: ${result.runDir} (${result.seconds.toFixed(1)} s)`];
  for (const o of result.outcomes) {
    lines.push(`  ${o.name.padEnd(10)} ${o.status.padEnd(8)} ${o.status === 'reused' ? `(${o.record.seconds.toFixed(1)} s when it ran)` : `${o.seconds.toFixed(1)} s`}`);
  }
  if (result.metrics) {
    const m = result.metrics;
    const pop = (m.baselines as Record<string, Record<string, number>> | undefined)?.popularity;
    lines.push(`recall@10 ${Number(m['recall@10']).toFixed(4)}, ndcg@10 ${Number(m['ndcg@10']).toFixed(4)}${pop ? ` (popularity ${pop['recall@10']?.toFixed(4)} / ${pop['ndcg@10']?.toFixed(4)})` : ''}`);
  }
  if (result.reportPath) lines.push(`report: ${result.reportPath}`);
  return { ...result, summary: lines.join('\n') };
}

/** The default run directory of a config file: runs/<file name without extension>. */
export function defaultRunDir(configPath: string): string {
  return join('runs', basename(configPath, extname(configPath)));
}

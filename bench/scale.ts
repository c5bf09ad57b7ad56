// `scale`: data far larger than the public sets. A MovieLens-25M-shaped ratings.csv (25M rows, 162,541
// users, 59,047 items, ~680 MB; SEMID_BENCH_SCALE=10 for 250M rows) is generated into the suite's scratch
// directory (deleted afterwards, never committed), then imported as `csv` and as `movielens`, each part in
// its own process so that its peak RSS (VmHWM: node + DuckDB) is its own. Then the catalog side: the
// prefix trie and the item code table for 10M items (build time, bytes per item, lookup time), RQ-KMeans on 1M
// synthetic 256-d vectors (sampled k-means), and on the imported data set (kept in the cache directory between
// parts): embeddings of its items (their text is the movie id: MovieLens ratings carry no titles) and the
// tokenizer, a `small` training run of 1,000 steps, and recommend for 1/8 of the users and for all of them (peak
// RSS flat in users: the users are streamed).
import { spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchmarkTrie } from '../decoding/index.js';
import { embedText, fitTokenizer, readManifest, runRecommend, trainModel, type ImportFormat } from '../pipelines/index.js';
import { initBackend } from '../seq2seq/index.js';
import { createTokenizer } from '../tokenizer/index.js';
import { gaussianMatrix } from './kmeans.js';
import { ML25M_SHAPE, writeInteractionsFile, type InteractionsFileConfig } from './interactionsFile.js';
import { peakRssMiB } from './measure.js';
import type { Figure, Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

const SEMID_BIN = fileURLToPath(new URL('../scripts/semid.js', import.meta.url));
const QUICK_SHAPE: InteractionsFileConfig = { rows: 20_000, users: 400, items: 2_000, seed: 25 };

function shape(quick: boolean): InteractionsFileConfig {
  if (quick) return QUICK_SHAPE;
  const times = Number(process.env.SEMID_BENCH_SCALE ?? 1);
  if (!Number.isInteger(times) || times < 1) throw new Error(`SEMID_BENCH_SCALE must be an integer >= 1, got ${process.env.SEMID_BENCH_SCALE}`);
  return { ...ML25M_SHAPE, rows: ML25M_SHAPE.rows * times, users: ML25M_SHAPE.users * times };
}

const ratingsPath = (options: SuiteOptions) => join(options.cacheDir ?? options.workDir, 'ratings.csv');
const datasetPath = (options: SuiteOptions) => join(options.cacheDir ?? options.workDir, 'dataset');
const tokenizerPath = (options: SuiteOptions) => join(options.cacheDir ?? options.workDir, 'tok');
const modelPath = (options: SuiteOptions) => join(options.cacheDir ?? options.workDir, 'model');

/** RSS now (MiB). */
function rssMiB(): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

async function needs(path: string, part: string): Promise<void> {
  await stat(path).catch(() => { throw new Error(`${path}: not there (the "${part}" part runs first)`); });
}

async function generate(options: SuiteOptions): Promise<Figure[]> {
  const config = shape(options.quick);
  const t0 = performance.now();
  const bytes = await writeInteractionsFile(ratingsPath(options), config);
  return [{
    key: 'scale.generate.seconds', label: `generate ${config.rows.toLocaleString('en')} ratings (${(bytes / 2 ** 20).toFixed(0)} MiB CSV)`,
    value: (performance.now() - t0) / 1000, unit: 's', higherIsBetter: false, detail: { ...config, bytes },
  }];
}

/**
 * `semid data import` as a user runs it: its own process (the CLI loads the data layer only), its peak RSS printed
 * on exit (peakOnExit.mjs). The csv import is kept (cache directory) for the parts that follow; the movielens one
 * is dropped with its work dir.
 */
async function importFile(options: SuiteOptions, format: ImportFormat): Promise<Figure[]> {
  const path = ratingsPath(options);
  await stat(path).catch(() => { throw new Error(`${path}: not generated (the "generate" part runs first)`); });
  const out = format === 'csv' ? datasetPath(options) : join(options.workDir, 'dataset');
  const input = format === 'csv' ? ['--interactions', path] : ['--ratings', path];
  const t0 = performance.now();
  const run = spawnSync(process.execPath, ['--import', fileURLToPath(new URL('./peakOnExit.mjs', import.meta.url)), SEMID_BIN, 'data', 'import', '--format', format, ...input, '--out', out], {
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t0) / 1000;
  if (run.status !== 0) throw new Error(`semid data import --format ${format} failed (exit ${run.status}): ${run.stderr}`);
  const peak = /semid-peak-rss-kb (\d+)/.exec(run.stderr);
  if (!peak) throw new Error(`semid data import --format ${format}: no peak RSS line on stderr (bench/peakOnExit.mjs)`);
  const manifest = await readManifest(out);
  const detail = { users: manifest.users, items: manifest.items, interactions: manifest.interactions, threads: process.env.SEMID_ENGINE_THREADS ?? 'all', stdout: run.stdout.trim() };
  const what = `semid data import --format ${format}, ${manifest.interactions.toLocaleString('en')} ratings`;
  return [
    { key: `scale.import.${format}.seconds`, label: `${what} (the command's wall time, start-up included)`, value: seconds, unit: 's', higherIsBetter: false, detail },
    { key: `scale.import.${format}.peakRssMiB`, label: `${what}: peak RSS (node + DuckDB)`, value: Number(peak[1]) / 1024, unit: 'MiB', higherIsBetter: false },
  ];
}

/** The prefix trie and the item code table for 10M random 4-level IDs (256 codes a level). */
async function catalog(options: SuiteOptions): Promise<Figure[]> {
  const items = options.quick ? 20_000 : 10_000_000;
  const b = benchmarkTrie({ items, levels: [256, 256, 256, 256], seed: 7 });
  const tableBytes = items * b.levels.length * Int32Array.BYTES_PER_ELEMENT; // codes.parquet in memory: one int32 per level
  const what = `${items.toLocaleString('en')} items, 4 x 256 codes`;
  return [
    { key: 'scale.trie.buildSeconds', label: `trie build, ${what}`, value: b.buildMs / 1000, unit: 's', higherIsBetter: false, detail: { nodesPerDepth: b.nodesPerDepth } },
    { key: 'scale.trie.bytesPerItem', label: `trie memory per item, ${what}`, value: b.bytes / items, unit: 'B', higherIsBetter: false, detail: { bytes: b.bytes } },
    { key: 'scale.trie.lookupNs', label: `trie lookup of a full ID, ${what}`, value: b.lookupNs, unit: 'ns', higherIsBetter: false },
    { key: 'scale.codeTable.bytesPerItem', label: 'item code table per item (Int32Array, 4 levels)', value: tableBytes / items, unit: 'B', higherIsBetter: false },
    { key: 'scale.catalog.peakRssMiB', label: `trie + code table, ${what}: peak RSS`, value: peakRssMiB(), unit: 'MiB', higherIsBetter: false },
  ];
}

/**
 * RQ-KMeans (3 x 256) on 1M standard-normal 256-d vectors with the default fitSample 'auto': faiss's 256 rows a
 * centroid, so each level fits on 65,536 sampled rows. --quick: 3 x 16 codes on 20,000 rows, so that the sampled
 * path (4,096 rows a level) runs too.
 */
async function tokenizer1m(options: SuiteOptions): Promise<Figure[]> {
  const rows = options.quick ? 20_000 : 1_000_000;
  const dim = 256;
  await initBackend({ quiet: true });
  const base = rssMiB();
  const x = gaussianMatrix(rows, dim, 1);
  const t0 = performance.now();
  const codes = options.quick ? 16 : 256;
  const report = await createTokenizer('rqkmeans', { levels: 3, codebookSize: codes }).fit(x, { seed: 0, silent: true });
  const seconds = (performance.now() - t0) / 1000;
  const peak = peakRssMiB();
  const fitRows = (report.details?.fitRowsPerLevel as number[])[0];
  const what = `RQ-KMeans 3 x ${codes} on ${rows.toLocaleString('en')} x ${dim} vectors, fitted on ${fitRows.toLocaleString('en')} rows a level (fitSample 'auto')`;
  return [
    { key: 'scale.rqkmeans1m.seconds', label: what, value: seconds, unit: 's', higherIsBetter: false, detail: { relativeReconstruction: report.relativeReconstruction, ...(report.details ?? {}) } },
    { key: 'scale.rqkmeans1m.peakRssMiB', label: `${what}: peak RSS`, value: peak, unit: 'MiB', higherIsBetter: false },
    { key: 'scale.rqkmeans1m.bytesPerItem', label: `${what}: peak RSS above the process's start, per item (the input alone: ${dim * 4} B)`, value: ((peak - base) * 2 ** 20) / rows, unit: 'B', higherIsBetter: false },
  ];
}

/** Embeddings (TF-IDF + SVD of the item texts: the movie ids) and RQ-KMeans 3 x 256 of the imported data set's items. */
async function embedTokenize(options: SuiteOptions): Promise<Figure[]> {
  const data = datasetPath(options);
  await needs(data, 'import-csv');
  let t0 = performance.now();
  const embedded = await embedText({ data, name: 'default', silent: true, config: { method: 'tfidf-svd', dim: options.quick ? 32 : 256, seed: 0 } });
  const embedSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await fitTokenizer({ data, embeddings: 'default', method: 'rqkmeans', config: { levels: 3, codebookSize: options.quick ? 16 : 256 }, seed: 0, out: tokenizerPath(options) });
  const fitSeconds = (performance.now() - t0) / 1000;
  return [
    { key: 'scale.embed.seconds', label: 'embed text (TF-IDF + SVD, 256-d) of the items', value: embedSeconds, unit: 's', higherIsBetter: false, detail: { dim: embedded.info.dim, vocabulary: embedded.info.vocabulary, explainedVariance: embedded.info.explainedVariance } },
    { key: 'scale.tokenize.seconds', label: 'tokenize fit rqkmeans 3 x 256', value: fitSeconds, unit: 's', higherIsBetter: false },
    { key: 'scale.embedTokenize.peakRssMiB', label: 'embed + tokenize fit: peak RSS', value: peakRssMiB(), unit: 'MiB', higherIsBetter: false },
  ];
}

/** `small` preset, 1,000 steps (no validation: the figure is the trainer's). */
async function trainSmall(options: SuiteOptions): Promise<Figure[]> {
  const data = datasetPath(options);
  await needs(tokenizerPath(options), 'embed-tokenize');
  const steps = options.quick ? 20 : 1000;
  const t0 = performance.now();
  const r = await trainModel({ data, tokenizer: tokenizerPath(options), out: modelPath(options), preset: options.quick ? 'tiny' : 'small', overrides: { steps }, validUsers: 0, silent: true });
  const seconds = (performance.now() - t0) / 1000;
  const what = `train ${options.quick ? 'tiny' : 'small'}, ${steps.toLocaleString('en')} steps of ${r.train.batchSize}`;
  return [
    { key: 'scale.train.seconds', label: `${what} (data read, set-up, steps, checkpoints)`, value: seconds, unit: 's', higherIsBetter: false, detail: { rows: r.examples, sequencesPerSecond: r.sequencesPerSecond, lastLoss: r.lastLoss } },
    { key: 'scale.train.peakRssMiB', label: `${what}: peak RSS`, value: peakRssMiB(), unit: 'MiB', higherIsBetter: false },
  ];
}

/** recommend top 10 (beam 20) for shard 0 of 8 (1/8 of the users) or for all users, streamed. */
async function recommend(options: SuiteOptions, shard: string | null): Promise<Figure[]> {
  await needs(modelPath(options), 'train');
  const t0 = performance.now();
  const r = await runRecommend({
    data: datasetPath(options), tokenizer: tokenizerPath(options), model: modelPath(options), out: join(options.workDir, shard ? 'recs-shard.parquet' : 'recs.parquet'),
    ...(shard ? { shard } : {}), progress: false,
  });
  const seconds = (performance.now() - t0) / 1000;
  const users = r.shards.reduce((n, s) => n + s.users, 0);
  const key = shard ? 'recommendShard' : 'recommend';
  const what = `recommend ${users.toLocaleString('en')} users${shard ? ` (--shard ${shard})` : ''}, top 10, beam 20`;
  return [
    { key: `scale.${key}.seconds`, label: what, value: seconds, unit: 's', higherIsBetter: false, detail: { users, rows: r.shards.reduce((n, s) => n + s.rows, 0) } },
    { key: `scale.${key}.usersPerSecond`, label: `${what}: users/s`, value: users / seconds, unit: 'users/s', higherIsBetter: true },
    { key: `scale.${key}.peakRssMiB`, label: `${what}: peak RSS`, value: peakRssMiB(), unit: 'MiB', higherIsBetter: false },
  ];
}

const PARTS: Record<string, (o: SuiteOptions) => Promise<Figure[]>> = {
  generate,
  'import-csv': (o) => importFile(o, 'csv'),
  'import-movielens': (o) => importFile(o, 'movielens'),
  catalog,
  'rqkmeans-1m': tokenizer1m,
  'embed-tokenize': embedTokenize,
  train: trainSmall,
  'recommend-shard': (o) => recommend(o, '0/8'),
  recommend: (o) => recommend(o, null),
};

export const scaleSuite: Suite = {
  name: 'scale',
  describe: 'MovieLens-25M-shaped ratings.csv (25M rows; SEMID_BENCH_SCALE=10: 250M): generate, import as csv and movielens (time, peak RSS); trie + code table for 10M items; RQ-KMeans on 1M vectors; on the imported data: embed + tokenize, train small 1,000 steps, recommend 1/8 and all users (time, peak RSS)',
  usesBackend: false,
  threadsVariant: false,
  webgpuVariant: false,
  // Full runs: one process per part (its own peak RSS). --quick: one process for all, to stay fast.
  parts: ({ quick }) => (quick ? [] : Object.keys(PARTS)),
  async run(options: SuiteOptions, _variant: Variant): Promise<VariantOutput> {
    const parts = options.part ? [options.part] : Object.keys(PARTS);
    const figures: Figure[] = [];
    for (const part of parts) {
      const run = PARTS[part];
      if (!run) throw new Error(`scale: unknown part "${part}" (expected one of ${Object.keys(PARTS).join(', ')})`);
      figures.push(...(await run(options)));
    }
    return { figures, notes: [] };
  },
};

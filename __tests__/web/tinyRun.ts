// A small run of the demo's pipeline (generated data, RQ-KMeans, the `tiny` encoder-decoder or the causal model), scaled down
// so the web tests build it in seconds, and its export; and `semid recommend` for one history, to compare
// with. Shared by the export and browser tests.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTable, readFloat64Column, readParquetTable, readUtf8Column, utf8ListVector, utf8Vector, writeParquetTable } from '../../pipelines/data/index.js';
import { demoConfig } from '../../pipelines/demo.js';
import { runRecommend } from '../../pipelines/recommend.js';
import { resolvePipelineConfig } from '../../pipelines/runConfig.js';
import { runPipeline } from '../../pipelines/stages.js';
import { exportWeb, runExportPaths, type ExportWebResult } from '../../pipelines/web/index.js';

export interface TinyRun {
  runDir: string;
  data: string;
  tokenizer: string;
  model: string;
  web: string;
  exported: ExportWebResult;
}

/** The demo's pipeline, scaled down, with the encoder-decoder `tiny` (beam search) or the demo's causal model (exact ranking). */
export async function buildTinyRun(dir: string, model: 'encdec' | 'causal' = 'encdec'): Promise<TinyRun> {
  const demo = await demoConfig();
  const train = model === 'encdec'
    ? { preset: 'tiny', arch: 'encdec', model: {} }
    : { preset: 'causal', arch: 'causal', model: { dModel: 16, heads: 2, headDim: 8, dFF: 32 } };
  const config = resolvePipelineConfig({
    ...demo,
    name: 'web test run',
    data: { source: 'generate', generate: { users: 300, items: 150, seed: 3 } },
    embed: { ...demo.embed, dim: 32 },
    tokenize: { ...demo.tokenize, codebookSize: 8 },
    train: { ...demo.train, ...train, trainer: { steps: 40, batchSize: 64, evalEvery: 20, warmupSteps: 5 }, validUsers: 40 },
    eval: { ...demo.eval, maxUsers: 40 },
    recommend: { ...demo.recommend, users: 10 },
  });
  const runDir = join(dir, 'run');
  await runPipeline({ config, runDir, log: () => undefined });
  const paths = runExportPaths(runDir);
  const exported = await exportWeb({ ...paths, itemsText: true });
  return { runDir, data: paths.data, tokenizer: paths.tokenizer, model: paths.model, web: paths.out, exported };
}

/** `semid recommend --input` for one anonymous user with `history`: item keys and scores, best first. */
export async function semidRecommend(run: Pick<TinyRun, 'data' | 'tokenizer' | 'model'>, dir: string, history: string[]): Promise<{ keys: string[]; scores: number[] }> {
  const input = join(dir, 'users.parquet');
  await writeParquetTable(input, makeTable({ user_key: utf8Vector(['web visitor']), history: utf8ListVector([history]) }));
  const out = join(dir, 'recs.parquet');
  await rm(out, { force: true });
  await runRecommend({ data: run.data, tokenizer: run.tokenizer, model: run.model, input, out, topK: 10, beamSize: 20, progress: false });
  const table = await readParquetTable(out);
  return { keys: readUtf8Column(table, 'item_key', out), scores: Array.from(readFloat64Column(table, 'score', out)) };
}

// Issue 20, through the pipeline functions the CLI calls: a user's directory is never replaced (case 1), a model
// is used only with the data set and tokenizer it was trained on (case 4), and the smaller cases of 6 (--resume
// keeps what is measured and refuses to start fresh, absurd budgets, tensors released, clear output errors).
import { jest } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDatasetOutput, importDataset, readDataset, writeDataset } from '../../pipelines/data/index.js';
import { runEvaluation } from '../../pipelines/evaluate/index.js';
import { runRecommend } from '../../pipelines/recommend.js';
import { resolvePipelineConfig } from '../../pipelines/runConfig.js';
import { runPipeline } from '../../pipelines/stages.js';
import { fitTokenizer } from '../../pipelines/tokenize.js';
import { trainModel } from '../../pipelines/train.js';
import { etaCheck } from '../../pipelines/trainDir.js';

const generated = (seed: number, levels = 2) => resolvePipelineConfig({
  name: `safe ${seed}`,
  data: { source: 'generate', generate: { users: 120, items: 60, seed } },
  embed: { dim: 16 },
  tokenize: { levels, codebookSize: 8, dedupSize: 40 },
});
const tiny = { steps: 4, batchSize: 16, warmupSteps: 1, checkpointEvery: 2, evalEvery: 2 };

describe('safe outputs (issue 20)', () => {
  let dir: string;
  let data: string;
  let tokenizer: string;
  let otherData: string;
  let otherTokenizer: string;
  let model: string;
  beforeAll(async () => {
    process.env.SEMID_QUIET = '1';
    dir = await mkdtemp(join(tmpdir(), 'semid-safe-'));
    await runPipeline({ config: generated(5), runDir: join(dir, 'a'), until: 'tokenize', report: false, log: () => undefined });
    await runPipeline({ config: generated(6), runDir: join(dir, 'b'), until: 'tokenize', report: false, log: () => undefined });
    data = join(dir, 'a', 'embed');
    tokenizer = join(dir, 'a', 'tokenize');
    otherData = join(dir, 'b', 'embed');
    otherTokenizer = join(dir, 'b', 'tokenize');
    model = join(dir, 'model');
    await trainModel({ data, tokenizer, out: model, preset: 'tiny', silent: true, validUsers: 0, overrides: { ...tiny, evalEvery: 0 } });
  });
  afterAll(async () => {
    delete process.env.SEMID_QUIET;
    await rm(dir, { recursive: true, force: true });
  });

  test('case 1: import refuses a directory holding a user\'s file, and keeps the file', async () => {
    const v = join(dir, 'v');
    await mkdir(v);
    await writeFile(join(v, 'thesis.txt'), 'x');
    const sequences = join(dir, 'Beauty.txt');
    await writeFile(sequences, Array.from({ length: 10 }, (_, u) => `u${u} ${u} ${u + 1} ${u + 2} ${u + 3}`).join('\n'));
    await expect(importDataset({ format: 's3rec', sequences, out: v })).rejects.toThrow(`--out ${v} is not empty and was not written by semid (it holds thesis.txt)`);
    await expect(checkDatasetOutput(v, { sequences })).rejects.toThrow('not written by semid');
    expect(await readFile(join(v, 'thesis.txt'), 'utf8')).toBe('x');
    // A semid data set there is replaced; a new path works.
    await importDataset({ format: 's3rec', sequences, out: join(dir, 'v2') });
    await importDataset({ format: 's3rec', sequences, out: join(dir, 'v2') });
    expect((await readdir(join(dir, 'v2'))).sort()).toEqual(['.semid.json', 'items.parquet', 'manifest.json', 'sequences.parquet']);
  });

  test('case 1: tokenize fit never writes into its own input', async () => {
    const before = (await readdir(data)).sort();
    await expect(fitTokenizer({ data, method: 'rqkmeans', config: { levels: 2, codebookSize: 8 }, out: data, silent: true }))
      .rejects.toThrow(`--out ${data} is the input --data ${data}: a command never writes into its own input`);
    await expect(fitTokenizer({ data, method: 'rqkmeans', config: { levels: 2, codebookSize: 8 }, out: join(data, 'tok'), silent: true }))
      .rejects.toThrow('is inside the input --data');
    expect((await readdir(data)).sort()).toEqual(before);
    // and a tokenizer never replaces a model directory
    await expect(fitTokenizer({ data, method: 'rqkmeans', config: { levels: 2, codebookSize: 8 }, out: model, silent: true }))
      .rejects.toThrow(/holds a semid model .*, not a tokenizer/);
  });

  test('an empty input file is named before any work', async () => {
    const empty = join(dir, 'empty.txt');
    await writeFile(empty, '');
    await expect(checkDatasetOutput(join(dir, 'new-data'), { sequences: empty })).rejects.toThrow(`--sequences ${empty} is empty (0 bytes): nothing to import`);
  });

  test('case 4: eval and recommend refuse a model with another data set or tokenizer, naming the directories', async () => {
    const out = join(dir, 'metrics.json');
    const base = { split: 'test' as const, ks: [5], beamSize: 5, users: 10, progress: false, model, out };
    // Another data set of the same shape: the same histories, other catalog ids.
    const ds = await readDataset(data);
    const renamed = join(dir, 'renamed');
    await writeDataset(renamed, { items: { ...ds.items, keys: ds.items.keys.map((k) => `other-${k}`) }, sequences: ds.sequences, source: { format: 'test' } });
    await expect(runEvaluation({ ...base, data: renamed, tokenizer }))
      .rejects.toThrow(new RegExp(`^eval: the model ${model} does not belong with these inputs: the data set ${renamed} has another catalog \\(60 items, fingerprint [0-9a-f]{16}\\) than the one it was trained on \\(${data}: 60 items, fingerprint [0-9a-f]{16}\\)\\. Pass`));
    await expect(runEvaluation({ ...base, data: otherData, tokenizer: otherTokenizer }))
      .rejects.toThrow(`the tokenizer ${otherTokenizer} has other codes`);
    await expect(runRecommend({ data, tokenizer: otherTokenizer, model, out: join(dir, 'recs.parquet'), progress: false }))
      .rejects.toThrow(/recommend: the model .* the tokenizer .*b\/tokenize has other codes .*--allow-mismatch/);
    const report = await runEvaluation({ ...base, data: otherData, tokenizer: otherTokenizer, allowMismatch: true });
    expect(report.users).toBe(10);
    await runEvaluation({ ...base, data, tokenizer });
  });

  test('case 4: a tokenizer of another code shape is refused naming both directories', async () => {
    const third = join(dir, 'tok3');
    await fitTokenizer({ data, method: 'rqkmeans', config: { levels: 3, codebookSize: 8 }, dedupSize: 40, out: third, silent: true });
    await expect(runEvaluation({ split: 'test', ks: [5], beamSize: 5, users: 5, progress: false, model, data, tokenizer: third, out: join(dir, 'm3.json'), allowMismatch: true }))
      .rejects.toThrow(`eval: the model ${model} was trained on codes of shape [8, 8, 40] but the tokenizer ${third} has codes of shape [8, 8, 8, 40]`);
  });

  test('eval into a directory path fails before any work (even before the model is read)', async () => {
    await expect(runEvaluation({ split: 'test', data, tokenizer, model: join(dir, 'no-such-model'), out: dir, progress: false }))
      .rejects.toThrow(`--out ${dir} is a directory: give a file path`);
  });

  test('no tensors are kept across 5 runEvaluation and 5 runRecommend calls', async () => {
    const out = join(dir, 'leak');
    await runEvaluation({ split: 'test', ks: [5], beamSize: 5, users: 5, progress: false, data, tokenizer, model, out: `${out}.json` });
    const start = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      await runEvaluation({ split: 'test', ks: [5], beamSize: 5, users: 5, progress: false, data, tokenizer, model, out: `${out}.json` });
      await runRecommend({ data, tokenizer, model, out: `${out}-${i}.parquet`, topK: 5, beamSize: 5, progress: false });
    }
    expect(tf.memory().numTensors).toBe(start);
  });

  test('--resume refuses to start fresh, keeps the validation users and beam, says what it resumed', async () => {
    const fresh = join(dir, 'fresh');
    await expect(trainModel({ data, tokenizer, out: fresh, preset: 'tiny', silent: true, resume: true }))
      .rejects.toThrow(`--resume: ${fresh} has no checkpoint to resume from (no ${join(fresh, 'checkpoints', 'last', 'state.json')}; the directory does not exist); drop --resume to start a new run`);
    const run = join(dir, 'validated');
    const first = await trainModel({ data, tokenizer, out: run, preset: 'tiny', silent: true, validUsers: 7, beam: 10, overrides: tiny });
    expect(first.step).toBe(4);
    await expect(trainModel({ data, tokenizer, out: run, preset: 'tiny', silent: true, resume: true, validUsers: 8, overrides: { steps: 6 } }))
      .rejects.toThrow(`--resume: ${run} validates with --valid-users 7; --valid-users 8 would make "best" compare different validations`);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let resumed;
    try {
      resumed = await trainModel({ data, tokenizer, out: run, preset: 'tiny', resume: true, overrides: { steps: 6 } });
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(`train: resuming ${run} from step 4, validating on 7 users with beam 10`);
    } finally {
      stderr.mockRestore();
    }
    expect(resumed.step).toBe(6);
    const saved = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    expect(saved.validation).toEqual({ users: 7, beam: 10 });
    const valid = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'valid');
    expect(valid.map((r) => r.step)).toEqual([2, 4, 6]);
    // resume also checks provenance: another tokenizer's codes are refused
    await expect(trainModel({ data, tokenizer: otherTokenizer, out: run, preset: 'tiny', silent: true, resume: true, overrides: { steps: 8 } }))
      .rejects.toThrow(`train --resume: the model ${run} does not belong with these inputs: the tokenizer ${otherTokenizer} has other codes`);
  });

  test('--steps above 1e9 is an error; a run whose ETA is over a year is stopped with an error', async () => {
    await expect(trainModel({ data, tokenizer, out: join(dir, 'huge'), preset: 'tiny', silent: true, overrides: { steps: 1e12 } }))
      .rejects.toThrow('`steps` must be at most 1e+9, got 1000000000000');
    let clock = 0;
    const stop: { aborted: boolean; reason?: string; error?: string } = { aborted: false };
    const check = etaCheck(1e9, stop, () => clock);
    for (let step = 1; step <= 21; step++) {
      clock += 1000; // 1 step/s: 1e9 steps is 31.7 years
      check(step);
    }
    expect(stop).toMatchObject({ aborted: true, reason: 'budget' });
    expect(stop.error).toBe('--steps 1000000000 would take 31.7 years at the measured 1.00 steps/s (more than a year): lower --steps');
    const fast = { aborted: false };
    const ok = etaCheck(1e6, fast, () => clock);
    for (let step = 1; step <= 21; step++) {
      clock += 10;
      ok(step);
    }
    expect(fast.aborted).toBe(false);
  });
});

// `semid recommend` stopped by a signal (child processes): SIGINT once a shard is finished stops the job before its
// next batch, with status 130, a line naming the kept shards and how to go on, no temporary file and no lock left;
// a rerun skips the kept shards, and SIGTERM stops it the same way with status 143; the run after that finishes, and
// the shards equal an uninterrupted run's row for row. The users come from an --input table with histories,
// streamed by row groups of 50. `semid eval` stopped by SIGINT while its SASRec baseline trains: status 130, no report.
import { access, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeTable, readDataset, readParquetTable, utf8ListVector, utf8Vector, writeParquetTable } from '../../pipelines/data/index.js';
import { runRecommend, shardPath } from '../../pipelines/recommend.js';
import { trainModel } from '../../pipelines/train.js';
import { lockPath } from '../../tokenizer/io/index.js';
import { startSemid, type SemidProcess } from '../support/semidProcess.js';
import { tokenizedData, type TokenizedData } from './tokenizedData.js';

const SHARDS = 8;

type Run = SemidProcess;

function semid(args: string[]): Run {
  return startSemid(args, { ...process.env, SEMID_QUIET: '1' });
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** Waits until a shard file not in `before` exists, then sends `signal`. */
async function signalAfterNewShard(run: Run, out: string, before: Set<number>, signal: NodeJS.Signals): Promise<void> {
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    for (let i = 0; i < SHARDS; i++) {
      if (!before.has(i) && (await exists(shardPath(out, i, SHARDS)))) {
        run.child.kill(signal);
        return;
      }
    }
    if (run.child.exitCode !== null) throw new Error(`semid exited ${run.child.exitCode} before a new shard appeared:\n${run.err()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no new shard in 120 s:\n${run.err()}`);
}

async function doneShards(out: string): Promise<Set<number>> {
  const done = new Set<number>();
  for (let i = 0; i < SHARDS; i++) if (await exists(shardPath(out, i, SHARDS))) done.add(i);
  return done;
}

async function rows(path: string): Promise<string[]> {
  return (await readParquetTable(path)).toArray().map((row) => JSON.stringify(row));
}

describe('recommend stopped by SIGINT / SIGTERM (child processes)', () => {
  let fixture: TokenizedData;
  let model: string;
  let input: string;
  beforeAll(async () => {
    fixture = await tokenizedData('recommend-stop', 8);
    model = join(fixture.dir, 'model');
    await trainModel({ data: fixture.data, tokenizer: fixture.tokenizer, out: model, preset: 'tiny', silent: true, validUsers: 0, overrides: { steps: 3, batchSize: 16, seed: 1 } });
    // 1,200 input users: the data set's users ten times over, with their sequences' item keys as histories
    const dataset = await readDataset(fixture.data, { timestamps: false });
    const users = Array.from({ length: 1200 }, (_, r) => r % dataset.sequences.userKeys.length);
    input = join(fixture.dir, 'users.parquet');
    await writeParquetTable(input, makeTable({
      user_key: utf8Vector(users.map((u, r) => `${dataset.sequences.userKeys[u]}#${r}`)),
      history: utf8ListVector(users.map((u) => Array.from(dataset.sequences.items[u], (i) => dataset.items.keys[i]))),
    }), { rowGroupSize: 50 });
  }, 300_000);
  afterAll(async () => { await fixture.remove(); });

  test('stops after the current batch, keeps finished shards, leaves no temporary or lock; reruns finish equal to one uninterrupted run', async () => {
    const common = ['--data', fixture.data, '--tokenizer', fixture.tokenizer, '--model', model, '--input', input, '--top-k', '5', '--beam', '8', '--shards', String(SHARDS), '--batch-size', '10'];
    const reference = join(fixture.dir, 'reference', 'recs.parquet');
    const out = join(fixture.dir, 'recs', 'recs.parquet');
    await mkdir(dirname(reference));
    await mkdir(dirname(out));
    await runRecommend({ data: fixture.data, tokenizer: fixture.tokenizer, model, input, out: reference, topK: 5, beamSize: 8, shards: SHARDS, batchSize: 10, progress: false });
    const leftovers = async (): Promise<string[]> => (await readdir(dirname(out))).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'));

    const first = semid(['recommend', ...common, '--out', out]);
    await signalAfterNewShard(first, out, new Set(), 'SIGINT');
    expect(await first.exit).toBe(130);
    const afterFirst = await doneShards(out);
    expect(afterFirst.size).toBeGreaterThanOrEqual(1);
    expect(afterFirst.size).toBeLessThan(SHARDS);
    const stoppedIn = Math.max(...afterFirst) + 1;
    expect(first.out()).toContain(`recommend: stopped (SIGINT) in shard ${stoppedIn}/${SHARDS}, which left no file; ${afterFirst.size} finished shard(s) kept`);
    expect(first.out()).toContain('run the same command again to finish: finished shards are skipped');
    expect(await leftovers()).toEqual([]);
    for (let i = 0; i < SHARDS; i++) expect(await exists(lockPath(shardPath(out, i, SHARDS)))).toBe(false);
    await expect(access(join(dirname(out), 'recs.issues.json'))).rejects.toThrow(/ENOENT/);

    const second = semid(['recommend', ...common, '--out', out]);
    await signalAfterNewShard(second, out, afterFirst, 'SIGTERM');
    expect(await second.exit).toBe(143);
    expect(second.out()).toContain('recommend: stopped (SIGTERM) in shard');
    const afterSecond = await doneShards(out);
    expect(afterSecond.size).toBeGreaterThan(afterFirst.size);
    expect(await leftovers()).toEqual([]);

    const third = semid(['recommend', ...common, '--out', out]);
    expect([await third.exit, third.err()]).toEqual([0, expect.any(String)]);
    for (const i of afterSecond) expect(third.out()).toContain(`shard ${i}/${SHARDS}: ${shardPath(out, i, SHARDS)} already done, skipped`);
    for (let i = 0; i < SHARDS; i++) expect(await rows(shardPath(out, i, SHARDS))).toEqual(await rows(shardPath(reference, i, SHARDS)));
    expect(await leftovers()).toEqual([]);
  }, 300_000);

  test('eval: SIGINT while the SASRec baseline trains stops it at the step in progress; status 130, nothing written', async () => {
    const report = join(fixture.dir, 'eval.json');
    const run = semid(['eval', '--data', fixture.data, '--tokenizer', fixture.tokenizer, '--model', model, '--sasrec-steps', '1000000', '--out', report]);
    const end = Date.now() + 120_000;
    while (!run.err().includes('sasrec baseline: training') && run.child.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(run.out()).toContain(`eval: stopped (SIGINT) before the end; nothing was written to ${report} (the report is written whole when the job ends); run the same command again to evaluate`);
    expect((await readdir(fixture.dir)).filter((f) => f.startsWith('eval') || f.includes('.eval.json'))).toEqual([]);
  }, 300_000);
});

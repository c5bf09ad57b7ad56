// Past one machine: n `semid recommend --shard i/n` processes run in parallel (as the pods of the Kubernetes
// Indexed Job in pipelines/configs/recommend-indexed-job.yaml do, one JOB_COMPLETION_INDEX each) over one
// small generated data set; their shard files, read in index order, equal the single-process output row for row.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readParquetTable } from '../../pipelines/data/index.js';
import { shardPath } from '../../pipelines/recommend.js';

const run = promisify(execFile);
const SEMID = join(process.cwd(), 'scripts', 'semid.js');
const semid = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [SEMID, ...args], { env: { ...process.env, SEMID_QUIET: '1', ...env }, maxBuffer: 1 << 24 });

/** Every row of a Parquet file with all its columns, as JSON lines. */
async function rows(path: string): Promise<string[]> {
  return (await readParquetTable(path)).toArray().map((row) => JSON.stringify(row));
}

describe('recommend shards as parallel processes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'semid-shards-'));
    const data = join(dir, 'data');
    await semid(['data', 'generate', '--out', data, '--users', '60', '--items', '60']);
    await semid(['embed', 'text', '--data', data, '--dim', '16']);
    await semid(['tokenize', 'fit', '--data', data, '--method', 'rqkmeans', '--levels', '2', '--codebook-size', '16', '--out', join(dir, 'tok')]);
    await semid(['train', '--data', data, '--tokenizer', join(dir, 'tok'), '--out', join(dir, 'model'), '--preset', 'tiny', '--steps', '3', '--valid-users', '10']);
  }, 600_000);
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  test('3 workers --shard i/3, merged in index order, equal one process', async () => {
    const common = ['recommend', '--data', join(dir, 'data'), '--tokenizer', join(dir, 'tok'), '--model', join(dir, 'model'), '--top-k', '5', '--beam', '8'];
    const single = join(dir, 'single.parquet');
    const sharded = join(dir, 'recs.parquet');
    // The Job's command: --shard "$JOB_COMPLETION_INDEX/3", one process per index, all at once.
    await Promise.all([
      semid([...common, '--out', single]),
      ...[0, 1, 2].map((i) => semid([...common, '--out', sharded, '--shard', `${i}/3`], { JOB_COMPLETION_INDEX: String(i) })),
    ]);
    const expected = await rows(single);
    expect(expected.length).toBe(60 * 5);
    const merged: string[] = [];
    for (let i = 0; i < 3; i++) merged.push(...(await rows(shardPath(sharded, i, 3))));
    expect(merged).toEqual(expected);
  }, 600_000);
});

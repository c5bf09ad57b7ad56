import { mkdtemp, readFile, rm, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseShard, requestIssues, resolveRequests, shardPath, writeRecommendations } from '../../pipelines/recommend.js';
import { readParquetTable, readUtf8Column, readInt32Column, readFloat64Column } from '../../pipelines/data/index.js';
import { Stopped, type StopRequest } from '../../pipelines/stop.js';
import { followerScorer, toyCodes } from './toyModel.js';

const n = 30;
const codes = toyCodes(n);
const itemKeys = Array.from({ length: n }, (_, i) => `item-${i}`);
const dataset = {
  items: { keys: itemKeys, texts: itemKeys, categories: itemKeys.map(() => []) },
  sequences: {
    userKeys: Array.from({ length: 23 }, (_, u) => `u${u}`),
    items: Array.from({ length: 23 }, (_, u) => (u === 5 ? new Int32Array(0) : Int32Array.from([(u * 3) % n, (u * 7 + 1) % n]))),
    timestamps: null,
  },
};

async function rows(path: string): Promise<string[]> {
  const t = await readParquetTable(path);
  const users = readUtf8Column(t, 'user_key', path);
  const ranks = readInt32Column(t, 'rank', path);
  const items = readUtf8Column(t, 'item_key', path);
  const scores = readFloat64Column(t, 'score', path);
  return users.map((u, i) => `${u}|${ranks[i]}|${items[i]}|${scores[i]}`);
}

describe('recommend', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'semid-recommend-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes shards that concatenate to the unsharded output, and resumes by skipping finished shards', async () => {
    const requests = resolveRequests(dataset, null, 20);
    const common = { scorer: followerScorer(codes), itemCodes: codes, itemKeys, requests, topK: 4, beamSize: 6, batchSize: 5, progress: false };
    const whole = await writeRecommendations({ ...common, out: join(dir, 'all.parquet') });
    expect(whole[0].path).toBe(join(dir, 'all.parquet'));
    const expected = await rows(join(dir, 'all.parquet'));
    expect(expected.length).toBe(22 * 4); // u5 has no history: no rows, reported
    for (const line of expected) {
      const [user, , item] = line.split('|');
      expect(itemKeys).toContain(item);
      const history = dataset.sequences.items[Number(user.slice(1))];
      expect(Array.from(history).map((i) => itemKeys[i])).not.toContain(item); // history excluded by default
    }

    const out = join(dir, 'recs.parquet');
    // a "killed" job: only worker 1 of 3 finished
    await writeRecommendations({ ...common, out, shard: parseShard('1/3') });
    const resumed = await writeRecommendations({ ...common, out, shards: 3 });
    expect(resumed.map((s) => s.skipped)).toEqual([false, true, false]);
    const parts: string[] = [];
    for (let i = 0; i < 3; i += 1) parts.push(...(await rows(shardPath(out, i, 3))));
    expect(parts).toEqual(expected);
    const sidecar = JSON.parse(await readFile(join(dir, 'recs-00000-of-00003.report.json'), 'utf8'));
    expect(sidecar.issues.emptyHistory).toEqual({ users: 1, sample: ['u5'] });
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    await expect(writeRecommendations({ ...common, topK: 3, out, shards: 3 })).rejects.toThrow(/3 shard file\(s\) were written with other settings: recs-00000-of-00003.parquet \(topK 4 instead of 3\)/);
  });

  it('case 5: a truncated shard is recomputed, a shard without a report is refused, mixed shard counts are named', async () => {
    const requests = resolveRequests(dataset, null, 20);
    const common = { scorer: followerScorer(codes), itemCodes: codes, itemKeys, requests, topK: 4, beamSize: 6, batchSize: 5, progress: false };
    const out = join(dir, 'recs.parquet');
    await writeRecommendations({ ...common, out, shards: 3 });
    const good = await readFile(shardPath(out, 1, 3));
    await writeFile(shardPath(out, 1, 3), good.subarray(0, Math.floor(good.byteLength / 2)));
    const rerun = await writeRecommendations({ ...common, out, shards: 3 });
    expect(rerun.map((s) => s.skipped)).toEqual([true, false, true]);
    expect(await readFile(shardPath(out, 1, 3))).toEqual(good);
    const sidecar = JSON.parse(await readFile(join(dir, 'recs-00001-of-00003.report.json'), 'utf8'));
    expect(sidecar).toMatchObject({ rows: 8 * 4, bytes: good.byteLength }) // users 7..14;
    expect(sidecar.sha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(writeRecommendations({ ...common, out, shards: 2 }))
      .rejects.toThrow(/3 shard file\(s\) were written with other settings: recs-00000-of-00003.parquet \(shards 3 instead of 2\); recs-00001-of-00003.parquet/);
    await writeFile(join(dir, 'mine.parquet'), 'a user file');
    await expect(writeRecommendations({ ...common, out: join(dir, 'mine.parquet') }))
      .rejects.toThrow(`${join(dir, 'mine.parquet')} exists but has no readable report ${join(dir, 'mine.report.json')}: it was not written by semid recommend`);
    expect(await readFile(join(dir, 'mine.parquet'), 'utf8')).toBe('a user file');
  });

  it('reports unknown items, unknown users and empty histories from an input table', () => {
    const requests = resolveRequests(dataset, { userKeys: ['u1', 'nobody', 'u2'], histories: [['item-3', 'zzz', 'item-4'], ['qqq'], []] }, 20);
    expect(Array.from(requests[0].history)).toEqual([3, 4]);
    const issues = requestIssues(requests);
    expect(issues.unknownItems).toEqual({ users: 2, items: 2, sample: [{ userKey: 'u1', itemKeys: ['zzz'] }, { userKey: 'nobody', itemKeys: ['qqq'] }] });
    expect(issues.emptyHistory).toEqual({ users: 2, sample: ['nobody', 'u2'] });
    expect(issues.unknownUsers).toEqual({ users: 1, sample: ['nobody'] });
    const fromData = resolveRequests(dataset, { userKeys: ['u3', 'ghost'], histories: null }, 20);
    expect(Array.from(fromData[0].history)).toEqual([9, 22]);
    expect(requestIssues(fromData).unknownUsers.sample).toEqual(['ghost']);
  });

  it('a stop request stops before the next batch: finished shards kept, the shard in progress leaves no file or lock; a rerun finishes them equal', async () => {
    const requests = resolveRequests(dataset, null, 20);
    const stop: StopRequest = { aborted: false };
    const scorer = followerScorer(codes);
    let sessions = 0;
    // the signal arrives while shard 1's first batch is scored (the 3rd session: shard 0 serves 6 users, batches of 5 and 1)
    const signalled = { ...scorer, start: (contexts: Parameters<typeof scorer.start>[0]) => { sessions += 1; if (sessions === 3) Object.assign(stop, { aborted: true, reason: 'SIGTERM' }); return scorer.start(contexts); } };
    const common = { itemCodes: codes, itemKeys, requests, topK: 4, beamSize: 6, batchSize: 5, progress: false, shards: 3 };
    const out = join(dir, 'recs.parquet');
    const stopped = writeRecommendations({ ...common, scorer: signalled, out, stop });
    await expect(stopped).rejects.toThrow(Stopped);
    await expect(stopped).rejects.toThrow(`recommend: stopped (SIGTERM) in shard 1/3, which left no file; 1 finished shard(s) kept (${shardPath(out, 0, 3)}); run the same command again to finish: finished shards are skipped`);
    expect((await readdir(dir)).sort()).toEqual(['recs-00000-of-00003.parquet', 'recs-00000-of-00003.report.json']);
    const resumed = await writeRecommendations({ ...common, scorer, out });
    expect(resumed.map((r) => r.skipped)).toEqual([true, false, false]);
    const whole = join(dir, 'whole.parquet');
    await writeRecommendations({ ...common, scorer, out: whole });
    for (let i = 0; i < 3; i++) expect(await rows(shardPath(out, i, 3))).toEqual(await rows(shardPath(whole, i, 3)));
  });

  it('names bad shard specs', () => {
    expect(() => parseShard('3/3')).toThrow('--shard must be i/n with 0 <= i < n (0-based), got "3/3"');
    expect(() => parseShard('a')).toThrow(/got "a"/);
    expect(shardPath('/x/recs.parquet', 2, 10)).toBe('/x/recs-00002-of-00010.parquet');
  });
});

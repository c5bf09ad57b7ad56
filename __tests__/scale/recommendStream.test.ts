// Streaming recommend: the data set's users read from sequences.parquet a row group at a time (row groups of 7
// users here, so that chunks, batches of 5 served users and 3 shards all cut at different places) and results
// appended to a streamed Parquet file give exactly the rows of the in-memory, one-batch run.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeTable, int32Vector, ParquetRowGroups, ParquetStreamWriter, readInt32Column, readParquetTable, readUserChunks, utf8Vector, writeDataset,
} from '../../pipelines/data/index.js';
import { SEQUENCES_FILE, writeSequencesFile } from '../../pipelines/data/dataset.js';
import { readRequestTable, resolveRequests, shardPath, writeRecommendations } from '../../pipelines/recommend.js';
import { datasetRequests, requestsSource } from '../../pipelines/requestSource.js';
import { inputRequests, inspectInput, requestLookup } from '../../pipelines/inputRequests.js';
import { utf8ListVector, writeParquetTable } from '../../pipelines/data/index.js';
import { followerScorer, toyCodes } from '../pipelines/toyModel.js';

const n = 30;
const users = 53;
const codes = toyCodes(n);
const itemKeys = Array.from({ length: n }, (_, i) => `item-${i}`);
const items = { keys: itemKeys, texts: itemKeys, categories: itemKeys.map(() => []) };
const sequences = {
  userKeys: Array.from({ length: users }, (_, u) => `u${u}`),
  // lengths 1..6, longer than the history window of 3 for some users
  items: Array.from({ length: users }, (_, u) => Int32Array.from({ length: 1 + (u % 6) }, (_, j) => (u * 7 + j * 3) % n)),
  timestamps: null,
};

async function rows(path: string): Promise<string[]> {
  return (await readParquetTable(path)).toArray().map((row) => JSON.stringify(row));
}

describe('streamed users and results', () => {
  let dir: string;
  let data: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'semid-stream-'));
    data = join(dir, 'data');
    await writeDataset(data, { items, sequences, source: { format: 'test' } });
    // small row groups: a pass over the users crosses many chunk boundaries
    await writeSequencesFile(join(data, SEQUENCES_FILE), sequences, { rowGroupSize: 7 });
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('reads users [from, to) across row groups, in order, checked', async () => {
    expect((await ParquetRowGroups.open(join(data, SEQUENCES_FILE))).rowGroupRows).toEqual([7, 7, 7, 7, 7, 7, 7, 4]);
    const chunks = [];
    for await (const c of readUserChunks(data, { from: 5, to: 20, items: n })) chunks.push(c);
    expect(chunks.map((c) => [c.first, c.userKeys.length])).toEqual([[5, 2], [7, 7], [14, 6]]);
    expect(chunks.flatMap((c) => c.userKeys)).toEqual(sequences.userKeys.slice(5, 20));
    expect(chunks.flatMap((c) => c.items.map((s) => Array.from(s)))).toEqual(sequences.items.slice(5, 20).map((s) => Array.from(s)));
    const bad = { ...sequences, items: sequences.items.map((s, u) => (u === 9 ? Int32Array.from([1, n + 4]) : s)) };
    await writeSequencesFile(join(data, SEQUENCES_FILE), bad, { rowGroupSize: 7 });
    const read = async () => { for await (const _ of readUserChunks(data, { items: n })) { /* drain */ } };
    await expect(read()).rejects.toThrow(`user "u9" (id 9) position 1: item id ${n + 4} is not in the catalog [0, ${n})`);
    await expect((async () => { for await (const _ of readUserChunks(data, { from: 0, to: users + 1, items: n })) { /* drain */ } })())
      .rejects.toThrow(`users [0, ${users + 1}) are not within its ${users} rows`);
  });

  it('streamed (chunks of 7 users, batches of 5, 3 shards) equals one in-memory batch, row for row', async () => {
    const common = { scorer: followerScorer(codes), itemCodes: codes, itemKeys, topK: 4, beamSize: 6, progress: false };
    const oneShot = join(dir, 'one.parquet');
    await writeRecommendations({ ...common, requests: resolveRequests({ items, sequences }, null, 3), batchSize: 1000, out: oneShot });
    const expected = await rows(oneShot);
    expect(expected.length).toBe(users * 4);

    const out = join(dir, 'streamed.parquet');
    const source = datasetRequests(data, { users, items: n, maxHistory: 3 });
    const summaries = await writeRecommendations({ ...common, requests: source, batchSize: 5, shards: 3, out });
    expect(summaries.map((s) => s.users)).toEqual([17, 18, 18]);
    const merged: string[] = [];
    for (let i = 0; i < 3; i++) {
      const path = shardPath(out, i, 3);
      merged.push(...(await rows(path)));
      const report = JSON.parse(await readFile(path.replace(/\.parquet$/, '.report.json'), 'utf8'));
      const bytes = await readFile(path);
      expect(report).toMatchObject({ rows: summaries[i].users * 4, served: summaries[i].users, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    expect(merged).toEqual(expected);
    // an in-memory list handed out in chunks of 4 gives the same bytes as the streamed source (chunking changes nothing)
    const listed = join(dir, 'listed.parquet');
    await writeRecommendations({ ...common, requests: requestsSource(resolveRequests({ items, sequences }, null, 3), 4), batchSize: 5, shards: 3, out: listed });
    for (let i = 0; i < 3; i++) expect(await readFile(shardPath(listed, i, 3))).toEqual(await readFile(shardPath(out, i, 3)));
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('an --input table streamed by row groups of 4 (with and without histories) equals the whole table resolved at once, shards included', async () => {
    const common = { scorer: followerScorer(codes), itemCodes: codes, itemKeys, topK: 4, beamSize: 6, progress: false };
    // 23 input users: data set users, unknown users, unknown and empty histories, a repeated user
    const userKeys = Array.from({ length: 23 }, (_, r) => (r % 5 === 4 ? `stranger${r}` : `u${(r * 11) % users}`));
    const histories = userKeys.map((_, r) => (r % 7 === 6 ? [] : Array.from({ length: 1 + (r % 4) }, (_, j) => (j === 1 && r % 3 === 0 ? `zzz${r}` : `item-${(r * 5 + j) % n}`))));
    for (const [name, table] of [
      ['with-history', makeTable({ user_key: utf8Vector(userKeys), history: utf8ListVector(histories) })],
      ['keys-only', makeTable({ user_key: utf8Vector(userKeys) })],
    ] as const) {
      const path = join(dir, `${name}.parquet`);
      await writeParquetTable(path, table, { rowGroupSize: 4 });
      expect((await ParquetRowGroups.open(path)).rowGroupRows).toEqual([4, 4, 4, 4, 4, 3]);
      const whole = join(dir, `${name}-whole.parquet`);
      await writeRecommendations({ ...common, requests: resolveRequests({ items, sequences }, await readRequestTable(path), 3), batchSize: 1000, out: whole });
      const expected = await rows(whole);
      const input = await inspectInput(path);
      expect(input).toMatchObject({ rows: 23, hasHistory: name === 'with-history', hasPreference: false });
      // a history input needs only the data set's user keys; a key-only one, its sequences
      const lookup = requestLookup({ items, sequences: name === 'with-history' ? { userKeys: sequences.userKeys } : sequences }, 3);
      const out = join(dir, `${name}.parquet`.replace('.parquet', '-streamed.parquet'));
      const summaries = await writeRecommendations({ ...common, requests: inputRequests(input, lookup), batchSize: 3, shards: 3, out });
      expect(summaries.map((sm) => sm.users)).toEqual([7, 8, 8]);
      const merged: string[] = [];
      for (let i = 0; i < 3; i++) merged.push(...(await rows(shardPath(out, i, 3))));
      expect(merged).toEqual(expected);
      expect(expected.length).toBeGreaterThan(40);
    }
    await writeParquetTable(join(dir, 'nokey.parquet'), makeTable({ user: utf8Vector(['u1']) }));
    await expect(inspectInput(join(dir, 'nokey.parquet'))).rejects.toThrow(`${join(dir, 'nokey.parquet')}: missing column "user_key"`);
  });

  it('the streamed Parquet writer: row groups of its size, rows in order, sha256 of the bytes, nothing left on abort', async () => {
    const path = join(dir, 'w.parquet');
    const writer = await ParquetStreamWriter.create(path, { rowGroupSize: 4 });
    for (let b = 0; b < 5; b++) await writer.append(makeTable({ k: utf8Vector([`a${b}`, `b${b}`, `c${b}`]), v: int32Vector([b, b + 10, b + 20]) }));
    const digest = await writer.finish();
    await writer.commit();
    const bytes = await readFile(path);
    expect(digest).toEqual({ bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    const groups = await ParquetRowGroups.open(path);
    expect(groups.rowGroupRows).toEqual([4, 4, 4, 3]);
    groups.close();
    expect(Array.from(readInt32Column(await readParquetTable(path), 'v', path))).toEqual([0, 1, 2, 3, 4].flatMap((b) => [b, b + 10, b + 20]));

    const aborted = await ParquetStreamWriter.create(join(dir, 'x.parquet'));
    await aborted.append(makeTable({ v: int32Vector([1, 2]) }));
    await aborted.abort();
    expect((await readdir(dir)).filter((f) => f.includes('x.parquet'))).toEqual([]);
  });
});

// The streaming paths of the importers with tiny chunks, so that every chunk-boundary case happens: a line
// split across reads, a CRLF or a "" escape cut in two, a quoted field spanning chunks, a user whose rows are
// spread over many chunks. The JS readers (jsReader) and DuckDB's must give the same data set.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { jest } from '@jest/globals';
import type { ImportOptions } from '../../pipelines/data/index.js';
import { host, lockPath, readMark } from '../../tokenizer/io/index.js';
import {
  CsvParser, importDataset, makeTable, parseCsv, readDataset, readLines, utf8Vector, writeParquetTable,
} from '../../pipelines/data/index.js';

let dir: string;
let n = 0;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'semid-stream-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function content(options: Omit<ImportOptions, 'out'>) {
  const out = join(dir, `out${n++}`);
  const { manifest } = await importDataset({ quiet: true, ...options, out } as ImportOptions);
  const ds = await readDataset(out);
  const { createdAt: _, ...rest } = manifest;
  return {
    manifest: rest, keys: ds.items.keys, texts: ds.items.texts, users: ds.sequences.userKeys,
    items: ds.sequences.items.map((s) => [...s]), times: ds.sequences.timestamps?.map((t) => [...t]) ?? null,
  };
}

const TRICKY = 'a,b\r\n"x, y","say ""hi"""\n"multi\nline",2\r\nlast,"q"""\n';

describe('chunk boundaries', () => {
  test('CsvParser fed one character at a time equals parseCsv of the whole text', () => {
    for (const size of [1, 2, 3, 5]) {
      const parser = new CsvParser();
      const rows = [];
      for (let i = 0; i < TRICKY.length; i += size) rows.push(...parser.push(TRICKY.slice(i, i + size)));
      rows.push(...parser.end());
      expect(rows).toEqual(parseCsv(TRICKY));
    }
    expect(parseCsv(TRICKY).map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });

  test('readLines with 3-byte reads: CRLF and multi-byte characters cut between reads', async () => {
    const text = 'first line\r\nzweite Zeile: Größe\n\nlast without newline — ok';
    for (const path of [await file('lines.txt', text), await file('lines.txt.gz', gzipSync(text))]) {
      const lines = [];
      for await (const [line, no] of readLines(path, { chunkBytes: 3 })) lines.push([line, no]);
      expect(lines).toEqual(text.split(/\r?\n/).map((l, i) => [l, i + 1]));
    }
  });

  test('csv: the JS reader with 7-byte chunks equals DuckDB (users across chunks, quoted keys, CRLF)', async () => {
    const rows = ['user,item,timestamp,rating'];
    for (let r = 0; r < 300; r++) rows.push(`u${r % 7},"it, ${(r * 13) % 41}",${1000 + ((r * 37) % 101)},${r % 5}`);
    const interactions = await file('inter.csv', `${rows.join('\r\n')}\r\n`);
    const options = { format: 'csv' as const, interactions, minRating: 1, minInteractions: 3 };
    const native = await content(options);
    process.env.SEMID_ENGINE_BATCH = '10'; // histories aggregated 2 users at a time, in many part files
    const js = await content({ ...options, jsReader: true, chunkBytes: 7 }).finally(() => { delete process.env.SEMID_ENGINE_BATCH; });
    expect(js).toEqual(native);
    expect(native.users).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
    for (const t of native.times!) expect(t).toEqual([...t].sort((a, b) => a - b));
  });

  test('movielens: ratings.csv gzipped, JS reader with 5-byte chunks equals DuckDB', async () => {
    const rows = ['userId,movieId,rating,timestamp'];
    for (let r = 0; r < 200; r++) rows.push(`${1 + (r % 9)},${1 + ((r * 7) % 23)},${(r % 10) / 2 + 0.5},${5000 - ((r * 11) % 57)}`);
    const ratings = await file('ratings.csv.gz', gzipSync(`${rows.join('\n')}\n`));
    const native = await content({ format: 'movielens', ratings, minRating: 2 });
    const js = await content({ format: 'movielens', ratings, minRating: 2, jsReader: true, chunkBytes: 5 });
    expect(js).toEqual(native);
    expect(native.manifest.source).toMatchObject({ belowMinRating: 60 }); // ratings 0.5, 1 and 1.5: 3 in 10
    expect(native.manifest).toMatchObject({ interactions: 140 });
  });

  test('csv: padded keys are trimmed in the engine (not sent to the JS reader), checked against the items file', async () => {
    const rows = ['user,item,time'];
    for (let r = 0; r < 60; r++) rows.push(`${r % 2 ? ' ' : ''}u${r % 5},i${r % 4}${r % 3 ? '  ' : ''},${r % 17}`);
    const interactions = await file('padded.csv', `${rows.join('\n')}\n`);
    const items = await file('padded-items.csv', 'item,title\ni0,zero\ni1,one\ni2,two\ni3,three\n');
    const logged: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((s) => { logged.push(String(s)); return true; });
    process.env.SEMID_ENGINE_LOG = '1';
    const native = await content({ format: 'csv', interactions, items }).finally(() => { delete process.env.SEMID_ENGINE_LOG; write.mockRestore(); });
    expect(logged.join('')).toMatch(/csv_trimmed/); // the engine trimmed the cells itself
    const js = await content({ format: 'csv', interactions, items, jsReader: true, chunkBytes: 9 });
    expect(js).toEqual(native);
    expect(native.users).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    const unknown = await file('padded-unknown.csv', `${rows.join('\n')}\nu1, i9 ,3\n`);
    await expect(content({ format: 'csv', interactions: unknown, items })).rejects.toThrow(/padded-unknown\.csv:62: .*"i9"/);
  });

  test('an error after many chunks still names the line; --skip-invalid counts it', async () => {
    const rows = ['user,item,time'];
    for (let r = 0; r < 50; r++) rows.push(`u${r % 3},i${r % 4},${r}`);
    rows.splice(40, 0, 'u1,i2,yesterday');
    const interactions = await file('bad.csv', `${rows.join('\n')}\n`);
    await expect(content({ format: 'csv', interactions, chunkBytes: 6 })).rejects.toThrow(/bad\.csv:41: time "yesterday" in column "time" is not a number or date/);
    const skipped = await content({ format: 'csv', interactions, chunkBytes: 6, skipInvalid: true });
    expect(skipped.manifest).toMatchObject({ interactions: 50, skipped: { 'bad value': 1 } });
  });

  test('a file that is not UTF-8 is re-read as Latin-1 from the start', async () => {
    const sequences = await file('latin.txt', Buffer.from('u1 caf\xe9 th\xe9\nu2 th\xe9\n', 'latin1'));
    const ds = await content({ format: 's3rec', sequences, chunkBytes: 4 });
    expect(ds.keys).toEqual(['café', 'thé']);
    expect(ds.items).toEqual([[0, 1], [1]]);
  });

  test('a row DuckDB would read differently sends the file to the JS reader, whose message names the line', async () => {
    const interactions = await file('p.csv', 'user,item,time\na,x,1\n,y,2\n');
    await expect(content({ format: 'csv', interactions })).rejects.toThrow(/p\.csv:3: empty user \("user"\)/);
    // Times DuckDB's cast reads but JS Number() does not ("+-1" is a date to the JS reader): the JS reader's data set.
    for (const [t, name] of [['+-1', 'sign'], ['1_000', 'underscore']]) {
      const lax = await file(`lax-${name}.csv`, `user,item,time\na,x,1\nb,y,${t}\n`);
      const js = await content({ format: 'csv', interactions: lax, jsReader: true }).catch((e: Error) => e.message);
      expect(await content({ format: 'csv', interactions: lax }).catch((e: Error) => e.message)).toEqual(js);
    }
  });

  test('parquet: checks in the engine name the row; --skip-invalid counts each reason', async () => {
    const interactions = join(dir, 'bad.parquet');
    await writeParquetTable(interactions, makeTable({
      user: utf8Vector(['a', 'a', '', 'b', 'b']), item: utf8Vector(['x', 'y', 'x', 'z', 'x']), ts: utf8Vector(['1', '2', '3', 'soon', '5']),
    }));
    await expect(content({ format: 'parquet', interactions })).rejects.toThrow(/bad\.parquet row 2: empty user \("user"\)/);
    const skipped = await content({ format: 'parquet', interactions, skipInvalid: true });
    expect(skipped.manifest).toMatchObject({ interactions: 3, skipped: { 'bad value': 2 } });
    expect(skipped.times).toEqual([[1, 2], [5]]);
  });
});

describe('the engine writes through the data set writer (README "What semid guarantees")', () => {
  test('marked as a data set, refused while another run holds the lock, a user\'s directory untouched', async () => {
    const interactions = await file('w.csv', 'user,item,time\na,x,1\na,y,2\nb,x,3\n');
    const out = join(dir, 'written');
    await importDataset({ quiet: true, format: 'csv', interactions, out });
    expect(await readMark(out)).toMatchObject({ kind: 'dataset' });
    // Another live process (this test's parent) holds the lock: the import is refused and names it.
    const other = { pid: process.ppid, host: host(), startedAt: new Date().toISOString(), command: 'semid data import (another run)' };
    await writeFile(lockPath(out), JSON.stringify(other));
    await expect(importDataset({ quiet: true, format: 'csv', interactions, out })).rejects.toThrow(`${out} is in use by another semid run`);
    await rm(lockPath(out));
    const users = join(dir, 'users-dir');
    await mkdir(users);
    await writeFile(join(users, 'notes.txt'), 'mine');
    await expect(importDataset({ quiet: true, format: 'csv', interactions, out: users })).rejects.toThrow(`--out ${users} is not empty and was not written by semid`);
    expect(await readdir(users)).toEqual(['notes.txt']);
  });
});

// `semid data merge`: two generated data sets (with equal raw keys) become one multi-domain data set whose keys
// are namespaced, whose domain columns and manifest counts are right, whose per-user splits are the inputs'
// splits, and whose embeddings are the inputs' concatenated; bad input is refused with nothing written.
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  domainIndex, generateDataset, leaveOneOut, mergeDatasets, parseDomainFlag, readDataset, readEmbeddings, validateDataset, writeEmbeddings,
} from '../../pipelines/data/index.js';

const quiet = { onShortUsers: () => undefined };
let root: string;
let office: string;
let science: string;

function vectors(rows: number, dim: number, seed: number): Float32Array {
  return Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(seed * 7.1 + i * 0.37));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'semid-merge-'));
  office = join(root, 'office');
  science = join(root, 'science');
  const a = await generateDataset(office, { users: 80, items: 60, seed: 1, maxHistory: 12 });
  const b = await generateDataset(science, { users: 50, items: 70, seed: 2, maxHistory: 12 });
  await writeEmbeddings(office, 'default', { rows: a.manifest.items, dim: 6, data: vectors(a.manifest.items, 6, 1) });
  await writeEmbeddings(science, 'default', { rows: b.manifest.items, dim: 6, data: vectors(b.manifest.items, 6, 2) });
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

describe('data merge', () => {
  test('keys namespaced, domain columns, per-domain counts, ids shifted, embeddings concatenated', async () => {
    const out = join(root, 'merged');
    const [a, b] = [await readDataset(office), await readDataset(science)];
    expect(a.items.keys.some((k) => b.items.keys.includes(k))).toBe(true); // equal raw keys exist: the namespace matters
    const { manifest } = await mergeDatasets({ domains: [{ name: 'office', dir: office }, { name: 'science', dir: science }], out });
    const m = await readDataset(out);
    expect(m.manifest).toEqual(manifest);
    expect(manifest).toMatchObject({
      users: 130, items: 130, interactions: a.manifest.interactions + b.manifest.interactions,
      domains: [
        { name: 'office', source: office, users: 80, items: 60, interactions: a.manifest.interactions },
        { name: 'science', source: science, users: 50, items: 70, interactions: b.manifest.interactions },
      ],
    });
    expect(m.items.keys.slice(0, 60)).toEqual(a.items.keys.map((k) => `office:${k}`));
    expect(m.items.keys.slice(60)).toEqual(b.items.keys.map((k) => `science:${k}`));
    expect(m.sequences.userKeys.slice(80)).toEqual(b.sequences.userKeys.map((k) => `science:${k}`));
    expect(m.items.texts.slice(60)).toEqual(b.items.texts);
    expect(m.items.domains).toEqual([...Array(60).fill('office'), ...Array(70).fill('science')]);
    expect(m.sequences.domains).toEqual([...Array(80).fill('office'), ...Array(50).fill('science')]);
    expect(Array.from(m.sequences.items[80])).toEqual(Array.from(b.sequences.items[0], (i) => i + 60));

    const index = domainIndex(m)!;
    expect(index.names).toEqual(['office', 'science']);
    expect(Array.from(index.items[1])).toEqual(Array.from({ length: 70 }, (_, i) => 60 + i));

    // Each domain's test users are exactly its single-domain test users, with the same targets (by raw key).
    const merged = leaveOneOut(m.sequences, 'test', quiet);
    const alone = leaveOneOut(b.sequences, 'test', quiet);
    const scienceExamples = merged.filter((e) => index.userDomain[e.user] === 1);
    expect(scienceExamples.map((e) => m.items.keys[e.target])).toEqual(alone.map((e) => `science:${b.items.keys[e.target]}`));
    expect(scienceExamples.map((e) => m.sequences.userKeys[e.user])).toEqual(alone.map((e) => `science:${b.sequences.userKeys[e.user]}`));

    const e = await readEmbeddings(out);
    expect([e.rows, e.dim]).toEqual([130, 6]);
    expect(Array.from(e.data.subarray(60 * 6))).toEqual(Array.from(vectors(70, 6, 2)));
  });

  test('bad input: a domain twice, a directory that is not a data set, embeddings of different dims; nothing written', async () => {
    const out = join(root, 'bad');
    await expect(mergeDatasets({ domains: [{ name: 'office', dir: office }, { name: 'office', dir: science }], out }))
      .rejects.toThrow(`--domain office is given twice (${office} and ${science})`);
    const notData = join(root, 'notdata');
    await mkdir(notData);
    await writeFile(join(notData, 'x.txt'), 'x');
    await expect(mergeDatasets({ domains: [{ name: 'office', dir: office }, { name: 'misc', dir: notData }], out }))
      .rejects.toThrow(`--domain misc=${notData}: ${notData}: not a semid data set`);
    const other = join(root, 'other');
    const g = await generateDataset(other, { users: 40, items: 60, seed: 3, maxHistory: 12 });
    await writeEmbeddings(other, 'default', { rows: g.manifest.items, dim: 4, data: vectors(g.manifest.items, 4, 3) });
    await expect(mergeDatasets({ domains: [{ name: 'office', dir: office }, { name: 'other', dir: other }], out }))
      .rejects.toThrow(`embeddings "default" have 6 dims in --domain office=${office} but 4 in --domain other=${other}`);
    await expect(mergeDatasets({ domains: [{ name: 'office', dir: office }], out })).rejects.toThrow('at least two domains, got 1');
    await expect(mergeDatasets({ domains: [{ name: 'office', dir: office }, { name: 'science', dir: science }], out: office }))
      .rejects.toThrow('a command never writes into its own input');
    expect(await exists(out)).toBe(false);
    expect(() => parseDomainFlag('office')).toThrow('--domain must be NAME=DIR');
    expect(() => parseDomainFlag('of:fice=x')).toThrow('a domain name must be letters, digits');
    expect(parseDomainFlag('office=a=b')).toEqual({ name: 'office', dir: 'a=b' });
  });

  test('a merged data set is not merged again, and a user may not hold another domain\'s item', async () => {
    const out = join(root, 'merged2');
    await mergeDatasets({ domains: [{ name: 'office', dir: office }, { name: 'science', dir: science }], out });
    await expect(mergeDatasets({ domains: [{ name: 'both', dir: out }, { name: 'science', dir: science }], out: join(root, 'm3') }))
      .rejects.toThrow('already a multi-domain data set');
    const m = await readDataset(out);
    m.sequences.items[0] = Int32Array.from([...m.sequences.items[0].subarray(1), 100]);
    expect(() => validateDataset(m.items, m.sequences, 'x')).toThrow(/user "office:.*" \(domain "office"\) position \d+: item "science:.*" is of domain "science"/);
  });
});

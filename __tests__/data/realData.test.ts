// Real data sets import with their published counts (skipped when ../shared/data is absent).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDataset, leaveOneOut, readDataset } from '../../pipelines/data/index.js';

const DATA = join(process.cwd(), '..', 'shared', 'data');
const present = existsSync(join(DATA, 'beauty', 'Beauty.txt'));
const describeIf = present ? describe : describe.skip;
if (!present) console.warn(`skipping real-data import tests: ${DATA} is absent`);

describeIf('real data sets', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'semid-real-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  test('Beauty: 22,363 users, 12,101 items, 198,502 interactions; 131,413 train examples', async () => {
    const out = join(dir, 'beauty');
    const { manifest } = await importDataset({
      format: 's3rec', sequences: join(DATA, 'beauty', 'Beauty.txt'), items: join(DATA, 'beauty', 'Beauty.items.jsonl'), out,
    });
    expect(manifest).toMatchObject({ users: 22363, items: 12101, interactions: 198502 });
    const ds = await readDataset(out);
    // Dense item id = Beauty id - 1, the 0-based keys of the reference semantic IDs.
    expect(ds.items.keys.slice(0, 3)).toEqual(['1', '2', '3']);
    expect(ds.items.texts[0]).toBe('nail lacquer simmer and shimmer | OPI | Makeup, Nails, Nail Polish');
    expect(leaveOneOut(ds.sequences, 'train')).toHaveLength(131413);
    expect(leaveOneOut(ds.sequences, 'test')).toHaveLength(22363);
  });

  test('Scientific and ml-100k', async () => {
    const sci = await importDataset({
      format: 'inter-json', interactions: join(DATA, 'scientific', 'Scientific.inter.json'),
      items: join(DATA, 'scientific', 'Scientific.item.json'), out: join(dir, 'sci'),
    });
    expect(sci.manifest).toMatchObject({ users: 8317, items: 4344, interactions: 58492 });
    const ml = await importDataset({
      format: 'movielens', ratings: join(DATA, 'ml-100k', 'u.data'), movies: join(DATA, 'ml-100k', 'u.item'), out: join(dir, 'ml'),
    });
    expect(ml.manifest).toMatchObject({ users: 943, items: 1682, interactions: 100000 });
  });
});

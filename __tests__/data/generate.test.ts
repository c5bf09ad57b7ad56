// The synthetic default data set: deterministic, sized by flags, and structured so that the next item
// is predictable from the last one far better than by popularity.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sequences } from '../../pipelines/data/index.js';
import { generateData, generateDataset, leaveOneOut, readDataset, resolveGenerateConfig } from '../../pipelines/data/index.js';

const quiet = { onShortUsers: () => undefined };

/** Recall@10 on the test split of a most-popular list and of last-item -> next-item counts from train. */
function baselines(sequences: Sequences): { popularity: number; lastItem: number } {
  const train = leaveOneOut(sequences, 'train', quiet);
  const test = leaveOneOut(sequences, 'test', quiet);
  const counts = new Map<number, number>();
  for (const e of train) counts.set(e.target, (counts.get(e.target) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([i]) => i);
  const next = new Map<number, Map<number, number>>();
  for (const e of train) {
    const last = e.history[e.history.length - 1];
    const m = next.get(last) ?? new Map<number, number>();
    m.set(e.target, (m.get(e.target) ?? 0) + 1);
    next.set(last, m);
  }
  let popHits = 0;
  let lastHits = 0;
  for (const e of test) {
    if (top.includes(e.target)) popHits++;
    const m = next.get(e.history[e.history.length - 1]);
    const list = m ? [...m].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([i]) => i) : [];
    for (const i of top) if (list.length < 10 && !list.includes(i)) list.push(i);
    if (list.includes(e.target)) lastHits++;
  }
  return { popularity: popHits / test.length, lastItem: lastHits / test.length };
}

describe('generate', () => {
  test('same seed, same data; another seed, other data', () => {
    const a = generateData({ users: 200, items: 120, seed: 3 });
    const b = generateData({ users: 200, items: 120, seed: 3 });
    const c = generateData({ users: 200, items: 120, seed: 4 });
    expect(b).toEqual(a);
    expect(c.items.texts).not.toEqual(a.items.texts);
  });

  test('sizes, history lengths, timestamps, keys and text with the category path', () => {
    const { items, sequences } = generateData({ users: 300, items: 200, minHistory: 4, maxHistory: 12 });
    expect(items.keys.length).toBe(200);
    expect(new Set(items.keys).size).toBe(200);
    expect(sequences.userKeys.length).toBe(300);
    for (const [u, seq] of sequences.items.entries()) {
      expect(seq.length).toBeGreaterThanOrEqual(4);
      expect(seq.length).toBeLessThanOrEqual(12);
      expect(new Set(seq).size).toBe(seq.length); // no repeats
      const t = sequences.timestamps![u];
      for (let j = 1; j < t.length; j++) expect(t[j]).toBeGreaterThanOrEqual(t[j - 1]);
    }
    items.categories.forEach((path, i) => {
      expect(path).toHaveLength(3);
      expect(items.texts[i].endsWith(path.join(', '))).toBe(true);
    });
  });

  test('the default set: the last item predicts the next far better than popularity', () => {
    const { sequences } = generateData();
    const { popularity, lastItem } = baselines(sequences);
    expect(lastItem).toBeGreaterThan(0.3);
    expect(lastItem).toBeGreaterThan(4 * popularity);
  });

  test('written data set reads back with its manifest; bad sizes are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'semid-gen-'));
    try {
      const { manifest } = await generateDataset(join(dir, 'g'), { users: 100, items: 80, seed: 1 });
      const ds = await readDataset(join(dir, 'g'));
      expect(ds.manifest).toEqual(manifest);
      expect(manifest.source).toMatchObject({ format: 'generated', seed: 1, users: 100, items: 80 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => resolveGenerateConfig({ users: 0 })).toThrow('`users` must be an integer >= 1, got 0');
    expect(() => resolveGenerateConfig({ minHistory: 10, maxHistory: 5 })).toThrow('`maxHistory` must be an integer >= 10, got 5');
  });
});

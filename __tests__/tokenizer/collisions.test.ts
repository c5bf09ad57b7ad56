import { collisionStats, disambiguate, disambiguateNew, buildReport } from '../../tokenizer/index.js';

const ids = (rows: number[][], size = 4) => ({ levels: rows[0].map(() => size), codes: Int32Array.from(rows.flat()) });

describe('collisions', () => {
  const base = ids([[1, 2], [1, 2], [0, 3], [1, 2], [0, 3], [2, 2]]);

  it('counts collisions before disambiguation and the largest bucket', () => {
    const s = collisionStats(base);
    expect(s.distinctIds).toBe(3);
    expect(s.collisionRate).toBeCloseTo(1 - 3 / 6);
    expect(s.maxBucket).toBe(3);
    expect(s.collidingItems).toBeCloseTo(5 / 6);
  });

  it('appends 0, 1, 2... in item order so every ID is distinct', () => {
    const d = disambiguate(base, 4);
    expect(d.levels).toEqual([4, 4, 4]);
    expect(Array.from(d.codes)).toEqual([1, 2, 0, 1, 2, 1, 0, 3, 0, 1, 2, 2, 0, 3, 1, 2, 2, 0]);
    expect(collisionStats(d).distinctIds).toBe(6);
  });

  it('fails clearly when a bucket exceeds the disambiguation range', () => {
    expect(() => disambiguate(base, 2)).toThrow(/3 items share the codes \(1,2\), more than the disambiguation range of 2 \(--dedup-size 2\)/);
  });

  it('gives new items the next free code and never changes existing IDs', () => {
    const existing = disambiguate(base, 8);
    const snapshot = Array.from(existing.codes);
    const fresh = disambiguateNew(existing, ids([[1, 2], [3, 3], [1, 2], [0, 3]]));
    // (1,2) holds 0,1,2 -> 3 then 4; (3,3) is new -> 0; (0,3) holds 0,1 -> 2.
    expect(Array.from(fresh.codes)).toEqual([1, 2, 3, 3, 3, 0, 1, 2, 4, 0, 3, 2]);
    expect(fresh.levels).toEqual([4, 4, 8]);
    expect(Array.from(existing.codes)).toEqual(snapshot);
    expect(() => disambiguateNew(disambiguate(base, 3), ids([[1, 2]]))).toThrow(/more than the disambiguation range of 3/);
  });

  it('reports usage and perplexity per level', () => {
    const r = buildReport('toy', disambiguate(base, 4), true);
    expect(r.levels).toHaveLength(2);
    expect(r.levels[0]).toMatchObject({ size: 4, used: 3, usage: 0.75, dead: 1 });
    expect(r.levels[0].perplexity).toBeCloseTo(Math.exp(-(0.5 * Math.log(0.5) + (1 / 3) * Math.log(1 / 3) + (1 / 6) * Math.log(1 / 6))), 6);
    expect(r.disambiguation).toMatchObject({ size: 4, used: 3 });
    expect(r).toMatchObject({ distinctIds: 3, maxBucket: 3 });
  });
});

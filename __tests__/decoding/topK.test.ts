import { TopK } from '../../decoding/topK.js';
import { topItems } from '../../decoding/exactScoring.js';
import { xorshift } from '../../decoding/benchmark.js';

/** Best `k` of a stream by sorting it whole: higher score first, then lower key. */
function sortedTop(pairs: [number, number][], k: number): [number, number][] {
  return [...pairs].sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k);
}

function drain(top: TopK): [number, number][] {
  const scores = new Float64Array(top.size + 2).fill(NaN);
  const keys = new Float64Array(top.size + 2).fill(NaN);
  const n = top.drainBestFirst(scores, keys, 2);
  return Array.from({ length: n }, (_, i) => [scores[i + 2], keys[i + 2]]);
}

describe('TopK', () => {
  it.each([1, 2, 5, 20, 64])('keeps the best %i of random streams with many ties, best first, then is empty', (k) => {
    const rand = xorshift(k);
    const top = new TopK(k);
    for (const length of [0, 1, k - 1, k, k + 1, 300]) {
      const pairs: [number, number][] = [];
      for (let key = 0; key < length; key += 1) pairs.push([(rand() % 7) - 3.5, (key * 37) % 1009]); // 7 distinct scores
      for (const [s, key] of pairs) top.offer(s, key);
      expect(top.size).toBe(Math.min(k, Math.max(length, 0)));
      expect(drain(top)).toEqual(sortedTop(pairs, k));
      expect(top.size).toBe(0);
    }
  });

  it('holds nothing with capacity 0', () => {
    const top = new TopK(0);
    top.offer(1, 1);
    expect(top.size).toBe(0);
    expect(drain(top)).toEqual([]);
  });
});

describe('topItems', () => {
  it.each([1, 3, 10, 40])('equals sorting the whole row (k = %i): ties to the lower item, NaN and -Infinity never kept, skipped items left out', (k) => {
    const rand = xorshift(100 + k);
    for (const length of [0, 1, k, 50, 2000]) {
      const row = Float32Array.from({ length }, () => {
        const r = rand() % 23;
        return r === 0 ? NaN : r === 1 ? -Infinity : (r % 9) - 4; // 9 distinct finite scores: many ties
      });
      const skip = (item: number) => item % 5 === 2;
      for (const skipping of [undefined, skip]) {
        const pairs: [number, number][] = [];
        row.forEach((s, item) => {
          if (s > -Infinity && !(skipping && skipping(item))) pairs.push([s, item]);
        });
        expect(Array.from(topItems(row, k, skipping))).toEqual(sortedTop(pairs, k).map(([, item]) => item));
      }
    }
  });
});

import { metricsFromRanks, ndcgAtK, parseKs, rankOf, recallAtK } from '../../pipelines/metrics.js';

describe('metrics (leave-one-out, one target per user)', () => {
  it('computes Recall@K and NDCG@K on a hand-worked case', () => {
    // targets ranked 1st, 2nd, not recommended, 5th, 10th
    const ranks = [0, 1, -1, 4, 9];
    const m = metricsFromRanks(ranks, [1, 5, 10]);
    expect(m['recall@1']).toBeCloseTo(1 / 5, 12);
    expect(m['recall@5']).toBeCloseTo(3 / 5, 12);
    expect(m['recall@10']).toBeCloseTo(4 / 5, 12);
    expect(m['ndcg@1']).toBeCloseTo(1 / 5, 12);
    // 1/log2(2) + 1/log2(3) + 1/log2(6) = 1 + 0.63093 + 0.38685
    expect(m['ndcg@5']).toBeCloseTo((1 + 0.6309297535714575 + 0.38685280723454163) / 5, 12);
    expect(m['ndcg@10']).toBeCloseTo((1 + 0.6309297535714575 + 0.38685280723454163 + 1 / Math.log2(11)) / 5, 12);
    expect(m.users).toBe(5);
    expect(metricsFromRanks(ranks, [5], (i) => i >= 3)).toEqual({ 'recall@5': 0.5, 'ndcg@5': 0.5 * 0.38685280723454163, users: 2 });
  });

  it('ranks, single-example metrics, parsing', () => {
    expect(rankOf([5, 3, 9], 9)).toBe(2);
    expect(rankOf([5, 3, 9], 4)).toBe(-1);
    expect(recallAtK(2, 2)).toBe(0);
    expect(recallAtK(1, 2)).toBe(1);
    expect(ndcgAtK(2, 3)).toBeCloseTo(0.5, 12);
    expect(ndcgAtK(-1, 3)).toBe(0);
    expect(parseKs('10, 5,20,5')).toEqual([5, 10, 20]);
    expect(() => parseKs('5,x')).toThrow('--k: each cutoff must be an integer >= 1, got "x"');
    expect(() => parseKs('')).toThrow(/at least one cutoff/);
    expect(metricsFromRanks([], [10])).toEqual({ 'recall@10': 0, 'ndcg@10': 0, users: 0 });
  });
});

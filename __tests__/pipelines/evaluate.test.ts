import { PrefixTrie } from '../../decoding/index.js';
import type { ItemTokenizer } from '../../tokenizer/index.js';
import {
  NOT_KEPT, nearestItemFallback, beamMissRates, denseRanks, evaluateModel, popularityBuckets, popularityRanks, rankWithModel, trainingPopularity,
} from '../../pipelines/evaluate/index.js';
import type { Example } from '../../pipelines/data/types.js';
import { followerScorer, toyCodes } from './toyModel.js';

const n = 40;
const codes = toyCodes(n);
// users 0..19: the target follows the last history item (the toy model's favourite); 20..29 do not
const examples: Example[] = Array.from({ length: 30 }, (_, u) => {
  const last = (u * 3) % n;
  return { user: u, history: Int32Array.from([(last + 11) % n, last]), target: u < 20 ? (last + 1) % n : (last + 5) % n };
});

describe('evaluateModel', () => {
  it('scores the beam search of a toy model with the leave-one-out metrics', async () => {
    const m = await evaluateModel({ scorer: followerScorer(codes), itemCodes: codes, examples, ks: [1, 5], beamSize: 5, batchSize: 7 });
    expect(m['recall@1']).toBeCloseTo(20 / 30, 12);
    expect(m['ndcg@1']).toBeCloseTo(20 / 30, 12);
    expect(m.users).toBe(30);
    expect(m.invalidRate).toBe(0);
    expect(m['recall@5']).toBeGreaterThanOrEqual(m['recall@1']);
  });

  it('gives the same ranks for any batch size, and rejects K > beam', async () => {
    const trie = PrefixTrie.build(codes);
    const a = await rankWithModel({ scorer: followerScorer(codes), trie, examples, topK: 5, beamSize: 6, batchSize: 1, progress: false });
    const b = await rankWithModel({ scorer: followerScorer(codes), trie, examples, topK: 5, beamSize: 6, batchSize: 256, progress: false });
    expect(Array.from(a.ranks)).toEqual(Array.from(b.ranks));
    for (const recs of a.recommended) for (const item of recs) expect(item >= 0 && item < n).toBe(true);
    await expect(evaluateModel({ scorer: followerScorer(codes), itemCodes: codes, examples, ks: [10], beamSize: 5 })).rejects.toThrow(/largest K \(10\) must be <= the beam size \(5\)/);
  });

  it('keeps the recommended lists it is asked to keep (a pass over many users keeps their ranks only)', async () => {
    const trie = PrefixTrie.build(codes);
    const all = await rankWithModel({ scorer: followerScorer(codes), trie, examples, topK: 5, beamSize: 6, batchSize: 4, progress: false });
    const some = await rankWithModel({ scorer: followerScorer(codes), trie, examples, topK: 5, beamSize: 6, batchSize: 4, progress: false, keepRecommended: (i) => i % 7 === 3 });
    expect(Array.from(some.ranks)).toEqual(Array.from(all.ranks));
    some.recommended.forEach((recs, i) => {
      if (i % 7 === 3) expect(Array.from(recs)).toEqual(Array.from(all.recommended[i]));
      else expect(recs).toBe(NOT_KEPT);
    });
    expect(all.recommended.every((recs) => recs.length === 5)).toBe(true);
  });

  it('finds the exact top-K with a wide enough beam (beam-miss rate 0)', async () => {
    const trie = PrefixTrie.build(codes);
    const sample = examples.slice(0, 4);
    const r = await rankWithModel({ scorer: followerScorer(codes), trie, examples: sample, topK: 5, beamSize: 40, progress: false });
    const report = await beamMissRates({ scorer: followerScorer(codes), trie, examples: sample, recommended: r.recommended, ks: [1, 5], progress: false });
    expect(report.missRate['@1']).toBe(0);
    expect(report.missRate['@5']).toBe(0);
    expect(report.exact).toEqual(report.beam);
  });
});

describe('baselines', () => {
  const sequences = { userKeys: ['a', 'b', 'c'], items: [Int32Array.from([0, 1, 1, 2, 3]), Int32Array.from([1, 2, 4, 0]), Int32Array.from([2, 1, 3])], timestamps: null };

  it('popularity counts only training interactions (all but the last two) and ranks targets', () => {
    const counts = trainingPopularity(sequences, 5);
    expect(Array.from(counts)).toEqual([1, 3, 2, 0, 0]); // [0,1,1] + [1,2] + [2]
    const ranks = popularityRanks(counts, [{ user: 0, history: new Int32Array(0), target: 1 }, { user: 1, history: new Int32Array(0), target: 0 }, { user: 2, history: new Int32Array(0), target: 4 }], 2);
    expect(Array.from(ranks)).toEqual([0, -1, -1]); // top-2 = [1, 2]
  });

  it('popularity with --exclude-history skips each user history items (like for like with a masked model)', () => {
    const counts = Float64Array.from([5, 4, 3, 2, 1]);
    const users = [
      { user: 0, history: Int32Array.from([0]), target: 2 }, // masked top-2: [1, 2]
      { user: 1, history: Int32Array.from([1, 0]), target: 3 }, // masked top-2: [2, 3]
      { user: 2, history: new Int32Array(0), target: 1 },
    ];
    expect(Array.from(popularityRanks(counts, users, 2))).toEqual([-1, -1, 1]);
    expect(Array.from(popularityRanks(counts, users, 2, { excludeHistory: true }))).toEqual([1, 1, 1]);
  });

  it('buckets items by thirds of training interactions, cold apart', () => {
    const { buckets, bucketOf } = popularityBuckets(Float64Array.from([10, 5, 3, 1, 1, 0]));
    // cumulative before each item: 0, 10, 15, 18, 19 of 20 -> head, torso (10/20*3 = 1.5), tail (2.25), tail, tail
    expect(Array.from(bucketOf)).toEqual([0, 1, 2, 2, 2, 3]);
    expect(buckets.map((b) => [b.name, b.items, b.minCount, b.maxCount])).toEqual([['head', 1, 10, 10], ['torso', 1, 5, 5], ['tail', 3, 1, 3], ['cold', 1, 0, 0]]);
  });

  it('dense: the mean of the last items embeddings finds the nearest item by cosine', async () => {
    // 4 items in 3-d: axis directions plus a diagonal
    const data = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.6, 0.8, 0]);
    const ranks = await denseRanks({ rows: 4, dim: 3, data }, [
      { user: 0, history: Int32Array.from([2, 0, 1]), target: 3 }, // mean of last 2 = (0.5, 0.5, 0): item 3 first
      { user: 1, history: Int32Array.from([2]), target: 2 },
      { user: 2, history: new Int32Array(0), target: 2 },
    ], 2, { lastItems: 2 });
    expect(Array.from(ranks)).toEqual([0, 0, -1]);
  });
});

describe('dense baseline with --exclude-history', () => {
  it('never ranks a history item: the next nearest items move up', () => {
    const data = Float32Array.from([0.6, 0, 0.8, 0, 1, 0, 0, 0, 1, 0.6, 0.8, 0]);
    // history [2] (the z axis): unmasked the nearest is item 2 itself (cosine 1), then item 0 (.8)
    const users = [{ user: 0, history: Int32Array.from([2]), target: 0 }];
    expect(Array.from(denseRanks({ rows: 4, dim: 3, data }, users, 2, { lastItems: 1 }))).toEqual([1]);
    expect(Array.from(denseRanks({ rows: 4, dim: 3, data }, users, 2, { lastItems: 1, excludeHistory: true }))).toEqual([0]);
  });
});

describe('nearestItemFallback', () => {
  it('decodes an invalid ID with the tokenizer and maps it to the nearest item embedding', async () => {
    // tokenizer: 1 semantic position of 3 codes, decoded to axis directions; the ID's 2nd code is disambiguation
    const tokenizer = {
      method: 'toy', levels: [3], config: {},
      decode: (ids: { codes: Int32Array }) => {
        const data = new Float32Array(ids.codes.length * 3);
        ids.codes.forEach((c, k) => { data[k * 3 + c] = 1; });
        return { rows: ids.codes.length, dim: 3, data };
      },
    } as unknown as ItemTokenizer;
    const embeddings = { rows: 3, dim: 3, data: Float32Array.from([0.9, 0.1, 0, 0.1, 0, 0.9, 0, 1, 0.2]) };
    const fallback = await nearestItemFallback(tokenizer, embeddings);
    expect(Array.from(await fallback(Int32Array.from([2, 5, 0, 7, 1, 1]), 3))).toEqual([1, 0, 2]);
  });
});

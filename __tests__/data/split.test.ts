// The leave-one-out split on small exact cases.
import { jest } from '@jest/globals';
import type { Sequences } from '../../pipelines/data/index.js';
import { lazyExamples, leaveOneOut, shortUsers, trainExamples } from '../../pipelines/data/index.js';

const seqs: Sequences = {
  userKeys: ['a', 'b', 'c', 'd'],
  items: [new Int32Array([10, 11, 12, 13, 14, 15]), new Int32Array([20, 21, 22]), new Int32Array([30, 31]), new Int32Array([40])],
  timestamps: null,
};
const quiet = { onShortUsers: () => undefined };
const plain = (examples: ReturnType<typeof leaveOneOut>) => examples.map((e) => ({ user: e.user, history: [...e.history], target: e.target }));

describe('leaveOneOut', () => {
  test('test: last item is the target', () => {
    expect(plain(leaveOneOut(seqs, 'test', quiet))).toEqual([
      { user: 0, history: [10, 11, 12, 13, 14], target: 15 },
      { user: 1, history: [20, 21], target: 22 },
      { user: 2, history: [30], target: 31 },
    ]);
  });
  test('valid: second-to-last item is the target', () => {
    expect(plain(leaveOneOut(seqs, 'valid', quiet))).toEqual([
      { user: 0, history: [10, 11, 12, 13], target: 14 },
      { user: 1, history: [20], target: 21 },
    ]);
  });
  test('train: every prefix of the training part', () => {
    expect(plain(leaveOneOut(seqs, 'train', quiet))).toEqual([
      { user: 0, history: [10], target: 11 },
      { user: 0, history: [10, 11], target: 12 },
      { user: 0, history: [10, 11, 12], target: 13 },
    ]);
  });
  test('maxHistory keeps the most recent items', () => {
    expect(plain(leaveOneOut(seqs, 'test', { ...quiet, maxHistory: 2 }))[0]).toEqual({ user: 0, history: [13, 14], target: 15 });
    expect(plain(leaveOneOut(seqs, 'train', { ...quiet, maxHistory: 2 }))[2]).toEqual({ user: 0, history: [11, 12], target: 13 });
    expect(() => leaveOneOut(seqs, 'test', { maxHistory: 0 })).toThrow('`maxHistory` must be an integer >= 1, got 0');
  });
  test('no target ever appears in its own history window, and train never sees valid/test targets', () => {
    for (const e of leaveOneOut(seqs, 'train', quiet)) {
      const seq = seqs.items[e.user];
      expect(e.target).not.toBe(seq[seq.length - 1]);
      expect(e.target).not.toBe(seq[seq.length - 2]);
    }
  });
  test('short users are reported, to the callback or as one warning', () => {
    expect(shortUsers(seqs, 'train')).toEqual({ split: 'train', minLength: 4, users: [1, 2, 3] });
    const onShortUsers = jest.fn();
    leaveOneOut(seqs, 'valid', { onShortUsers });
    expect(onShortUsers).toHaveBeenCalledWith({ split: 'valid', minLength: 3, users: [2, 3] });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    leaveOneOut(seqs, 'test');
    expect(warn).toHaveBeenCalledWith('leaveOneOut(test): 1 users have fewer than 2 items and give no test example (user ids 3)');
    warn.mockRestore();
  });
  test('history is a copy: changing it does not change the sequences', () => {
    const [e] = leaveOneOut(seqs, 'test', quiet);
    e.history[0] = -1;
    expect(seqs.items[0][0]).toBe(10);
  });
});

describe('trainExamples (computed on access)', () => {
  const lengths = [5, 2, 9, 4, 3, 30, 4, 1, 7];
  const sequences = {
    userKeys: lengths.map((_, u) => `u${u}`),
    items: lengths.map((n, u) => Int32Array.from({ length: n }, (_, j) => (u * 11 + j * 5) % 97)),
    timestamps: null,
  };
  const flat = (e: { user: number; history: Int32Array; target: number; domain?: number }) => ({ user: e.user, history: Array.from(e.history), target: e.target, domain: e.domain });

  it('equals leaveOneOut train (filtered, decorated), through indices and Array methods', () => {
    const keepUser = (u: number) => u !== 2;
    const decorate = <T extends { user: number }>(e: T) => ({ ...e, domain: e.user % 3 });
    const expected = leaveOneOut(sequences, 'train', { maxHistory: 4, ...quiet }).filter((e) => keepUser(e.user)).map(decorate);
    const lazy = trainExamples(sequences, { maxHistory: 4, keepUser, decorate, ...quiet });
    expect(lazy.length).toBe(expected.length);
    expect(expected.length).toBe(2 + 1 + 27 + 1 + 4);
    for (let i = 0; i < lazy.length; i++) expect(flat(lazy[i])).toEqual(flat(expected[i]));
    expect(lazy[lazy.length]).toBeUndefined();
    expect(lazy.filter((e) => e.user === 5).length).toBe(27);
    expect([...lazy].map(flat)).toEqual(expected.map(flat));
    expect(lazy.slice(3, 6).map(flat)).toEqual(expected.slice(3, 6).map(flat));
    expect(Array.isArray(lazy)).toBe(true);
    expect(() => { (lazy as unknown as { user: number }[])[0] = { user: 1 }; }).toThrow('read-only');
  });

  it('valid and test: one example per long-enough user, equal to leaveOneOut', () => {
    for (const split of ['valid', 'test'] as const) {
      const expected = leaveOneOut(sequences, split, { maxHistory: 3, ...quiet }).filter((e) => e.user !== 0);
      const lazy = lazyExamples(sequences, split, { maxHistory: 3, keepUser: (u) => u !== 0, ...quiet });
      expect(lazy.length).toBe(expected.length);
      expect(lazy.map(flat)).toEqual(expected.map(flat));
    }
    expect(() => lazyExamples(sequences, 'dev' as 'test')).toThrow('split must be train, valid or test, got "dev"');
  });

  it('reports short users like leaveOneOut', () => {
    const reports: unknown[] = [];
    trainExamples(sequences, { onShortUsers: (r) => reports.push(r) });
    expect(reports).toEqual([{ split: 'train', minLength: 4, users: [1, 4, 7] }]);
  });
});

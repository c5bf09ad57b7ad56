// Leave-one-out (TIGER, S3-Rec, SASRec): per user, the last item is the test target, the second-to-last
// the validation target, and every earlier position of the training part (all but the last two items)
// is a training target. Histories are the `maxHistory` items right before the target, oldest first.
// This is the ONE split used by training and evaluation.
import type { Example, Sequences, SplitName } from './types.js';

export interface SplitOptions {
  /** Items of history kept before each target (default 20, TIGER's). */
  maxHistory?: number;
  /**
   * Called once per split with the users too short to give an example (see MIN_LENGTH). When absent,
   * one console.warn line reports them (never silent).
   */
  onShortUsers?: (report: ShortUsers) => void;
}

export interface ShortUsers {
  split: SplitName;
  /** Sequence length a user needs to give at least one example of this split. */
  minLength: number;
  /** Dense ids of the users that gave none. */
  users: number[];
}

export const DEFAULT_MAX_HISTORY = 20;

/**
 * Shortest sequence that gives an example: test needs one history item before the last, valid one
 * before the second-to-last, train a training part of at least 2 items (target at t >= 1, t <= n-3).
 */
export const MIN_LENGTH: Record<SplitName, number> = { test: 2, valid: 3, train: 4 };

function resolveMaxHistory(maxHistory: number | undefined): number {
  const value = maxHistory ?? DEFAULT_MAX_HISTORY;
  if (!Number.isInteger(value) || value < 1) throw new Error(`\`maxHistory\` must be an integer >= 1, got ${value}`);
  return value;
}

/** Number of examples one user of sequence length n gives in a split. */
export function examplesPerUser(n: number, split: SplitName): number {
  if (split === 'train') return Math.max(0, n - 3);
  return n >= MIN_LENGTH[split] ? 1 : 0;
}

/** Users whose sequence is too short to give an example of `split`. */
export function shortUsers(sequences: Sequences, split: SplitName): ShortUsers {
  const users: number[] = [];
  sequences.items.forEach((seq, u) => {
    if (seq.length < MIN_LENGTH[split]) users.push(u);
  });
  return { split, minLength: MIN_LENGTH[split], users };
}

function warnShortUsers(report: ShortUsers): void {
  if (report.users.length === 0) return;
  const shown = report.users.slice(0, 10).join(', ');
  console.warn(
    `leaveOneOut(${report.split}): ${report.users.length} users have fewer than ${report.minLength} items and give no ` +
    `${report.split} example (user ids ${shown}${report.users.length > 10 ? ', ...' : ''})`,
  );
}

function example(user: number, seq: Int32Array, target: number, maxHistory: number): Example {
  return { user, history: seq.slice(Math.max(0, target - maxHistory), target), target: seq[target] };
}

/** Examples of one split, users in id order (train: each user's targets in time order). */
export function leaveOneOut(sequences: Sequences, split: SplitName, opts: SplitOptions = {}): Example[] {
  if (split !== 'train' && split !== 'valid' && split !== 'test') {
    throw new Error(`split must be train, valid or test, got "${String(split)}"`);
  }
  const maxHistory = resolveMaxHistory(opts.maxHistory);
  (opts.onShortUsers ?? warnShortUsers)(shortUsers(sequences, split));
  const out: Example[] = [];
  sequences.items.forEach((seq, user) => {
    const n = seq.length;
    if (n < MIN_LENGTH[split]) return;
    if (split === 'test') out.push(example(user, seq, n - 1, maxHistory));
    else if (split === 'valid') out.push(example(user, seq, n - 2, maxHistory));
    else for (let t = 1; t <= n - 3; t++) out.push(example(user, seq, t, maxHistory));
  });
  return out;
}

/**
 * Each user's training part (every item but the last two, the validation and test targets), users in id order:
 * the rows of models that learn from every position. Its positions >= 1 are exactly the `train` split's targets.
 */
export function trainingSequences(sequences: Sequences): { user: number; items: Int32Array }[] {
  const out: { user: number; items: Int32Array }[] = [];
  sequences.items.forEach((seq, user) => {
    if (seq.length >= MIN_LENGTH.train) out.push({ user, items: seq.subarray(0, seq.length - 2) });
  });
  return out;
}

export interface LazyExampleOptions {
  maxHistory?: number;
  /** Keep only these users' examples (default: all). */
  keepUser?: (user: number) => boolean;
  /** Applied to each example as it is read (e.g. add its user's domain). */
  decorate?: (example: Example) => Example;
  onShortUsers?: (report: ShortUsers) => void;
}

/**
 * A split's examples, the same as `leaveOneOut(sequences, split)` (filtered by `keepUser`, mapped by `decorate`)
 * but computed on access: example i is found by a binary search over the users' cumulative example
 * counts (its history copied out of the user's sequence, as leaveOneOut does). Memory is 12 bytes a user instead of ~150 bytes an
 * example (25M interactions: ~2 MB instead of ~4 GB). It is a read-only array (a Proxy over [] answering
 * `length`, indices, and through them every Array method), so code that takes `readonly Example[]` reads it as is.
 */
export function lazyExamples(sequences: Sequences, split: SplitName, opts: LazyExampleOptions = {}): readonly Example[] {
  if (split !== 'train' && split !== 'valid' && split !== 'test') throw new Error(`split must be train, valid or test, got "${String(split)}"`);
  const maxHistory = resolveMaxHistory(opts.maxHistory);
  (opts.onShortUsers ?? warnShortUsers)(shortUsers(sequences, split));
  const kept: number[] = [];
  sequences.items.forEach((seq, user) => {
    if (seq.length >= MIN_LENGTH[split] && (!opts.keepUser || opts.keepUser(user))) kept.push(user);
  });
  const users = Int32Array.from(kept);
  const starts = new Float64Array(users.length + 1); // [users + 1] first example of each kept user
  users.forEach((u, j) => { starts[j + 1] = starts[j] + examplesPerUser(sequences.items[u].length, split); });
  const length = starts[users.length];
  const at = (i: number): Example => {
    let lo = 0;
    let hi = users.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    const user = users[lo];
    const seq = sequences.items[user];
    const t = split === 'train' ? 1 + i - starts[lo] : seq.length - (split === 'valid' ? 2 : 1);
    const e = example(user, seq, t, maxHistory); // a copy of the history, as leaveOneOut's
    return opts.decorate ? opts.decorate(e) : e;
  };
  const index = (key: string | symbol): number => {
    if (typeof key !== 'string' || key.length === 0) return -1;
    const c = key.charCodeAt(0);
    if (c < 48 || c > 57) return -1;
    const i = Number(key);
    return Number.isInteger(i) && String(i) === key ? i : -1;
  };
  const readOnly = (): never => { throw new Error(`the ${split} examples are read-only`); };
  return new Proxy([] as Example[], {
    get(target, key, receiver) {
      if (key === 'length') return length;
      const i = index(key);
      if (i >= 0) return i < length ? at(i) : undefined;
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      const i = index(key);
      return i >= 0 ? i < length : Reflect.has(target, key);
    },
    set: readOnly,
    defineProperty: readOnly,
    deleteProperty: readOnly,
  });
}

/** The train split's examples computed on access (`lazyExamples(sequences, 'train', opts)`). */
export function trainExamples(sequences: Sequences, opts: LazyExampleOptions = {}): readonly Example[] {
  return lazyExamples(sequences, 'train', opts);
}

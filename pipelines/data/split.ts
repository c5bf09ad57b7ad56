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

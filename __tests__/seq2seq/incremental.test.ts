// The incremental scorer (each model's StackStepSession: self-attention cache followed through rowParent, context run once per user in
// chunks) against the model's teacher-forced full forward, and beam search with it against exhaustive search.
import * as tf from '@tensorflow/tfjs';
import { beamSearch, PrefixTrie } from '../../decoding/index.js';
import type { StepScorer } from '../../decoding/index.js';
import { Batcher, createModel, initBackend, resolveModelConfig, Vocab } from '../../seq2seq/index.js';
import type { ModelConfig, TokenModel, TrainingExample, UserContext } from '../../seq2seq/index.js';
import { levelLogits } from '../../seq2seq/model.js';
import { beamScorer, tinyCatalog, walkExamples } from './helpers.js';

const cat = tinyCatalog(); // 24 items, levels [4, 3, 2]
const L = cat.levels.length;
const users = walkExamples(5, 24); // histories of 1..5 items: padded contexts

beforeAll(async () => {
  await initBackend({ quiet: true });
});

function setup(overrides: Partial<ModelConfig>): { model: TokenModel; vocab: Vocab; batcher: Batcher } {
  const cfg = resolveModelConfig({ dropout: 0, ...overrides }, 'tiny');
  const vocab = new Vocab({ levels: cat.levels, userBuckets: cfg.userBuckets });
  return { model: createModel(cfg, vocab) as TokenModel, vocab, batcher: new Batcher(vocab, cat, cfg.maxHistory, cfg.historyTokens) };
}

/**
 * Teacher-forced log-softmax [n, L, vocab], each position over its level's codes as in training and
 * scoring, of the given (user, target item) pairs. The session's users ride
 * along so the batch pads contexts to the same length as the session does (the padding length moves the
 * user token's relative position, so it is part of what is compared).
 */
function teacherForced(model: TokenModel, batcher: Batcher, pairs: TrainingExample[]): number[][][] {
  const all = tf.tidy(() => tf.logSoftmax(levelLogits(model.forward(batcher.batch([...pairs, ...users]), null), model.vocab)).arraySync() as number[][][]);
  return all.slice(0, pairs.length);
}

function mulberry(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const code = (item: number, l: number): number => cat.codes[item * L + l];
const samePrefix = (a: number, b: number, len: number): boolean => {
  for (let l = 0; l < len; l++) if (code(a, l) !== code(b, l)) return false;
  return true;
};

const ARCHS: [string, Partial<ModelConfig>][] = [
  ['encdec', { arch: 'encdec', historyTokens: 'codes' }],
  ['decoder', { arch: 'decoder', historyTokens: 'codes' }],
  ['decoder, one token per history item', { arch: 'decoder', historyTokens: 'item' }],
  ['encdec, one token per history item', { arch: 'encdec', historyTokens: 'item', decoderLayers: 2 }],
];

describe.each(ARCHS)('%s', (_name, overrides) => {
  test('log-probs equal the teacher-forced forward, rows shuffled and re-parented every step; no tensor leaks', async () => {
    const { model, vocab, batcher } = setup(overrides);
    const rand = mulberry(7);
    const before = tf.memory().numTensors;
    // A tiny context budget runs the context pass in several user chunks.
    const scorer = beamScorer(model, cat, { contextBudgetMB: 0.001 });
    const session = await scorer.start(users);
    // Each row follows a catalog item (its prefix is that item's first `step` codes) of its user.
    let rows: { user: number; item: number }[] = users.map((_, u) => ({ user: u, item: Math.floor(rand() * 24) }));
    let parents = new Int32Array(rows.length).fill(-1);
    for (let step = 0; step < L; step++) {
      if (step > 0) {
        const next: { user: number; item: number }[] = [];
        const nextParents: number[] = [];
        const count = 3 + Math.floor(rand() * 9);
        for (let k = 0; k < count; k++) {
          const p = Math.floor(rand() * rows.length);
          // any item sharing the parent's prefix (step - 1 codes); the new code is that item's code step-1
          const options = Array.from({ length: 24 }, (_, i) => i).filter((i) => samePrefix(i, rows[p].item, step - 1));
          next.push({ user: rows[p].user, item: options[Math.floor(rand() * options.length)] });
          nextParents.push(p);
        }
        rows = next;
        parents = Int32Array.from(nextParents);
      }
      const prefixes = new Int32Array(rows.length * step);
      rows.forEach((r, i) => { for (let l = 0; l < step; l++) prefixes[i * step + l] = code(r.item, l); });
      const rowUser = Int32Array.from(rows.map((r) => r.user));
      const out = await session.next({ step, prefixes, rowUser, rowParent: parents });
      const full = teacherForced(model, batcher, rows.map((r) => ({ ...users[r.user], target: r.item })));
      const width = cat.levels[step];
      expect(out.length).toBe(rows.length * width);
      rows.forEach((_, i) => {
        for (let c = 0; c < width; c++) expect(out[i * width + c]).toBeCloseTo(full[i][step][vocab.levelOffsets[step] + c], 4);
      });
    }
    session.close();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  test('beam search with the real scorer equals exhaustive search (beam >= catalog); same as the plain scorer at beam 3', async () => {
    const { model, batcher } = setup(overrides);
    const trie = PrefixTrie.build(cat);
    const scorer = beamScorer(model, cat);
    const exact = await beamSearch(scorer, trie, users, { beamSize: 24, topK: 5 });
    // Oracle: every catalog item's sequence log-probability under the teacher-forced forward.
    users.forEach((user, u) => {
      const full = teacherForced(model, batcher, Array.from({ length: 24 }, (_, item) => ({ ...user, target: item })));
      const scored = Array.from({ length: 24 }, (_, item) => ({
        item, score: Array.from({ length: L }, (_, l) => full[item][l][model.vocab.levelOffsets[l] + code(item, l)]).reduce((a, b) => a + b, 0),
      })).sort((a, b) => b.score - a.score);
      const got = exact.candidates[u];
      expect(got.map((c) => c.item)).toEqual(scored.slice(0, 5).map((s) => s.item));
      got.forEach((c, k) => expect(c.score).toBeCloseTo(scored[k].score, 4));
    });
    // Narrow beams follow the same path as the plain (recompute-everything) scorer.
    const plain = beamScorer(model, cat, { incremental: false });
    const a = await beamSearch(scorer, trie, users, { beamSize: 3, topK: 3 });
    const b = await beamSearch(plain, trie, users, { beamSize: 3, topK: 3 });
    expect(a.candidates.map((cs) => cs.map((c) => c.item))).toEqual(b.candidates.map((cs) => cs.map((c) => c.item)));
    a.candidates.forEach((cs, u) => cs.forEach((c, k) => expect(c.score).toBeCloseTo(b.candidates[u][k].score, 4)));
    model.dispose();
  });
});

test('beam search splits a batch into sessions of maxUsersPerSession users with identical results', async () => {
  // Equal history lengths: a batch pads contexts to its longest history, and the padding length is part of
  // what the model sees (see the note in teacherForced), so only then is a user's result batch-independent.
  const sameLength = walkExamples(25, 24).filter((e) => e.history.length === 3);
  expect(sameLength.length).toBe(5);
  const { model } = setup({ arch: 'encdec' });
  const trie = PrefixTrie.build(cat);
  const whole = beamScorer(model, cat);
  const split = beamScorer(model, cat, { sessionBudgetMB: 1e-6 });
  expect(split.maxUsersPerSession).toBe(1);
  let sessions = 0;
  const counting: StepScorer<UserContext> = { levels: split.levels, maxUsersPerSession: 2, start: (c) => { sessions += 1; return split.start(c); } };
  const a = await beamSearch(whole, trie, sameLength, { beamSize: 4, topK: 2 });
  const b = await beamSearch(counting, trie, sameLength, { beamSize: 4, topK: 2 });
  expect(sessions).toBe(3);
  expect(b.stats.users).toBe(sameLength.length);
  expect(b.candidates).toEqual(a.candidates);
  model.dispose();
});

test('clear errors: out-of-order steps, a parent that is no row of the previous step', async () => {
  const { model } = setup({ arch: 'encdec' });
  const session = await beamScorer(model, cat).start(users.slice(0, 2));
  await expect(session.next({ step: 1, prefixes: new Int32Array(2), rowUser: Int32Array.from([0, 1]), rowParent: Int32Array.from([0, 1]) })).rejects.toThrow(/expects step 0, got 1/);
  await session.next({ step: 0, prefixes: new Int32Array(0), rowUser: Int32Array.from([0, 1]), rowParent: Int32Array.from([-1, -1]) });
  await expect(session.next({ step: 1, prefixes: new Int32Array(1), rowUser: Int32Array.from([0]), rowParent: Int32Array.from([5]) })).rejects.toThrow(/rowParent\[0\] = 5 is not a row of step 0/);
  session.close();
  model.dispose();
});

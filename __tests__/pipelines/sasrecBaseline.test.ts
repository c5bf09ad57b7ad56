// eval's SASRec baseline: trained by semid's trainer for the asked budget, it learns a deterministic walk through
// the catalog (so its ranks come from a trained model, not a constant), keeps no tensors and leaves no files.
import * as tf from '@tensorflow/tfjs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { PrefixTrie } from '../../decoding/index.js';
import { initBackend } from '../../seq2seq/index.js';
import { checkSasrecBudget, sasrecBaseline } from '../../pipelines/sasrecBaseline.js';
import { rankerOf, rankWithModel } from '../../pipelines/evaluate/index.js';
import { leaveOneOut } from '../../pipelines/data/index.js';
import { metricsFromRanks } from '../../pipelines/metrics.js';
import { toyCodes } from './toyModel.js';

const N = 40;
const codes = toyCodes(N);
// Each user walks item -> (7 item + 3) mod N from its own start, 8 items long.
const sequences = {
  userKeys: Array.from({ length: 120 }, (_, u) => `u${u}`),
  items: Array.from({ length: 120 }, (_, u) => {
    const s = new Int32Array(8);
    s[0] = u % N;
    for (let t = 1; t < 8; t++) s[t] = (7 * s[t - 1] + 3) % N;
    return s;
  }),
  timestamps: null,
};

beforeAll(async () => {
  await initBackend({ quiet: true });
});

test('learns the walk within its step budget, ranks the test users, keeps no tensors or files', async () => {
  const examples = leaveOneOut(sequences, 'test', { maxHistory: 20 });
  const trie = PrefixTrie.build(codes);
  const before = tf.memory().numTensors;
  const tmpBefore = (await readdir(tmpdir())).filter((f) => f.startsWith('semid-sasrec-')).length;
  const result = await sasrecBaseline({
    sequences, itemCodes: codes, maxHistory: 20, budget: { steps: 150 }, log: () => {},
    rank: async (s) => (await rankWithModel({ scorer: rankerOf(s), trie, examples, topK: 10, beamSize: 10, progress: false })).ranks,
  });
  expect(result.steps).toBe(150);
  expect(result.model.arch).toBe('sasrec');
  expect(metricsFromRanks(result.ranks, [1])['recall@1']).toBeGreaterThan(0.8);
  expect(tf.memory().numTensors).toBe(before);
  expect((await readdir(tmpdir())).filter((f) => f.startsWith('semid-sasrec-')).length).toBe(tmpBefore);
}, 120_000);

test('a time budget stops training early; bad budgets name the flag and value', async () => {
  const result = await sasrecBaseline({
    sequences, itemCodes: codes, maxHistory: 20, budget: { steps: 100000, minutes: 1e-9 }, log: () => {}, rank: async () => new Int32Array(0),
  });
  expect(result.steps).toBeLessThan(100000);
  expect(() => checkSasrecBudget({ steps: 0 })).toThrow(/--sasrec-steps must be an integer >= 1, got 0/);
  expect(() => checkSasrecBudget({ steps: 10, minutes: -1 })).toThrow(/--sasrec-minutes must be a number >= 0, got -1/);
});

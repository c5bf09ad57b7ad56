// The trained model as the decoder sees it: a StepScorer. `start` runs the context once per user (the
// encoder and every decoder layer's cross-attention keys/values, or the decoder-only history prefix), in
// user chunks sized to a memory budget, shared by all of that user's beams. `next` runs one new token per
// beam row with the model's own self-attention cache (its `IncrementalDecoding`, incremental.ts) and returns the
// log-softmax over the codes of the level being generated (the model is trained with the same per-level softmax,
// model.ts batchLoss).
//
// `incremental: false` keeps the plain path (rerun BOS + prefix through `model.nextLogits` every step): the
// reference the fast path is tested and benchmarked against, and the path of a token model without a cache.
import * as tf from '@tensorflow/tfjs';
import type { DecodeStepInput, ScoringSession, StepScorer } from '../decoding/index.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { backendTraits } from './backend/index.js';
import { gatherRows } from './layers.js';
import { Batcher } from './batches.js';
import { DEFAULT_INCREMENTAL, sessionBytesPerUser, type IncrementalDecoding } from './incremental.js';
import { groupRows, type ModelScorer, type ScorerOptions, type SequenceModel, type TokenModel, type UserContext } from './model.js';
import { BOS } from './vocab.js';

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`\`${name}\` must be a number > 0, got ${JSON.stringify(value)}`);
  return v;
}

/** Users per stack pass of a model that encodes each user's history once (causal, sasrec) at inference. */
export const USERS_PER_PASS = 128;

/**
 * `run` over every user in passes of USERS_PER_PASS users of similar history length, rows back in the callers' order
 * ([users, ...]): a pass pads to its own longest kept history, so sorting first cuts the stack's work to the lengths
 * users have (Beauty: ~8 positions on average instead of 21). `run` returns one row per user of its part.
 */
export function perUserByLength(contexts: readonly UserContext[], maxHistory: number, run: (part: UserContext[]) => tf.Tensor): tf.Tensor {
  const kept = (u: number): number => Math.min(contexts[u].history.length, maxHistory);
  const order = Array.from(contexts.keys()).sort((a, b) => kept(a) - kept(b) || a - b);
  const parts: tf.Tensor[] = [];
  for (let first = 0; first < order.length; first += USERS_PER_PASS) parts.push(run(order.slice(first, first + USERS_PER_PASS).map((u) => contexts[u])));
  const back = new Int32Array(order.length); // position of each user in the sorted rows
  order.forEach((u, pos) => { back[u] = pos; });
  const out = tf.tidy(() => {
    const sorted = parts.length === 1 ? parts[0] : tf.concat(parts, 0); // [users, ...] in length order
    return order.every((u, pos) => u === pos) ? tf.clone(sorted) : gatherRows(sorted, tf.tensor1d(back, 'int32')); // [users, ...]
  });
  tf.dispose(parts);
  return out;
}

/** A model's history window: the trained one, or a shorter one asked for (a longer one was never trained on). */
export function scorerMaxHistory(trained: number, asked: number | undefined): number {
  if (asked === undefined) return trained;
  if (!Number.isInteger(asked) || asked < 1 || asked > trained) throw new Error(`maxHistory must be an integer in [1, ${trained}] (the model was trained with ${trained}), got ${asked}`);
  return asked;
}

/** Beam-search scorer of a token model; `cache` is the model's incremental decoding (the fast path) if it has one. */
export function createStepScorer(model: TokenModel, itemCodes: SemanticIds, opts: ScorerOptions = {}, cache?: IncrementalDecoding): StepScorer<UserContext> {
  const vocab = model.vocab;
  const maxHistory = scorerMaxHistory(model.config.maxHistory, opts.maxHistory);
  const batcher = new Batcher(vocab, itemCodes, maxHistory, model.config.historyTokens);
  const levels = [...vocab.levels];
  const L = levels.length;
  const backend = backendTraits();
  const incremental = opts.incremental ?? (cache !== undefined && backend.readsSynchronously);
  if (incremental && !cache) throw new Error(`\`incremental\` decoding: the ${model.config.arch} model has no incremental decoder`);
  if (incremental && !backend.readsSynchronously) {
    throw new Error(`\`incremental\` decoding reads tensors synchronously, which the ${backend.name} backend cannot do in Node; use incremental: false`);
  }
  const sessionBudgetMB = positive('sessionBudgetMB', opts.sessionBudgetMB, 1024);
  const contextBudgetMB = positive('contextBudgetMB', opts.contextBudgetMB, DEFAULT_INCREMENTAL.contextBudgetMB);
  const longestContext = 1 + maxHistory * (model.config.historyTokens === 'item' ? 1 : L);
  // The plain path's steps hold every layer's temporaries for rows x T tokens in one tidy: at 256 users of
  // `tiger` that reached 2.8 GB of the 4 GB wasm heap (and aborted before the context pass was chunked).
  const PLAIN_MAX_USERS = 128;
  const byBudget = Math.max(1, Math.floor((sessionBudgetMB * 2 ** 20) / sessionBytesPerUser(model.config, longestContext)));
  const maxUsersPerSession = incremental ? byBudget : Math.min(byBudget, PLAIN_MAX_USERS);

  const checkInput = (input: DecodeStepInput): void => {
    const { step, prefixes, rowUser } = input;
    if (!Number.isInteger(step) || step < 0 || step >= L) throw new Error(`step must be in [0, ${L}), got ${step}`);
    const rows = rowUser.length;
    if (prefixes.length !== rows * step) throw new Error(`prefixes has ${prefixes.length} codes, expected rows (${rows}) x step (${step})`);
  };

  return {
    levels,
    maxUsersPerSession,
    async start(contexts: readonly UserContext[]): Promise<ScoringSession> {
      if (contexts.length === 0) throw new Error('scorer.start needs at least one user context');
      const ctx = batcher.contexts(contexts);
      let closed = false;
      if (incremental && cache) {
        const decoder = cache.prefill(ctx, { ...DEFAULT_INCREMENTAL, contextBudgetMB });
        return {
          async next(input: DecodeStepInput): Promise<Float32Array> {
            if (closed) throw new Error('scoring session is closed');
            checkInput(input);
            return decoder.next(input);
          },
          close(): void {
            if (closed) return;
            closed = true;
            decoder.dispose();
          },
        };
      }
      const prepared = model.prepare(ctx);
      return {
        async next(input: DecodeStepInput): Promise<Float32Array> {
          if (closed) throw new Error('scoring session is closed');
          checkInput(input);
          const { step, prefixes, rowUser } = input;
          const rows = rowUser.length;
          const T = step + 1;
          const tokens = new Int32Array(rows * T); // [rows, T]
          for (let r = 0; r < rows; r++) {
            tokens[r * T] = BOS;
            for (let l = 0; l < step; l++) tokens[r * T + 1 + l] = vocab.codeToken(l, prefixes[r * step + l]);
          }
          const grouping = groupRows(rowUser, prepared.users);
          const out = tf.tidy(() => {
            const logits = model.nextLogits(prepared, tokens, T, grouping); // [rows, vocab]
            // A softmax over this level's codes, as in training (batchLoss).
            return tf.logSoftmax(tf.slice(logits, [0, vocab.levelOffsets[step]], [rows, levels[step]])); // [rows, levels[step]]
          });
          const data = (await out.data()) as Float32Array;
          out.dispose();
          return data;
        },
        close(): void {
          if (closed) return;
          closed = true;
          prepared.dispose();
        },
      };
    },
  };
}

/** The model as the decoder sees it: beam search through a StepScorer, or exact catalog scores. */
export function createScorer(model: SequenceModel, itemCodes: SemanticIds, opts: ScorerOptions = {}): ModelScorer {
  return model.scorer(itemCodes, opts);
}

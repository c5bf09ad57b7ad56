// The trained model as the decoder sees it: a StepScorer. `start` runs the context once per user (the
// encoder and every decoder layer's cross-attention keys/values, shared by all of that user's beams);
// `next` runs the decoder over BOS + the few codes chosen so far (semantic IDs are 3-4 tokens, so
// recomputing them is cheaper than keeping and reordering a self-attention cache by rowParent) and
// returns the log-softmax over the whole vocabulary, sliced to the codes of the level being generated.
import * as tf from '@tensorflow/tfjs';
import type { DecodeStepInput, ScoringSession, StepScorer } from '../decoding/index.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { Batcher } from './batches.js';
import { groupRows, type SequenceModel } from './model.js';
import { BOS } from './vocab.js';

/** What the scorer needs to know about a user. */
export interface UserContext {
  user: number;
  /** Dense item ids, oldest first (the last `maxHistory` are used). */
  history: Int32Array;
}

export interface ScorerOptions {
  /** Override the model's maxHistory. */
  maxHistory?: number;
}

export function createStepScorer(model: SequenceModel, itemCodes: SemanticIds, opts: ScorerOptions = {}): StepScorer<UserContext> {
  const vocab = model.vocab;
  const batcher = new Batcher(vocab, itemCodes, opts.maxHistory ?? model.config.maxHistory, model.config.historyTokens);
  const levels = [...vocab.levels];
  const L = levels.length;
  return {
    levels,
    async start(contexts: readonly UserContext[]): Promise<ScoringSession> {
      if (contexts.length === 0) throw new Error('scorer.start needs at least one user context');
      const ctx = batcher.contexts(contexts);
      const prepared = model.prepare(ctx);
      let closed = false;
      return {
        async next(input: DecodeStepInput): Promise<Float32Array> {
          if (closed) throw new Error('scoring session is closed');
          const { step, prefixes, rowUser } = input;
          if (!Number.isInteger(step) || step < 0 || step >= L) throw new Error(`step must be in [0, ${L}), got ${step}`);
          const rows = rowUser.length;
          if (prefixes.length !== rows * step) throw new Error(`prefixes has ${prefixes.length} codes, expected rows (${rows}) x step (${step})`);
          const T = step + 1;
          const tokens = new Int32Array(rows * T); // [rows, T]
          for (let r = 0; r < rows; r++) {
            tokens[r * T] = BOS;
            for (let l = 0; l < step; l++) tokens[r * T + 1 + l] = vocab.codeToken(l, prefixes[r * step + l]);
          }
          const grouping = groupRows(rowUser, prepared.users);
          const out = tf.tidy(() => {
            const logits = model.nextLogits(prepared, tokens, T, grouping); // [rows, vocab]
            const logp = tf.logSoftmax(logits); // [rows, vocab]
            return tf.slice(logp, [0, vocab.levelOffsets[step]], [rows, levels[step]]); // [rows, levels[step]]
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

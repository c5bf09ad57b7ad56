// The SASRec baseline of `semid eval` (`--sasrec-steps N`): SASRec with full-softmax cross-entropy over item ids at
// every position (seq2seq's `sasrec` preset), trained by semid's own trainer on the split's training part for a
// step budget (optionally cut by a wall-time budget), then ranking the whole catalog exactly for the same users as
// the model. A reader sees generative vs discriminative on their data in one report.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createModel, createScorer, resolveModelConfig, resolveTrainConfig, train, Vocab, type ModelConfig, type ModelScorer, type TrainConfig,
} from '../seq2seq/index.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { trainingSequences, type Sequences } from './data/index.js';
import type { StopRequest } from './stop.js';

export interface SasrecBudget {
  /** Optimiser steps (the cosine schedule is planned for them). */
  steps: number;
  /** Stop earlier when training has taken this many minutes (0 or absent: no time limit). */
  minutes?: number;
  seed?: number;
}

export interface SasrecBaselineResult {
  ranks: Int32Array;
  /** Steps actually run (fewer than asked when the time budget ran out). */
  steps: number;
  trainSeconds: number;
  model: ModelConfig;
  train: TrainConfig;
}

/** Checks a budget before any work (flags: --sasrec-steps, --sasrec-minutes). */
export function checkSasrecBudget(b: SasrecBudget): void {
  if (!Number.isInteger(b.steps) || b.steps < 1) throw new Error(`--sasrec-steps must be an integer >= 1, got ${b.steps}`);
  if (b.minutes !== undefined && !(Number.isFinite(b.minutes) && b.minutes >= 0)) throw new Error(`--sasrec-minutes must be a number >= 0, got ${b.minutes}`);
}

/**
 * Trains the `sasrec` preset on `sequences`' training part, then `rank` (the evaluation's own ranking of its users)
 * ranks the targets with the trained model's exact catalog scorer.
 */
export async function sasrecBaseline(opts: {
  sequences: Sequences; itemCodes: SemanticIds; maxHistory: number; budget: SasrecBudget; log: (m: string) => void;
  rank: (scorer: ModelScorer) => Promise<Int32Array>;
  /** A signal's stop request (stop.ts): training ends at the step in progress (then `rank` throws `Stopped`). */
  signal?: StopRequest;
}): Promise<SasrecBaselineResult> {
  checkSasrecBudget(opts.budget);
  const items = opts.itemCodes.codes.length / opts.itemCodes.levels.length;
  const model = createModel(resolveModelConfig({ arch: 'sasrec', maxHistory: opts.maxHistory, seed: opts.budget.seed ?? 0 }, 'sasrec'),
    new Vocab({ levels: opts.itemCodes.levels, userBuckets: 0, items }));
  const config = resolveTrainConfig({ steps: opts.budget.steps, evalEvery: 0, checkpointEvery: opts.budget.steps, seed: opts.budget.seed ?? 0 }, 'sasrec');
  const dir = await mkdtemp(join(tmpdir(), 'semid-sasrec-'));
  const deadline = opts.budget.minutes ? performance.now() + opts.budget.minutes * 60_000 : Infinity;
  const stop = { get aborted() { return performance.now() > deadline || opts.signal?.aborted === true; } };
  try {
    opts.log(`eval: sasrec baseline: training ${config.steps} steps${opts.budget.minutes ? ` (at most ${opts.budget.minutes} min)` : ''}`);
    const data = model.trainingSet({ sequences: trainingSequences(opts.sequences), itemCodes: opts.itemCodes, examples: () => [] });
    const run = await train({ model, config, data, outDir: dir, silent: true, stop });
    const ranks = await opts.rank(createScorer(model, opts.itemCodes));
    return { ranks, steps: run.step, trainSeconds: run.seconds, model: model.config, train: config };
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

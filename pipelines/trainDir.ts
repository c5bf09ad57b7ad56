// Where a training run writes, and how it stops. MODELDIR is locked for the run. A new run into a directory
// that already holds a model trains in MODELDIR.staging and replaces MODELDIR only when it finishes, so an
// interrupted run never leaves a mix of two runs; `--resume` continues the staging run if there is one, else the
// run in MODELDIR, and refuses when there is no checkpoint. SIGINT/SIGTERM finish the current step, write a
// checkpoint and return; a second signal exits at once.
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stopOnSignals, type StopRequest } from './stop.js';
import {
  acquireLock, checkOutputDir, outputMark, readJsonIfPresent, replaceDir, writeMark, type OutputRule,
} from '../tokenizer/io/index.js';

export { stopOnSignals, type StopRequest } from './stop.js';

export const MODEL_RULE: OutputRule = { kind: 'model', signature: ['config.json'] };

/** The directory a new run into a non-empty MODELDIR trains in, until it finishes. */
export function stagingDir(out: string): string {
  return `${out}.staging`;
}

const LAST_STATE = join('checkpoints', 'last', 'state.json');

/** True when `dir` holds a resumable checkpoint. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return access(join(dir, LAST_STATE)).then(() => true, () => false);
}

/** The step a checkpoint in `dir` was written at. */
export async function checkpointStep(dir: string): Promise<number | null> {
  return (await readJsonIfPresent<{ step?: number }>(join(dir, LAST_STATE)))?.step ?? null;
}

export interface TrainingDir {
  /** Where this run writes. */
  work: string;
  /** True when `work` is the staging directory, swapped into MODELDIR on finish. */
  staged: boolean;
  /** The checkpoint step a resumed run continues from. */
  resumeStep: number | null;
}

/** Decides where the run writes (see the file comment); throws naming the directory when it may not. */
export async function planTrainingDir(out: string, resume: boolean, log: (m: string) => void): Promise<TrainingDir> {
  const state = await checkOutputDir(out, MODEL_RULE);
  const staging = stagingDir(out);
  if (resume) {
    if (await hasCheckpoint(staging)) {
      await checkOutputDir(staging, { ...MODEL_RULE, flag: 'staging directory' });
      const step = await checkpointStep(staging);
      log(`train: resuming the unfinished new run in ${staging} from step ${step}; ${out} keeps the previous model until it finishes`);
      return { work: staging, staged: true, resumeStep: step };
    }
    if (await hasCheckpoint(out)) return { work: out, staged: false, resumeStep: await checkpointStep(out) };
    throw new Error(`--resume: ${out} has no checkpoint to resume from (no ${join(out, LAST_STATE)}${state === 'new' ? '; the directory does not exist' : ''}); drop --resume to start a new run`);
  }
  if (state !== 'own') return { work: out, staged: false, resumeStep: null };
  if (await checkOutputDir(staging, { ...MODEL_RULE, flag: 'staging directory' }) !== 'new') {
    log(`train: discarding the unfinished run in ${staging} (a new run starts; --resume would have continued it)`);
    await rm(staging, { recursive: true, force: true });
  }
  log(`train: ${out} holds a model; the new run trains in ${staging} and replaces it only when it finishes`);
  return { work: staging, staged: true, resumeStep: null };
}

export interface GuardedRun {
  /** Where the run writes. */
  work: string;
  /** The checkpoint step it resumes from (null: a new run). */
  resumeStep: number | null;
  stop: StopRequest;
}

/** What trainModel reports on top of the trainer's result. */
export interface RunOutcome {
  /** Stopped by a signal (or the budget check) before the end; a checkpoint was written. */
  interrupted: boolean;
  stopReason?: string;
  /** Where the checkpoint of an interrupted run is. */
  checkpoint?: string;
}

/**
 * Runs `body` (the training run) with MODELDIR locked, in the directory planTrainingDir chose, with signal
 * handling; swaps a staged run into MODELDIR when it finished.
 */
export async function guardTraining<R extends { finished: boolean; step: number }>(
  out: string, resume: boolean, log: (m: string) => void, body: (run: GuardedRun) => Promise<R>,
): Promise<R & RunOutcome> {
  const lock = await acquireLock(out);
  const stop: StopRequest = { aborted: false };
  const signals = stopOnSignals(stop);
  try {
    const plan = await planTrainingDir(out, resume, log);
    await writeMark(plan.work, outputMark('model'));
    const result = await body({ work: plan.work, resumeStep: plan.resumeStep, stop });
    if (result.finished && plan.staged) {
      await replaceDir(plan.work, out);
      log(`train: the finished run replaced the previous model in ${out}`);
    }
    if (result.finished || !stop.aborted) return { ...result, interrupted: false };
    const checkpoint = join(plan.work, 'checkpoints', 'last');
    if (stop.error) throw new Error(`${stop.error} (the checkpoint of step ${result.step} is in ${checkpoint})`);
    log(`train: stopped (${stop.reason}) after step ${result.step}; checkpoint in ${checkpoint}${plan.staged ? `; ${out} still holds the previous model` : ''}`);
    return { ...result, interrupted: true, stopReason: stop.reason, checkpoint };
  } finally {
    signals.dispose();
    await lock.release();
  }
}

/** Longest run semid starts: a plan above this is a typo. */
export const MAX_ETA_SECONDS = 365 * 24 * 3600;

/**
 * Measures the step rate over this run's first 20 steps (or 30 s) and stops a run whose remaining steps would
 * take more than a year, setting `stop.error`. `now` is in milliseconds (tests pass a fake clock).
 */
export function etaCheck(totalSteps: number, stop: StopRequest & { error?: string }, now: () => number = () => performance.now()): (step: number) => void {
  let first: { step: number; t: number } | null = null;
  let done = false;
  return (step) => {
    if (done) return;
    const t = now();
    if (!first) {
      first = { step, t };
      return;
    }
    const steps = step - first.step;
    const seconds = (t - first.t) / 1000;
    if (steps < 20 && seconds < 30) return;
    done = true;
    const rate = steps / Math.max(seconds, 1e-9);
    const eta = (totalSteps - step) / rate;
    if (eta <= MAX_ETA_SECONDS) return;
    stop.aborted = true;
    stop.reason = 'budget';
    stop.error = `--steps ${totalSteps} would take ${(eta / MAX_ETA_SECONDS).toFixed(1)} years at the measured ${rate.toPrecision(3)} steps/s (more than a year): lower --steps`;
  };
}

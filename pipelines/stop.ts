// How a long command stops on SIGINT/SIGTERM: the signal sets a stop request that the work checks between steps
// (training: between optimiser steps; eval and recommend: between batches of users), so it ends at a clean point,
// writes nothing partial and releases its locks on the way out; a second signal exits at once. A command that
// stops throws `Stopped`, whose message is the one line the user sees (what was finished, how to go on), and the
// CLI exits with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as a shell reports a killed job.
import { notice } from '../tokenizer/io/index.js';

/** A stop request the work checks between steps. */
export interface StopRequest {
  aborted: boolean;
  /** The signal, or "budget" (etaCheck). */
  reason?: string;
  /** Set when the run must end in an error (an absurd budget), not a clean stop. */
  error?: string;
}

/** 128 + the signal number, as shells report a job a signal ended; 130 for anything else (a stop by the user). */
export function signalExitCode(reason: string | undefined): number {
  return reason === 'SIGTERM' ? 143 : 130;
}

/** What training says on a signal, and on a second one. */
const TRAINING_MESSAGES = { finishing: 'finishing the current step and writing a checkpoint', atOnce: 'exiting now without a checkpoint' };

/**
 * SIGINT/SIGTERM set `stop.aborted`; the work finishes what `messages.finishing` says (the user sees it) and
 * returns. A second signal exits at once (`messages.atOnce`). `dispose()` removes the handlers.
 */
export function stopOnSignals(stop: StopRequest, messages = TRAINING_MESSAGES): { dispose(): void } {
  const handler = (signal: NodeJS.Signals): void => {
    if (stop.aborted) {
      notice(`${signal} again: ${messages.atOnce}`);
      process.exit(signalExitCode(signal));
    }
    stop.aborted = true;
    stop.reason = signal;
    notice(`${signal}: ${messages.finishing} (press Ctrl-C again to exit at once)`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    dispose() {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    },
  };
}

/** A command stopped by a signal at a clean point; the message says what was finished and how to go on. */
export class Stopped extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'Stopped';
  }
}

/** Throws `Stopped` (its message: `what`, completed later by the command) when a stop was requested. */
export function throwIfStopped(stop: StopRequest | undefined, what: string): void {
  if (stop?.aborted) throw new Stopped(stop.reason ?? 'SIGINT', what);
}

/** Runs `work` with `stopOnSignals`, the handlers removed when it ends however it ends. */
export async function withStopOnSignals<R>(messages: { finishing: string; atOnce: string }, work: (stop: StopRequest) => Promise<R>): Promise<R> {
  const stop: StopRequest = { aborted: false };
  const signals = stopOnSignals(stop, messages);
  try {
    return await work(stop);
  } finally {
    signals.dispose();
  }
}

/**
 * In a CLI handler: the command's result, or null when it stopped on a signal (its line printed, the exit status
 * set to 130/143); any other error is rethrown.
 */
export async function untilStopped<R>(command: Promise<R>): Promise<R | null> {
  try {
    return await command;
  } catch (err) {
    if (!(err instanceof Stopped)) throw err;
    process.stdout.write(`${err.message}\n`);
    process.exitCode = signalExitCode(err.reason);
    return null;
  }
}

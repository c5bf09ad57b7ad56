// `semid` as a child process, the way a user runs it, for tests that signal or race real processes: its output
// so far and its exit status (-1 when a signal ended it).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SemidProcess {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

/** Starts `semid ARGS` in the repository root with `env` (NODE_OPTIONS cleared: jest's VM flags are not for it). */
export function startSemid(args: string[], env: NodeJS.ProcessEnv): SemidProcess {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'semid.js'), ...args], { cwd: ROOT, env: { ...env, NODE_OPTIONS: '' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, out: () => out, err: () => err, exit };
}

// Who is running: whether a process id is alive on this host, and one line for messages that the user must
// see (a stale lock taken over, a leftover temporary removed) even when nothing else is printed.
import { hostname } from 'node:os';

/** This machine's name, as recorded in lock files (asked when first needed: the browser bundle never calls it). */
export function host(): string {
  return hostname();
}

/** True when `pid` is a running process on this host (EPERM: alive, owned by another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes a notice to stderr (silenced by SEMID_QUIET=1). */
export function notice(message: string): void {
  if (process.env.SEMID_QUIET !== '1') process.stderr.write(`semid: ${message}\n`);
}

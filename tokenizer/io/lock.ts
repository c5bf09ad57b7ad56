// Run locks: one O_EXCL lock file per output path, beside it (`.NAME.lock`), holding who writes there (pid,
// host, start time, command). A second run on the same output fails at once and names the first; the lock of
// a process that is gone (same host, pid not running) is taken over with a notice.
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { unlinkSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { host, notice, processAlive } from './processes.js';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface RunLock {
  path: string;
  info: LockInfo;
  /** Removes the lock (only if it is still this process's). */
  release(): Promise<void>;
}

/** Where the lock of `target` lives: `.NAME.lock` beside it. */
export function lockPath(target: string): string {
  const full = resolve(target);
  return join(dirname(full), `.${basename(full)}.lock`);
}

/** The command line of this process, as recorded in locks: `semid train --out m ...`. */
export function currentCommand(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a)));
  return ['semid', ...args].join(' ');
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' && typeof info.host === 'string' ? info : null;
  } catch {
    return null;
  }
}

function describe(info: LockInfo): string {
  return `pid ${info.pid} on ${info.host}, started ${info.startedAt}: ${info.command}`;
}

/** Creates the lock file with O_EXCL; false when it exists. */
async function tryCreate(path: string, info: LockInfo): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(`${JSON.stringify(info)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Moves a stale lock aside. Another process may have taken it over in between: what was moved is checked, and
 * a lock that turns out to be live is put back (link fails rather than overwrite a newer lock).
 */
async function takeOver(path: string, stale: LockInfo): Promise<void> {
  const aside = `${path}.stale.${process.pid}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readLock(aside);
  if (moved && (moved.pid !== stale.pid || moved.startedAt !== stale.startedAt)) {
    await link(aside, path).catch(() => undefined);
  } else {
    notice(`took over the lock ${path} of a run that is no longer running (${describe(stale)})`);
  }
  await unlink(aside).catch(() => undefined);
}

/** Lock files written moments ago may still be empty: they count as held for this long. */
const FRESH_MS = 5000;

/**
 * Takes the lock of `target` (a directory or file semid writes), or throws naming the run that holds it.
 * The lock is released by `release()` and, as a last resort, when this process exits.
 */
export async function acquireLock(target: string, command = currentCommand()): Promise<RunLock> {
  const path = lockPath(target);
  const mine = heldHere.get(path);
  if (mine) return nested(mine);
  await mkdir(dirname(path), { recursive: true });
  const info: LockInfo = { pid: process.pid, host: host(), startedAt: new Date().toISOString(), command };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await tryCreate(path, info)) return held(path, info);
    const holder = await readLock(path);
    if (holder === null) {
      const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age < FRESH_MS) throw new Error(`${target} is being written by another semid run (lock ${path} was just created); wait for it to finish`);
      await takeOver(path, { pid: -1, host: host(), startedAt: 'unknown', command: 'unreadable lock file' });
      continue;
    }
    if (holder.host === host() && !processAlive(holder.pid)) {
      await takeOver(path, holder);
      continue;
    }
    throw new Error(`${target} is in use by another semid run (${describe(holder)}); wait for it to finish${holder.host === host() ? '' : `, or if that run is gone, delete ${path}`}`);
  }
  throw new Error(`${target}: could not take the lock ${path} (it keeps changing hands)`);
}

/** Locks this process holds, with how many times each was taken (a pipeline stage and the writer it calls). */
const heldHere = new Map<string, { lock: RunLock; count: number }>();

function nested(entry: { lock: RunLock; count: number }): RunLock {
  entry.count += 1;
  let released = false;
  return {
    path: entry.lock.path,
    info: entry.lock.info,
    async release() {
      if (released) return;
      released = true;
      entry.count -= 1;
      if (entry.count === 0) await entry.lock.release();
    },
  };
}

function held(path: string, info: LockInfo): RunLock {
  const ours = (): boolean => {
    try {
      const now = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
      return now.pid === info.pid && now.startedAt === info.startedAt;
    } catch {
      return false;
    }
  };
  const onExit = (): void => {
    if (ours()) unlinkSync(path);
  };
  process.once('exit', onExit);
  const lock: RunLock = {
    path,
    info,
    async release() {
      heldHere.delete(path);
      process.removeListener('exit', onExit);
      if (ours()) await unlink(path).catch(() => undefined);
    },
  };
  const entry = { lock, count: 0 };
  heldHere.set(path, entry);
  return nested(entry);
}

/** Runs `work` holding the lock of `target`. */
export async function withLock<T>(target: string, work: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(target);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

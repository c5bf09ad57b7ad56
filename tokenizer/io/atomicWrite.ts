// Outputs are written to a temporary name beside the target, flushed to disk (the file, then its directory)
// and renamed, so a crash or power cut never leaves a half-written file (or directory) that looks complete.
// Temporaries carry the writer's pid; those of processes that are gone are removed (with a notice) the next
// time semid writes a directory there.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { notice, processAlive } from './processes.js';

let counter = 0;
function tempName(target: string): string {
  counter += 1;
  return join(dirname(target), `.${basename(target)}.${process.pid}.${counter}.tmp`);
}

/** `.NAME.PID.N.tmp` (and its `.old`): the temporaries tempName makes. */
const TEMP_PATTERN = /^\.(.+)\.(\d+)\.(\d+)\.tmp(\.old)?$/;

/** Flushes a directory's entries (a rename is durable only once its directory is). */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some file systems cannot fsync a directory (EINVAL, EISDIR on a few platforms): nothing more to do there.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}

/** Writes `path` and flushes it to disk before returning. */
async function writeSynced(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to `path` atomically and durably (same-directory temp file, fsync, rename, fsync of the directory). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    await writeSynced(tmp, data);
    await rename(tmp, path);
    await syncDir(dirname(path));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A file written in pieces under a temporary name, then put in place by `commit` (or removed by `abort`). */
export interface AtomicFile {
  /** Appends bytes (in order). */
  write(bytes: Uint8Array): Promise<void>;
  /** Bytes written so far and their sha256 (hex), known before the file is in place. */
  digest(): { bytes: number; sha256: string };
  /** Flushes, closes and renames the temporary to the target (then flushes the directory). */
  commit(): Promise<void>;
  /** Closes and removes the temporary (the target is untouched). */
  abort(): Promise<void>;
}

/**
 * Opens `path` for an atomic write in pieces (an output too large to hold whole: streamed Parquet): the same
 * temporary name, fsync and rename as writeFileAtomic, with a running sha256 so that a report of the file can
 * be written before it is put in place.
 */
export async function createFileAtomic(path: string): Promise<AtomicFile> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  const handle = await open(tmp, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | null = null;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    async write(chunk) {
      if (digest !== null || closed) throw new Error(`${path}: write after the file was finished`);
      await handle.write(chunk);
      hash.update(chunk);
      bytes += chunk.byteLength;
    },
    digest() {
      digest ??= hash.digest('hex');
      return { bytes, sha256: digest };
    },
    async commit() {
      try {
        await handle.sync();
        await close();
        await rename(tmp, path);
        await syncDir(dirname(path));
      } catch (err) {
        await close().catch(() => undefined);
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async abort() {
      await close().catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}

/** Writes JSON (2-space indented) atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Removes the temporaries of `target` (beside it) that processes no longer running left behind. */
export async function cleanStaleTemps(target: string): Promise<string[]> {
  const dir = dirname(target);
  const name = basename(target);
  const removed: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const m = TEMP_PATTERN.exec(entry);
    if (!m || m[1] !== name || processAlive(Number(m[2]))) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
    notice(`removed ${join(dir, entry)}, left by an interrupted semid run (pid ${m[2]}, no longer running)`);
    removed.push(join(dir, entry));
  }
  return removed;
}

/**
 * Puts the complete directory `from` in place of `dir`: `dir` (if any) is moved aside, `from` renamed to `dir`,
 * the old one removed. Between the two renames `dir` is briefly absent, never mixed.
 */
export async function replaceDir(from: string, dir: string): Promise<void> {
  const old = `${tempName(dir)}.old`;
  await rename(dir, old).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(from, dir);
  await syncDir(dirname(dir));
  await rm(old, { recursive: true, force: true });
}

/**
 * Builds a whole directory atomically: `build` fills a temporary sibling directory, which then replaces
 * `dir` (an existing `dir` is removed only after the new one is complete).
 */
export async function writeDirAtomic(dir: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  await cleanStaleTemps(dir);
  const tmp = tempName(dir);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await build(tmp);
    await syncDir(tmp);
    await replaceDir(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

// Output directories semid owns carry a mark (`.semid.json`: kind, the command that made it, semid's version,
// fingerprints). semid replaces only a directory that is missing, empty or marked as its own output of the same
// kind; anything else is refused with a message naming the path and what it holds. No flag overrides that:
// a new path does. And no command writes into one of its own inputs.
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { writeJsonAtomic } from './atomicWrite.js';
import { readJsonIfPresent } from './json.js';
import { currentCommand } from './lock.js';

export type OutputKind = 'dataset' | 'tokenizer' | 'model' | 'run' | 'recommendations' | 'evaluation';

export const MARK_FILE = '.semid.json';

export interface OutputMark {
  kind: OutputKind;
  /** The command line that made it. */
  command: string;
  /** semid's package version. */
  version: string;
  createdAt: string;
  /** Content fingerprint (data set: catalog ids; tokenizer: code table; model: config + what it was trained on). */
  fingerprint?: string;
  [field: string]: unknown;
}

let packageVersion: string | undefined;
/** semid's version from package.json. */
export function semidVersion(): string {
  if (packageVersion === undefined) {
    try {
      packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      packageVersion = 'unknown';
    }
  }
  return packageVersion;
}

/** The mark of a new output of `kind`, made by this process's command. */
export function outputMark(kind: OutputKind, extra: Partial<OutputMark> = {}): OutputMark {
  return { kind, command: currentCommand(), version: semidVersion(), createdAt: new Date().toISOString(), ...extra };
}

export function writeMark(dir: string, mark: OutputMark): Promise<void> {
  return writeJsonAtomic(join(dir, MARK_FILE), mark);
}

export async function readMark(dir: string): Promise<OutputMark | null> {
  const mark = await readJsonIfPresent<OutputMark>(join(dir, MARK_FILE)).catch(() => null);
  return mark && typeof mark.kind === 'string' ? mark : null;
}

/** semid's own bookkeeping files (its mark, a pipeline stage's start record) do not make a directory "not empty". */
export function isBookkeeping(name: string): boolean {
  return name.startsWith('.semid');
}

export interface OutputRule {
  kind: OutputKind;
  /** The flag naming the output in messages (default "--out"). */
  flag?: string;
  /**
   * Files that identify this kind written by a semid from before marks existed (e.g. a data set's
   * manifest.json + items.parquet): such a directory counts as semid's own.
   */
  signature?: readonly string[];
}

export type OutputState = 'new' | 'empty' | 'own';

function listing(entries: string[]): string {
  const shown = entries.slice(0, 5).join(', ');
  return entries.length > 5 ? `${shown} and ${entries.length - 5} more` : shown;
}

/**
 * Checks that `dir` may receive an output of `rule.kind`: missing, empty, or semid's own of that kind.
 * Throws naming the path and what it holds otherwise. Returns which of the three it is.
 */
export async function checkOutputDir(dir: string, rule: OutputRule): Promise<OutputState> {
  const flag = rule.flag ?? '--out';
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (info === null) return 'new';
  if (!info.isDirectory()) throw new Error(`${flag} ${dir} is a file, not a directory: semid writes a ${rule.kind} directory there; choose a new path`);
  const entries = (await readdir(dir)).filter((e) => !isBookkeeping(e)).sort();
  const mark = await readMark(dir);
  if (mark) {
    if (mark.kind === rule.kind) return 'own';
    throw new Error(`${flag} ${dir} holds a semid ${mark.kind} (made by "${mark.command}" at ${mark.createdAt}), not a ${rule.kind}: semid will not replace it; choose a new path`);
  }
  if (entries.length === 0) return 'empty';
  if (rule.signature && rule.signature.length > 0) {
    const present = new Set(entries);
    if (rule.signature.every((f) => present.has(f))) return 'own';
  }
  throw new Error(`${flag} ${dir} is not empty and was not written by semid (it holds ${listing(entries)}): semid replaces only an empty directory or its own ${rule.kind}; choose a new path (no flag overrides this)`);
}

/** True when `inner` is `outer` or inside it. */
export function isWithin(inner: string, outer: string): boolean {
  const rel = relative(resolve(outer), resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Refuses an output that is one of the command's inputs, inside one, or that contains one (replacing it would
 * delete the input). `inputs` maps a flag to its path (undefined: not given).
 */
export function checkNotInput(out: string, inputs: Record<string, string | undefined>, flag = '--out'): void {
  for (const [name, input] of Object.entries(inputs)) {
    if (!input) continue;
    if (isWithin(out, input) || isWithin(input, out)) {
      throw new Error(`${flag} ${out} ${resolve(out) === resolve(input) ? 'is' : isWithin(out, input) ? 'is inside' : 'contains'} the input ${name} ${input}: a command never writes into its own input; choose another ${flag}`);
    }
  }
}

/**
 * Checks, before any work, that a single-file output can be written at `path`: not a directory, and its
 * parent is a directory (or can be made).
 */
export async function checkOutputFile(path: string, flag = '--out'): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) throw new Error(`${flag} ${path} is a directory: give a file path (e.g. ${join(path, 'metrics.json')})`);
  let parent = resolve(path, '..');
  for (;;) {
    const p = await stat(parent).catch(() => null);
    if (p) {
      if (!p.isDirectory()) throw new Error(`${flag} ${path}: ${parent} is a file, not a directory`);
      return;
    }
    const up = resolve(parent, '..');
    if (up === parent) return;
    parent = up;
  }
}

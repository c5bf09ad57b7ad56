// The stage runner behind `semid run`: a small build system over a fixed graph of stages.
//
// A stage has a name, the stages it reads from, its config section and the external files it reads.
// Its key is a content hash of all of these (upstream stages contribute the id of the output they
// produced, so re-doing a stage re-does everything downstream). A stage whose key matches the key in
// its completion marker is reused. The marker (`RUN/STAGE/.stage.json`) is written atomically, and only
// after the stage's outputs, so an interrupted run continues from the last finished stage. A resumable
// stage (training) keeps its partial output when its key is unchanged, so it picks up its own checkpoint.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeJsonAtomic } from '../tokenizer/io/index.js';

/** What a stage's work function is given. */
export interface StageContext {
  /** The stage's own output directory (`RUN/NAME`), created before `run` is called. */
  outDir: string;
  /** The run directory. */
  runDir: string;
  /** Finished upstream stages by name: their output directory and summary. */
  upstream: Record<string, StageRecord>;
  /** True when the directory holds partial output of an interrupted attempt with the same key. */
  resume: boolean;
  /** Writes a line of progress for this stage. */
  log(message: string): void;
}

export interface StageDefinition {
  name: string;
  /** Names of the stages whose outputs this one reads (must come earlier in the list). */
  after: string[];
  /** The config this stage depends on; hashed as canonical JSON. */
  config: unknown;
  /** External files or directories this stage reads; their contents are hashed. */
  inputFiles?: string[];
  /** Bump when the stage's code changes what it writes, so old outputs are not reused. */
  version?: number;
  /** Keep partial output of an interrupted attempt with the same key (the stage resumes from it). */
  resumable?: boolean;
  /** Does the work, writing into `ctx.outDir`; returns a JSON summary kept in the marker. */
  run(ctx: StageContext): Promise<Record<string, unknown> | void>;
}

/** The completion marker of a stage, as written to `RUN/NAME/.stage.json`. */
export interface StageRecord {
  name: string;
  /** Content hash of the stage's inputs. */
  key: string;
  /** Unique id of the output this attempt produced (downstream keys include it). */
  outputId: string;
  outDir: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  summary: Record<string, unknown>;
}

export interface StageOutcome {
  name: string;
  status: 'reused' | 'ran' | 'resumed';
  seconds: number;
  record: StageRecord;
}

export interface RunStagesOptions {
  runDir: string;
  /** Stage names to redo even when their key is unchanged (everything downstream is redone too). */
  force?: string[];
  /** Stop after this stage (later stages are not run). */
  until?: string;
  /** Where stage progress lines go (default stderr). */
  log?: (message: string) => void;
  /** Called as each stage finishes or is reused (outcomes survive a later stage's failure). */
  onOutcome?: (outcome: StageOutcome) => void;
}

export const MARKER = '.stage.json';
/** A stage's start record; its `.semid` prefix makes it bookkeeping, so the stage's writer sees an empty directory. */
const STARTED = '.semid-started.json';

// --- hashing ---------------------------------------------------------------------------------------

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return hash.digest('hex');
}

/** Content hash of a file, or of every file under a directory (names and contents). */
export async function hashPath(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`input file "${path}" does not exist`);
  }
  if (!info.isDirectory()) return hashFile(path);
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // temp files and markers
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) hash.update(`${relative(path, full)}\0${await hashFile(full)}\n`);
    }
  };
  await walk(path);
  return hash.digest('hex');
}

/** The key of a stage: its name, version, config, upstream output ids and input file contents. */
export async function stageKey(stage: StageDefinition, upstream: Record<string, StageRecord>): Promise<string> {
  const files: Record<string, string> = {};
  for (const file of stage.inputFiles ?? []) files[file] = await hashPath(file);
  const parts = {
    name: stage.name,
    version: stage.version ?? 1,
    config: stage.config,
    upstream: Object.fromEntries(stage.after.map((name) => [name, upstream[name].outputId])),
    files,
  };
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

// --- markers ---------------------------------------------------------------------------------------

/** Reads a stage's completion marker, or null when the stage has not finished. */
export async function readStageRecord(runDir: string, name: string): Promise<StageRecord | null> {
  try {
    return JSON.parse(await readFile(join(runDir, name, MARKER), 'utf8')) as StageRecord;
  } catch {
    return null;
  }
}

async function readStarted(outDir: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(join(outDir, STARTED), 'utf8')) as { key: string }).key;
  } catch {
    return null;
  }
}

// --- the runner ------------------------------------------------------------------------------------

/** Checks names, order and references of a stage list; throws naming the problem. */
export function checkStageGraph(stages: StageDefinition[]): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    if (!/^[a-z][a-z0-9-]*$/.test(stage.name)) throw new Error(`stage name "${stage.name}" must be lower-case letters, digits and dashes`);
    if (seen.has(stage.name)) throw new Error(`stage "${stage.name}" is defined twice`);
    for (const dep of stage.after) {
      if (!seen.has(dep)) throw new Error(`stage "${stage.name}" reads from "${dep}", which is not an earlier stage`);
    }
    seen.add(stage.name);
  }
}

/**
 * Runs the stages in order, reusing every stage whose key is unchanged and whose marker is present.
 * Returns one outcome per stage run or reused.
 */
export async function runStages(stages: StageDefinition[], options: RunStagesOptions): Promise<StageOutcome[]> {
  checkStageGraph(stages);
  const names = stages.map((s) => s.name);
  for (const name of [...(options.force ?? []), ...(options.until ? [options.until] : [])]) {
    if (!names.includes(name)) throw new Error(`unknown stage "${name}": expected one of ${names.join(', ')}`);
  }
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const force = new Set(options.force ?? []);
  const records: Record<string, StageRecord> = {};
  const outcomes: StageOutcome[] = [];
  await mkdir(options.runDir, { recursive: true });

  for (const [index, stage] of stages.entries()) {
    const tag = `[${index + 1}/${stages.length} ${stage.name}]`;
    const key = await stageKey(stage, records);
    const outDir = join(options.runDir, stage.name);
    const previous = await readStageRecord(options.runDir, stage.name);
    if (previous && previous.key === key && !force.has(stage.name)) {
      records[stage.name] = { ...previous, outDir };
      outcomes.push({ name: stage.name, status: 'reused', seconds: 0, record: records[stage.name] });
      options.onOutcome?.(outcomes[outcomes.length - 1]);
      log(`${tag} reused (inputs unchanged, finished ${previous.finishedAt})`);
    } else {
      const started = await readStarted(outDir);
      const why = force.has(stage.name) ? 'forced' : previous ? 'inputs changed' : started ? 'an earlier attempt did not finish' : 'not run yet';
      // Partial output is kept only for a resumable stage interrupted with the same key.
      const resume = Boolean(stage.resumable) && !force.has(stage.name) && started === key;
      if (!resume) await rm(outDir, { recursive: true, force: true });
      else await rm(join(outDir, MARKER), { force: true });
      await mkdir(outDir, { recursive: true });
      await writeJsonAtomic(join(outDir, STARTED), { key, startedAt: new Date().toISOString() });
      log(`${tag} ${resume ? 'resuming an interrupted attempt' : `running (${why})`}`);
      const startedAt = new Date();
      const t0 = performance.now();
      const summary = await stage.run({
        outDir,
        runDir: options.runDir,
        upstream: Object.fromEntries(stage.after.map((name) => [name, records[name]])),
        resume,
        log: (message) => log(`${tag} ${message}`),
      });
      const seconds = (performance.now() - t0) / 1000;
      const record: StageRecord = {
        name: stage.name,
        key,
        outputId: `${key.slice(0, 16)}-${randomBytes(8).toString('hex')}`,
        outDir,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        seconds,
        summary: summary ?? {},
      };
      // The marker goes last: its presence means the outputs above are complete.
      await writeJsonAtomic(join(outDir, MARKER), record);
      records[stage.name] = record;
      outcomes.push({ name: stage.name, status: resume ? 'resumed' : 'ran', seconds, record });
      options.onOutcome?.(outcomes[outcomes.length - 1]);
      log(`${tag} done in ${seconds.toFixed(1)} s`);
      // A redone stage changes its outputId, so every downstream key changes and they are redone too.
    }
    if (options.until === stage.name) break;
  }
  return outcomes;
}

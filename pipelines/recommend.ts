// Batch inference: top-K items per user from the model's catalog-constrained beam search, written as
// Parquet rows (user_key, rank, item_key, score). The users are cut into shards; each shard is written
// atomically (temp + rename) after a sidecar report holding its checksum, so a killed job resumes by skipping
// the shards whose files match their reports (shards.ts), and never leaves a partial file that looks complete.
// Each shard is locked while it is computed (parallel `--shard i/n` workers never collide). Users whose input
// has unknown items or an empty history are counted and listed (sample keys) in the sidecar, never dropped silently.
// On a multi-domain data set a user gets items of its own domain only (an unknown user: its last history item's).
import { access } from 'node:fs/promises';
import { PrefixTrie } from '../decoding/index.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { acquireLock, checkOutputFile, Progress, sha256, writeFileAtomic, writeJsonAtomic } from '../tokenizer/io/index.js';
import {
  float64Vector, hasColumn, int32Vector, makeTable, ParquetStreamWriter, readParquetTable, tableToParquet, utf8Vector,
  datasetUserCount, domainIndex, readUserDomains, readUserKeys, type Dataset, type DomainIndex,
} from './data/index.js';
import { recommendBatch, type Ranker } from './evaluate/index.js';
import { openTrainedCatalog, openTrainedModel } from './trainedModel.js';
import { checkText, type ModelTextEncoder } from './text/index.js';
import { checkShardSettings, shardMismatch, shardPath, sidecarPath } from './shards.js';
import { Stopped, withStopOnSignals, type StopRequest } from './stop.js';
import { datasetRequests, isRequestSource, requestsSource, type RequestSource } from './requestSource.js';
import { inputRequests, inputRows, inspectInput, requestLookup, resolveInputRows, type InputRows } from './inputRequests.js';

export { shardPath } from './shards.js';

/** One user to recommend for: its key and history (dense item ids, oldest first). */
export interface RecommendRequest {
  userKey: string;
  /** Dense user id in the data set, or -1 for a user the data set does not know. */
  user: number;
  history: Int32Array;
  /** Input history items the catalog does not know (dropped from `history`). */
  unknownItems: string[];
  /** The user's preference text (`--preference`, or the input's `preference` column), for a model with text tokens. */
  preference?: string | null;
  /** The preference's vector (the model's text encoder), set by runRecommend. */
  text?: Float32Array | null;
}

export interface RequestIssues {
  /** Users with at least one history item the catalog does not know (those items were dropped). */
  unknownItems: { users: number; items: number; sample: { userKey: string; itemKeys: string[] }[] };
  /** Users with no usable history and no preference: they get no recommendations. */
  emptyHistory: { users: number; sample: string[] };
  /** Input users the data set does not know (and, without a history column, have no history). */
  unknownUsers: { users: number; sample: string[] };
}

const SAMPLE = 20;

/** Counts and sample keys of the requests that cannot be served as given. */
export function requestIssues(requests: readonly RecommendRequest[]): RequestIssues {
  const issues = noIssues();
  for (const r of requests) countIssues(issues, r);
  return issues;
}

function noIssues(): RequestIssues {
  return { unknownItems: { users: 0, items: 0, sample: [] }, emptyHistory: { users: 0, sample: [] }, unknownUsers: { users: 0, sample: [] } };
}

/** Adds one request to `issues` (requests streamed in chunks are counted one by one). */
function countIssues(issues: RequestIssues, r: RecommendRequest): void {
  {
    if (r.unknownItems.length > 0) {
      issues.unknownItems.users += 1;
      issues.unknownItems.items += r.unknownItems.length;
      if (issues.unknownItems.sample.length < SAMPLE) issues.unknownItems.sample.push({ userKey: r.userKey, itemKeys: r.unknownItems.slice(0, 10) });
    }
    if (r.history.length === 0 && !r.text) {
      issues.emptyHistory.users += 1;
      if (issues.emptyHistory.sample.length < SAMPLE) issues.emptyHistory.sample.push(r.userKey);
    }
    if (r.user < 0) {
      issues.unknownUsers.users += 1;
      if (issues.unknownUsers.sample.length < SAMPLE) issues.unknownUsers.sample.push(r.userKey);
    }
  }
}

/**
 * The users to serve: every data set user (history = the last `maxHistory` items of its sequence), or the
 * users of input rows: `userKeys`, and optionally `histories` (item keys, oldest first; without them the data set's
 * sequence of that user is used) and `preferences`.
 */
export function resolveRequests(dataset: Pick<Dataset, 'items' | 'sequences'>, input: InputRows | null, maxHistory: number): RecommendRequest[] {
  if (input) return resolveInputRows(requestLookup(dataset, maxHistory), input);
  const tail = (h: Int32Array): Int32Array => h.slice(Math.max(0, h.length - maxHistory));
  return dataset.sequences.userKeys.map((userKey, user) => ({ userKey, user, history: tail(dataset.sequences.items[user]), unknownItems: [] }));
}

/** Reads a whole `--input` table (see inputRows for its columns; `semid recommend` streams it: inputRequests). */
export async function readRequestTable(path: string): Promise<InputRows> {
  const table = await readParquetTable(path);
  return inputRows(table, path, { history: hasColumn(table, 'history'), preference: hasColumn(table, 'preference') });
}

/** The issues of every request of a source (a pass before the work, so that they are reported up front). */
async function sourceIssues(source: RequestSource): Promise<RequestIssues> {
  const issues = noIssues();
  for await (const chunk of source.chunks(0, source.users)) for (const r of chunk) countIssues(issues, r);
  return issues;
}

/**
 * Sets each request's text vector from its preference (one encoding per distinct text; pass one `cache` to the
 * calls of a streamed job); an error without a text encoder.
 */
export function encodePreferences(requests: RecommendRequest[], encoder: ModelTextEncoder | null, model: string, cache = new Map<string, Float32Array>()): void {
  if (!requests.some((r) => r.preference)) return;
  if (!encoder) throw new Error(`${model} reads no text (trained without --text-tokens): preferences need a model trained with text tokens`);
  for (const r of requests) {
    if (!r.preference) continue;
    let v = cache.get(r.preference);
    if (!v) {
      v = encoder.encodeKnown(r.preference, `the preference of user ${JSON.stringify(r.userKey)}`).vector;
      cache.set(r.preference, v);
    }
    r.text = v;
  }
}

/** Parses "i/n" (0-based shard i of n). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new Error(`--shard must be i/n with 0 <= i < n (0-based), got "${text}"`);
  return { index, count };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

export interface WriteRecommendationsOptions {
  scorer: Ranker;
  itemCodes: SemanticIds;
  itemKeys: readonly string[];
  /** The users: a list, or a source that streams them (requestSource.ts: the data set's users, chunk by chunk). */
  requests: readonly RecommendRequest[] | RequestSource;
  out: string;
  topK?: number;
  beamSize?: number;
  batchSize?: number;
  excludeHistory?: boolean;
  /** Run only shard `index` of `count` (a worker of a parallel job). */
  shard?: { index: number; count: number };
  /** Cut the job into this many shards and run them all in turn (default 1; ignored with `shard`). */
  shards?: number;
  /** Recorded in the sidecar and checked on resume (e.g. the model directory). */
  fingerprint?: Record<string, unknown>;
  progress?: boolean;
  /** A multi-domain data set's domains: each user gets items of its domain only. */
  domains?: DomainIndex | null;
  /** A signal's stop request (stop.ts): the shard in progress stops before its next batch and leaves no file. */
  stop?: StopRequest;
}

export interface ShardSummary {
  index: number;
  count: number;
  path: string;
  skipped: boolean;
  users: number;
  rows: number;
  usersPerSecond: number;
}

/** Recommends for the requests, shard by shard; returns what each shard did. */
export async function writeRecommendations(options: WriteRecommendationsOptions): Promise<ShardSummary[]> {
  const topK = options.topK ?? 10;
  const beamSize = options.beamSize ?? 20;
  const batchSize = options.batchSize ?? 256;
  const excludeHistory = options.excludeHistory ?? true;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch-size must be an integer >= 1, got ${batchSize}`);
  const count = options.shard?.count ?? options.shards ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new Error(`--shards must be an integer >= 1, got ${count}`);
  const indices = options.shard ? [options.shard.index] : Array.from({ length: count }, (_, i) => i);
  const trie = PrefixTrie.build(options.itemCodes);
  if (trie.items !== options.itemKeys.length) {
    throw new Error(`the tokenizer has codes for ${trie.items} items but the data set has ${options.itemKeys.length} items`);
  }
  const source = isRequestSource(options.requests) ? options.requests : requestsSource(options.requests);
  const settings = { topK, beamSize, excludeHistory, users: source.users, shards: count, ...options.fingerprint };
  await checkShardSettings(options.out, settings);
  const summaries: ShardSummary[] = [];
  for (const index of indices) {
    const path = shardPath(options.out, index, count);
    const lock = await acquireLock(path);
    try {
      summaries.push(await writeShard(options, { index, count, path, trie, settings, topK, beamSize, batchSize, excludeHistory, source }));
    } catch (err) {
      if (err instanceof Stopped) throw new Stopped(err.reason, stoppedMessage(err.reason, options.out, index, count, summaries));
      throw err;
    } finally {
      await lock.release();
    }
  }
  return summaries;
}

/** The line a stopped job prints: the shards finished (kept, skipped by a rerun) and how to go on. */
function stoppedMessage(reason: string, out: string, index: number, count: number, done: readonly ShardSummary[]): string {
  if (count === 1) return `recommend: stopped (${reason}) before the end; nothing was written to ${out}; run the same command again to start over`;
  const kept = done.map((s) => s.path);
  return `recommend: stopped (${reason}) in shard ${index}/${count}, which left no file; ${kept.length} finished shard(s) kept${kept.length ? ` (${kept.join(', ')})` : ''}; `
    + 'run the same command again to finish: finished shards are skipped';
}

interface ShardJob {
  index: number;
  count: number;
  path: string;
  trie: PrefixTrie;
  settings: Record<string, unknown>;
  topK: number;
  beamSize: number;
  batchSize: number;
  excludeHistory: boolean;
  source: RequestSource;
}

const RESULT_COLUMNS = (rows: { userKeys: string[]; ranks: number[]; itemKeys: string[]; scores: number[] }) => makeTable({
  user_key: utf8Vector(rows.userKeys),
  rank: int32Vector(rows.ranks),
  item_key: utf8Vector(rows.itemKeys),
  score: float64Vector(rows.scores),
});

/**
 * One shard: skipped when its file matches its report, else computed and written (report first). Users come from
 * the source chunk by chunk and are ranked in batches of `batchSize` served users (the same batches whatever the
 * chunks); each batch's rows are appended to a streamed Parquet file, so memory holds one chunk and one batch.
 */
async function writeShard(options: WriteRecommendationsOptions, job: ShardJob): Promise<ShardSummary> {
  const { index, count, path, trie, settings, topK, beamSize, batchSize, excludeHistory, source } = job;
  const from = Math.floor((index * source.users) / count);
  const to = Math.floor(((index + 1) * source.users) / count);
  const label = `recommend shard ${index}/${count}`;
  const say = (m: string): void => {
    if (options.progress !== false) process.stderr.write(`${m}\n`);
  };
  if (await exists(path)) {
    const mismatch = await shardMismatch(path);
    if (mismatch === null) {
      say(`${label}: ${path} exists and matches its report, skipped (delete it to recompute)`);
      return { index, count, path, skipped: true, users: to - from, rows: 0, usersPerSecond: 0 };
    }
    say(`${label}: ${path} does not match its report (${mismatch}): recomputing it`);
  }
  const progress = new Progress({ label, total: to - from, unit: 'user', silent: options.progress === false });
  const t0 = performance.now();
  const issues = noIssues();
  let seen = 0;
  let served = 0;
  let rows = 0;
  let invalid = 0;
  const out: { writer: ParquetStreamWriter | null } = { writer: null };
  const pending: RecommendRequest[] = [];
  const rank = async (batch: RecommendRequest[]): Promise<void> => {
    const { candidates, stats } = await recommendBatch({ scorer: options.scorer, trie, topK, beamSize, excludeHistory, domains: options.domains, stop: options.stop }, batch.map((r) => ({ user: r.user, history: r.history, text: r.text ?? null })));
    invalid += stats.invalid;
    const part = { userKeys: [] as string[], ranks: [] as number[], itemKeys: [] as string[], scores: [] as number[] };
    batch.forEach((r, i) => {
      candidates[i].forEach((c, k) => {
        part.userKeys.push(r.userKey);
        part.ranks.push(k + 1);
        part.itemKeys.push(options.itemKeys[c.item]);
        part.scores.push(c.score);
      });
    });
    if (part.userKeys.length > 0) {
      out.writer ??= await ParquetStreamWriter.create(path);
      await out.writer.append(RESULT_COLUMNS(part));
      rows += part.userKeys.length;
    }
  };
  try {
    for await (const chunk of source.chunks(from, to)) {
      for (const r of chunk) {
        countIssues(issues, r);
        if (r.history.length > 0 || r.text) {
          pending.push(r);
          served += 1;
        }
        if (pending.length === batchSize) await rank(pending.splice(0, batchSize));
      }
      seen += chunk.length;
      progress.update(seen, { 'users/s': seen / Math.max((performance.now() - t0) / 1000, 1e-9) });
    }
    if (seen !== to - from) throw new Error(`${label}: the source gave ${seen} users for [${from}, ${to})`);
    if (pending.length > 0) await rank(pending.splice(0));
    const seconds = (performance.now() - t0) / 1000;
    const usersPerSecond = served / Math.max(seconds, 1e-9);
    progress.finish({ 'users/s': usersPerSecond });
    // A shard with no rows is one small table, written whole.
    const empty = out.writer === null ? tableToParquet(RESULT_COLUMNS({ userKeys: [], ranks: [], itemKeys: [], scores: [] })) : null;
    const file = out.writer ? await out.writer.finish() : { bytes: empty!.byteLength, sha256: sha256(empty!) };
    // The sidecar first, the Parquet last: the Parquet file's existence marks the shard done, its checksum that it is whole.
    await writeJsonAtomic(sidecarPath(path), {
      shard: { index, count, firstUser: from, endUser: to },
      settings,
      users: to - from,
      served,
      rows,
      bytes: file.bytes,
      sha256: file.sha256,
      seconds,
      usersPerSecond,
      invalidIds: invalid,
      issues,
      createdAt: new Date().toISOString(),
    });
    if (out.writer) await out.writer.commit();
    else await writeFileAtomic(path, empty!);
    return { index, count, path, skipped: false, users: to - from, rows, usersPerSecond };
  } catch (err) {
    await out.writer?.abort();
    throw err;
  }
}

export interface RecommendRunOptions {
  data: string;
  tokenizer: string;
  model: string;
  input?: string;
  out: string;
  topK?: number;
  beamSize?: number;
  batchSize?: number;
  shard?: string;
  shards?: number;
  excludeHistory?: boolean;
  maxHistory?: number;
  /** Use a model whose recorded data set or tokenizer differ from the given ones (see provenance.ts). */
  allowMismatch?: boolean;
  /** One preference text for every user (a model with text tokens; the input's `preference` column wins where set). */
  preference?: string;
  progress?: boolean;
}

/**
 * `semid recommend`: loads the catalog, tokenizer codes and model (checked to belong together), then writes the
 * shards. The users are streamed: the data set's from sequences.parquet, an --input table's by row groups
 * (inputRequests), so memory holds the model, the catalog and one chunk of users. An input with histories needs the
 * data set's user keys besides the catalog; a key-only input, its sequences (their histories). The model's tensors
 * are released when it returns. SIGINT/SIGTERM stop it before the next batch (stop.ts): it throws `Stopped`.
 */
export async function runRecommend(options: RecommendRunOptions): Promise<{ shards: ShardSummary[]; issues: RequestIssues; reportPath: string }> {
  const shard = options.shard !== undefined ? parseShard(options.shard) : undefined;
  await checkOutputFile(options.out);
  if (options.preference !== undefined) checkText(options.preference, '--preference');
  const input = options.input ? await inspectInput(options.input) : null;
  const open = { data: options.data, tokenizer: options.tokenizer, model: options.model, command: 'recommend', allowMismatch: options.allowMismatch, maxHistory: options.maxHistory, quiet: options.progress === false };
  const opened = input && !input.hasHistory ? await openTrainedModel(open) : await openTrainedCatalog(open);
  const { dataset, itemCodes, model, ranker: scorer, textEncoder } = opened;
  try {
    const maxHistory = options.maxHistory ?? model.config.maxHistory;
    const cache = new Map<string, Float32Array>();
    const prepare = (requests: RecommendRequest[]): void => {
      if (options.preference !== undefined) for (const r of requests) r.preference ??= options.preference;
      encodePreferences(requests, textEncoder, options.model, cache);
    };
    let source: RequestSource;
    let issues: RequestIssues;
    let userDomains: string[] | undefined;
    if (input) {
      const users = 'sequences' in opened.dataset ? (opened.dataset as Dataset).sequences : await readUserKeys(options.data);
      source = inputRequests(input, requestLookup({ items: dataset.items, sequences: users }, maxHistory), prepare);
      issues = await sourceIssues(source);
      userDomains = users.domains;
    } else {
      // Every data set user is known, with known items and a history (readUserChunks checks each): nothing to report.
      source = datasetRequests(options.data, { users: await datasetUserCount(options.data), items: dataset.items.keys.length, maxHistory, prepare });
      issues = requestIssues([]);
      userDomains = await readUserDomains(options.data);
    }
    const log = (m: string): void => {
      if (options.progress !== false) process.stderr.write(`${m}\n`);
    };
    if (issues.unknownItems.users) log(`recommend: ${issues.unknownItems.users} users had ${issues.unknownItems.items} unknown items (dropped from their histories; see the .report.json)`);
    if (issues.emptyHistory.users) log(`recommend: ${issues.emptyHistory.users} users have no usable history and get no recommendations (e.g. ${issues.emptyHistory.sample.slice(0, 5).join(', ')})`);
    const domains = domainIndex({ ...dataset, sequences: { userKeys: [], items: [], timestamps: null, domains: userDomains } });
    const shards = await withStopOnSignals(RECOMMEND_STOP_MESSAGES, (stop) => writeRecommendations({
      scorer, itemCodes, itemKeys: dataset.items.keys, requests: source, out: options.out,
      topK: options.topK, beamSize: options.beamSize, batchSize: options.batchSize, excludeHistory: options.excludeHistory,
      shard, shards: options.shards, fingerprint: { model: options.model, tokenizer: options.tokenizer, input: options.input ?? null, ...(options.preference !== undefined ? { preference: options.preference } : {}) }, progress: options.progress,
      domains, stop,
    }));
    const reportPath = `${options.out.endsWith('.parquet') ? options.out.slice(0, -'.parquet'.length) : options.out}.issues.json`;
    await writeJsonAtomic(reportPath, { users: source.users, ...issues });
    return { shards, issues, reportPath };
  } finally {
    model.dispose();
  }
}

const RECOMMEND_STOP_MESSAGES = {
  finishing: 'stopping after the current batch; finished shards are kept, the shard in progress leaves no file',
  atOnce: 'exiting now (finished shards are kept; the shard in progress is recomputed by a rerun)',
};

// Raw Amazon review dumps (McAuley et al.): reviews_*.json(.gz) with one review per line, JSON or a
// Python dict literal ({"reviewerID", "asin", "overall", "unixReviewTime"}; the 2023 release's
// {"user_id", "parent_asin"/"asin", "rating", "timestamp" (ms)} works too), and meta_*.json(.gz)
// ({'asin', 'title', 'brand', 'categories': [[path], ...]} or 2018's 'category': [path]).
// Histories are time ordered; k-core filtering (--min-interactions, default 5) as in the benchmark
// preprocessing (S3-Rec, TIGER). Reviews stream into the engine; only meta of reviewed items is kept in memory.
import { Progress } from '../../../tokenizer/io/index.js';
import type { ItemRecord, ReadResult } from './build.js';
import { loadCatalog } from './build.js';
import type { ImportContext } from './context.js';
import { streamOptions } from './context.js';
import type { InputIssues } from './issues.js';
import { INTERACTIONS_TABLE } from './store.js';
import { parseJsonOrPython } from './pyLiteral.js';
import { recordCategories } from './records.js';
import { at, checkFile, readLines } from './read.js';

export const AMAZON_DEFAULT_MIN_INTERACTIONS = 5;

/** Meta fields worth keeping for item text; the rest (related, imUrl, salesRank...) is dropped. */
const META_FIELDS = ['asin', 'parent_asin', 'title', 'brand', 'store', 'categories', 'category', 'main_cat', 'main_category', 'description', 'price', 'details'];

function pick(record: Record<string, unknown>, names: string[]): unknown {
  for (const name of names) if (record[name] !== undefined && record[name] !== null && record[name] !== '') return record[name];
  return undefined;
}

function parseLine(line: string, where: string, issues: InputIssues): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = parseJsonOrPython(line);
  } catch (err) {
    issues.reject('unparsable line', where, `neither JSON nor a Python dict (${(err as Error).message}): ${line.slice(0, 80)}`);
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.reject('unparsable line', where, `expected an object, got ${line.slice(0, 80)}`);
    return null;
  }
  return value as Record<string, unknown>;
}

async function readMeta(ctx: ImportContext, metaPath: string): Promise<Map<string, ItemRecord>> {
  const wanted = await ctx.store.distinctItems();
  const itemRecords = new Map<string, ItemRecord>();
  const progress = new Progress({ label: 'amazon meta', unit: 'line', silent: ctx.options.quiet });
  for await (const [line, n] of readLines(metaPath, streamOptions(ctx, metaPath))) {
    if (n % 10000 === 0) progress.update(n);
    if (!line.trim()) continue;
    const meta = parseLine(line, at(metaPath, n), ctx.issues);
    if (!meta) continue;
    const key = pick(meta, ['asin', 'parent_asin']);
    if (key === undefined || !wanted.has(String(key))) continue;
    if (itemRecords.has(String(key))) {
      ctx.issues.reject('duplicate item', at(metaPath, n), `duplicate asin "${String(key)}"`);
      continue;
    }
    const fields: Record<string, unknown> = {};
    for (const name of META_FIELDS) if (meta[name] !== undefined) fields[name] = meta[name];
    itemRecords.set(String(key), { fields, categories: recordCategories(fields) });
  }
  progress.finish({ items: itemRecords.size });
  return itemRecords;
}

/** Refuses (or counts and drops) reviews of items the meta file does not have, first by line. */
async function dropUnknownItems(ctx: ImportContext, path: string, metaPath: string): Promise<void> {
  const unknown = `FROM ${INTERACTIONS_TABLE} WHERE i NOT IN (SELECT key FROM catalog)`;
  const [row] = await ctx.engine.rows(`SELECT count(*), arg_min(i, seq), min(seq) ${unknown}`);
  if (Number(row[0]) === 0) return;
  ctx.issues.rejectMany('unknown item', Number(row[0]), at(path, Number(row[2])), `asin "${String(row[1])}" has no entry in the meta file ${metaPath}`);
  await ctx.engine.run(`DELETE ${unknown}`);
}

export async function readAmazon(ctx: ImportContext): Promise<ReadResult> {
  const { options, issues, store } = ctx;
  const path = await checkFile(options.reviews ?? options.interactions, '--reviews');
  const metaPath = options.meta ?? options.items ? await checkFile(options.meta ?? options.items, '--meta') : undefined;
  const minRating = options.minRating ?? -Infinity;
  const progress = new Progress({ label: 'amazon reviews', unit: 'line', silent: options.quiet });
  // Reviews first, so that only the meta of reviewed items is kept.
  let filtered = 0;
  let reviews = 0;
  for await (const [line, n] of readLines(path, streamOptions(ctx, path))) {
    if (n % 10000 === 0) progress.update(n);
    if (!line.trim()) continue;
    const where = at(path, n);
    const review = parseLine(line, where, issues);
    if (!review) continue;
    const user = pick(review, ['reviewerID', 'user_id']);
    const item = pick(review, ['asin', 'parent_asin']);
    let time = Number(pick(review, ['unixReviewTime', 'timestamp']));
    if (user === undefined || item === undefined) {
      issues.reject('bad value', where, `a review needs reviewerID and asin, got keys ${Object.keys(review).slice(0, 8).join(', ')}`);
      continue;
    }
    if (!Number.isFinite(time)) {
      issues.reject('bad value', where, `unixReviewTime must be a number, got ${JSON.stringify(pick(review, ['unixReviewTime', 'timestamp']))}`);
      continue;
    }
    if (time > 1e11) time /= 1000; // the 2023 release has milliseconds
    const rating = Number(pick(review, ['overall', 'rating']) ?? NaN);
    if (Number.isFinite(rating) && rating < minRating) {
      filtered += 1;
      continue;
    }
    store.add(String(user), String(item), time, n);
    reviews += 1;
  }
  progress.finish({ reviews });
  const itemRecords = metaPath ? await readMeta(ctx, metaPath) : null;
  if (itemRecords && metaPath) {
    await loadCatalog(ctx.engine, itemRecords);
    await dropUnknownItems(ctx, path, metaPath);
  }
  return {
    itemRecords,
    timed: true,
    source: { format: 'amazon', reviews: path, meta: metaPath ?? null, ...(options.minRating !== undefined ? { minRating, belowMinRating: filtered } : {}) },
  };
}

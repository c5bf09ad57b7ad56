// S3-Rec / TIGER sequence text (Beauty.txt): one user per line, "user item item ...", items in time
// order, whitespace separated; optional items file (Beauty.items.jsonl) keyed by the same item ids.
// Streamed line by line; only the set of user keys (duplicate check) is held in JS.
import type { ReadResult } from './build.js';
import type { ImportContext } from './context.js';
import { streamOptions } from './context.js';
import { knownItem, readItemRecords } from './records.js';
import { at, checkFile, readLines } from './read.js';

export async function readS3Rec(ctx: ImportContext): Promise<ReadResult> {
  const { options, issues, store } = ctx;
  const path = await checkFile(options.sequences, '--sequences');
  const itemsPath = options.items ? await checkFile(options.items, '--items') : undefined;
  const itemRecords = itemsPath ? await readItemRecords(itemsPath, issues, { keyField: options.itemKeyField }) : null;
  const users = new Set<string>();
  let seq = 0;
  let first = true;
  for await (const [line, n] of readLines(path, streamOptions(ctx, path))) {
    const tokens = line.trim().split(/\s+/);
    if (tokens[0] === '') continue;
    if (first && (tokens[0].startsWith('{') || tokens[0].startsWith('['))) {
      throw new Error(`${path}: looks like JSON, not "user item item ..." lines; use --format inter-json for JSON histories`);
    }
    first = false;
    const where = at(path, n);
    const [user, ...items] = tokens;
    if (users.has(user)) {
      issues.reject('duplicate user', where, `duplicate user "${user}" (each user must be on one line)`);
      continue;
    }
    const kept = items.filter((item) => knownItem(itemRecords, item, `${where} user "${user}"`, issues));
    if (kept.length === 0) {
      issues.reject('empty history', where, `user "${user}" has an empty history`);
      continue;
    }
    users.add(user);
    for (const item of kept) store.add(user, item, 0, seq++);
  }
  return { itemRecords, timed: false, source: { format: 's3rec', sequences: path, items: itemsPath ?? null } };
}

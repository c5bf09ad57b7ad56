// S3-Rec / TIGER sequence text (Beauty.txt): one user per line, "user item item ...", items in time
// order, whitespace separated; optional items file (Beauty.items.jsonl) keyed by the same item ids.
import type { History, RawImport } from './build.js';
import type { InputIssues } from './issues.js';
import type { ImportOptions } from './options.js';
import { knownItem, readItemRecords } from './records.js';
import { at, checkFile, readText } from './read.js';

export async function readS3Rec(options: ImportOptions, issues: InputIssues): Promise<RawImport> {
  const path = await checkFile(options.sequences, '--sequences');
  const itemsPath = options.items ? await checkFile(options.items, '--items') : undefined;
  const itemRecords = itemsPath ? await readItemRecords(itemsPath, issues, { keyField: options.itemKeyField }) : null;
  const text = await readText(path);
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    throw new Error(`${path}: looks like JSON, not "user item item ..." lines; use --format inter-json for JSON histories`);
  }
  const histories = new Map<string, History>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const tokens = line.trim().split(/\s+/);
    if (tokens[0] === '') return;
    const where = at(path, i + 1);
    const [user, ...items] = tokens;
    if (histories.has(user)) return issues.reject('duplicate user', where, `duplicate user "${user}" (each user must be on one line)`);
    const kept = items.filter((item) => knownItem(itemRecords, item, `${where} user "${user}"`, issues));
    if (kept.length === 0) return issues.reject('empty history', where, `user "${user}" has an empty history`);
    histories.set(user, { items: kept, times: null });
  });
  return { histories, itemRecords, source: { format: 's3rec', sequences: path, items: itemsPath ?? null } };
}

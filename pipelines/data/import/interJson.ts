// JSON histories (Scientific.inter.json): {"user": [item, item, ...], ...}, items in time order;
// optional items JSON (the whole file is one JSON value, so it is parsed whole, not streamed) ({"item": {"title", "description", "brand", "categories": "a,b,c"}}) or JSONL.
import type { ReadResult } from './build.js';
import type { ImportContext } from './context.js';
import { knownItem, readItemRecords } from './records.js';
import { checkFile, readText } from './read.js';

/** "Unexpected token ... at position 1234" -> "line L column C" of the text. */
function jsonErrorPlace(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line} column ${pos - before.lastIndexOf('\n')}: ${message}`;
}

export async function readInterJson(ctx: ImportContext): Promise<ReadResult> {
  const { options, issues, store } = ctx;
  const path = await checkFile(options.interactions, '--interactions');
  const itemsPath = options.items ? await checkFile(options.items, '--items') : undefined;
  const itemRecords = itemsPath ? await readItemRecords(itemsPath, issues, { keyField: options.itemKeyField }) : null;
  const text = await readText(path);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON at ${jsonErrorPlace(text, (err as Error).message)} (expected {"user": [items...]})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`${path}: expected a JSON object {"user": [items...]}, got ${Array.isArray(data) ? 'an array' : typeof data}`);
  }
  let seq = 0;
  for (const [user, value] of Object.entries(data)) {
    const where = `${path} user "${user}"`;
    if (!Array.isArray(value)) {
      issues.reject('bad value', where, `expected a list of item ids, got ${JSON.stringify(value)?.slice(0, 80)}`);
      continue;
    }
    const items: string[] = [];
    value.forEach((item, j) => {
      if ((typeof item !== 'number' || !Number.isInteger(item)) && typeof item !== 'string') {
        return issues.reject('bad value', `${where} position ${j}`, `item id must be an integer or string, got ${JSON.stringify(item)}`);
      }
      if (knownItem(itemRecords, String(item), `${where} position ${j}`, issues)) items.push(String(item));
    });
    if (items.length === 0) {
      issues.reject('empty history', where, 'has an empty history');
      continue;
    }
    for (const item of items) store.add(user, item, 0, seq++);
  }
  return { itemRecords, timed: false, source: { format: 'inter-json', interactions: path, items: itemsPath ?? null } };
}

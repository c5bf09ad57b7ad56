// Item files of the JSON family: one JSON object keyed by item id ({"0": {"title": ...}, ...}, as in
// Scientific.item.json), a JSON array of objects, or one object per line (JSONL, as Beauty.items.jsonl;
// Python dict literals accepted per line, as in the old Amazon meta dumps). Line-wise files name their
// item id with a key field: --item-key-field, else the first present of id, item_id, asin, item, key.
import type { ItemRecord } from './build.js';
import { categoryList } from './build.js';
import type { InputIssues } from './issues.js';
import { parseJsonOrPython } from './pyLiteral.js';
import { at, readText } from './read.js';

export const ITEM_KEY_FIELDS = ['id', 'item_id', 'asin', 'item', 'key'];

export interface RecordOptions {
  keyField?: string;
  /** Separator of a categories string ("a,b,c"); default ",". */
  categorySeparator?: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field holding the categories: categories, else category, else genres. */
export function recordCategories(fields: Record<string, unknown>, separator = ','): string[] {
  return categoryList(fields.categories ?? fields.category ?? fields.genres, separator);
}

function keyOf(fields: Record<string, unknown>, keyField: string | undefined): string | undefined {
  const names = keyField ? [keyField] : ITEM_KEY_FIELDS;
  for (const name of names) {
    const v = fields[name];
    if (v !== undefined && v !== null && v !== '') return String(v);
  }
  return undefined;
}

export async function readItemRecords(path: string, issues: InputIssues, options: RecordOptions = {}): Promise<Map<string, ItemRecord>> {
  const text = await readText(path);
  const records = new Map<string, ItemRecord>();
  const sep = options.categorySeparator ?? ',';
  const add = (key: string, fields: Record<string, unknown>, where: string) => {
    if (records.has(key)) {
      issues.reject('duplicate item', where, `duplicate item id "${key}"`);
      return;
    }
    records.set(key, { fields, categories: recordCategories(fields, sep) });
  };
  const trimmed = text.trimStart();
  let whole: unknown;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      whole = JSON.parse(text);
    } catch {
      whole = undefined; // JSONL, or broken: read line by line below for a precise error
    }
  } else if (trimmed.length > 0) {
    const firstLine = trimmed.split('\n', 1)[0].slice(0, 80);
    throw new Error(`${path}: not an items file of JSON objects (starts with "${firstLine}"); expected JSON or JSONL (wrong file or --format?)`);
  }
  if (isPlainObject(whole) && Object.values(whole).length > 0 && Object.values(whole).every(isPlainObject)) {
    for (const [key, fields] of Object.entries(whole)) add(key, fields as Record<string, unknown>, `${path} item "${key}"`);
    return records;
  }
  if (Array.isArray(whole)) {
    whole.forEach((fields, i) => {
      const where = `${path} element ${i}`;
      if (!isPlainObject(fields)) return issues.reject('unparsable line', where, `expected an object, got ${JSON.stringify(fields)?.slice(0, 80)}`);
      const key = keyOf(fields, options.keyField);
      if (key === undefined) return issues.reject('bad value', where, `no item id field (${options.keyField ?? ITEM_KEY_FIELDS.join(', ')})`);
      add(key, fields, where);
    });
    return records;
  }
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = at(path, i + 1);
    let fields: unknown;
    try {
      fields = parseJsonOrPython(line);
    } catch (err) {
      return issues.reject('unparsable line', where, `not JSON (${(err as Error).message}): ${line.slice(0, 80)}`);
    }
    if (!isPlainObject(fields)) return issues.reject('unparsable line', where, `expected an object, got ${line.slice(0, 80)}`);
    const key = keyOf(fields, options.keyField);
    if (key === undefined) {
      return issues.reject('bad value', where, `no item id field (looked for ${options.keyField ?? ITEM_KEY_FIELDS.join(', ')}; use --item-key-field)`);
    }
    add(key, fields, where);
  });
  return records;
}

/** Rejects (or counts) a history item that the items file does not know. Returns whether to keep it. */
export function knownItem(records: Map<string, ItemRecord> | null, item: string, where: string, issues: InputIssues): boolean {
  if (!records || records.has(item)) return true;
  issues.reject('unknown item', where, `item id "${item}" is not in the items file`);
  return false;
}

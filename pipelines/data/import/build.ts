// What every importer shares: item records with their categories, histories keyed by original ids,
// grouping of (user, item, time) rows into time-ordered histories, k-core filtering, and the final
// step to the canonical data set (dense ids, item text from the template).
import type { DatasetContent } from '../dataset.js';
import { compileTextTemplate, DEFAULT_TEXT_TEMPLATE } from '../text.js';
import type { Items, Sequences } from '../types.js';
import type { InputIssues } from './issues.js';

/** An item's fields as read from the items file, and its category path (most general first). */
export interface ItemRecord {
  fields: Record<string, unknown>;
  categories: string[];
}

export interface History {
  items: string[];
  /** Unix seconds, parallel to items; null when the source has no times. */
  times: number[] | null;
}

/** What an importer reads: histories in time order, item records when an items file was given. */
export interface RawImport {
  histories: Map<string, History>;
  itemRecords: Map<string, ItemRecord> | null;
  source: Record<string, unknown>;
}

export interface BuildOptions {
  textTemplate?: string;
  /** k-core: drop users and items with fewer interactions, repeatedly until stable (0 = off). */
  minInteractions?: number;
  /** Keep items of the items file that no user interacted with (default: only interacted items). */
  allItems?: boolean;
}

/** A category list from an array (nested lists: the first path) or a string split on `separator`. */
export function categoryList(value: unknown, separator = ','): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) {
    const path = value.length > 0 && Array.isArray(value[0]) ? value[0] : value;
    return (path as unknown[]).flat(Infinity).map((v) => String(v).trim()).filter((v) => v.length > 0);
  }
  return String(value).split(separator).map((v) => v.trim()).filter((v) => v.length > 0);
}

/** Row-wise interaction log, grouped per user and stably sorted by time (ties keep file order). */
export class InteractionLog {
  private readonly rows = new Map<string, { items: string[]; times: number[] }>();
  constructor(private readonly timed: boolean) {}

  add(user: string, item: string, time: number): void {
    let h = this.rows.get(user);
    if (!h) {
      h = { items: [], times: [] };
      this.rows.set(user, h);
    }
    h.items.push(item);
    h.times.push(time);
  }

  histories(): Map<string, History> {
    const out = new Map<string, History>();
    for (const [user, h] of this.rows) {
      if (!this.timed) {
        out.set(user, { items: h.items, times: null });
        continue;
      }
      const order = h.items.map((_, i) => i).sort((a, b) => h.times[a] - h.times[b] || a - b);
      out.set(user, { items: order.map((i) => h.items[i]), times: order.map((i) => h.times[i]) });
    }
    return out;
  }
}

/** Drops users and items with fewer than k interactions until none is left; returns what was removed. */
export function kCore(histories: Map<string, History>, k: number): { users: number; items: number; interactions: number } {
  const removed = { users: 0, items: 0, interactions: 0 };
  if (k <= 1) return removed;
  const removedItems = new Set<string>();
  for (;;) {
    const itemCounts = new Map<string, number>();
    for (const h of histories.values()) for (const item of h.items) itemCounts.set(item, (itemCounts.get(item) ?? 0) + 1);
    const rareItems = new Set([...itemCounts].filter(([, n]) => n < k).map(([item]) => item));
    let changed = false;
    for (const [user, h] of histories) {
      if (rareItems.size > 0) {
        const keep = h.items.map((item) => !rareItems.has(item));
        if (keep.includes(false)) {
          removed.interactions += keep.filter((x) => !x).length;
          h.items = h.items.filter((_, i) => keep[i]);
          if (h.times) h.times = h.times.filter((_, i) => keep[i]);
          changed = true;
        }
      }
      if (h.items.length < k) {
        removed.interactions += h.items.length;
        removed.users += 1;
        histories.delete(user);
        changed = true;
      }
    }
    for (const item of rareItems) removedItems.add(item);
    if (!changed) break;
  }
  // Items that lost their users without being rare themselves are gone too: count every vanished item.
  const left = new Set<string>();
  for (const h of histories.values()) for (const item of h.items) left.add(item);
  removed.items = new Set([...removedItems].filter((i) => !left.has(i))).size;
  return removed;
}

/** Sorts keys numerically when all are integers (so "10" follows "9"), else by code points. */
export function sortKeys(keys: Iterable<string>): string[] {
  const list = [...keys];
  if (list.every((k) => /^-?\d{1,15}$/.test(k))) return list.sort((a, b) => Number(a) - Number(b));
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Dense ids in natural key order, item texts from the template: the canonical data set content. */
export function buildDataset(raw: RawImport, options: BuildOptions, issues: InputIssues): DatasetContent {
  const template = compileTextTemplate(options.textTemplate);
  const histories = raw.histories;
  for (const [user, h] of histories) {
    if (h.items.length === 0) {
      issues.reject('empty history', `user "${user}"`, 'has an empty history');
      histories.delete(user);
    }
  }
  const before = { users: histories.size, interactions: [...histories.values()].reduce((n, h) => n + h.items.length, 0) };
  const k = options.minInteractions ?? 0;
  if (!Number.isInteger(k) || k < 0) throw new Error(`--min-interactions must be an integer >= 0, got ${k}`);
  const removed = kCore(histories, k);
  if (histories.size === 0) {
    throw new Error(`no users left${k > 1 ? ` after ${k}-core filtering (--min-interactions ${k})` : ''}: nothing to import`);
  }

  const itemKeySet = new Set<string>();
  for (const h of histories.values()) for (const item of h.items) itemKeySet.add(item);
  if (options.allItems && raw.itemRecords) for (const key of raw.itemRecords.keys()) itemKeySet.add(key);
  const itemKeys = sortKeys(itemKeySet);
  const itemId = new Map(itemKeys.map((key, i) => [key, i]));
  const items: Items = { keys: itemKeys, texts: [], categories: [] };
  for (const key of itemKeys) {
    const record = raw.itemRecords?.get(key);
    items.categories.push(record?.categories ?? []);
    items.texts.push(template({ ...(record?.fields ?? {}), key, categories: record?.categories ?? [] }, key));
  }

  const userKeys = sortKeys(histories.keys());
  const timed = userKeys.some((u) => histories.get(u)!.times !== null);
  const sequences: Sequences = {
    userKeys,
    items: userKeys.map((u) => Int32Array.from(histories.get(u)!.items, (key) => itemId.get(key)!)),
    timestamps: timed ? userKeys.map((u) => Float64Array.from(histories.get(u)!.times ?? [])) : null,
  };
  const source: Record<string, unknown> = { ...raw.source, textTemplate: options.textTemplate ?? DEFAULT_TEXT_TEMPLATE };
  if (k > 1) source.kCore = { minInteractions: k, before, removed };
  if (options.allItems) source.allItems = true;
  return { items, sequences, source, skipped: { ...issues.skipped } };
}

// Preference texts made from what the data has (no reviews here): templates over the brands, categories and title
// words of items (facets.ts). The README ("Preferences") quotes these templates; change both together.
//
//   history:  "I like B1 and B2; I'm into C1 and C2"  B = the two brands, C = the two most specific categories most
//             frequent among the items (later items weigh more: weight 1 + position / count); parts without a brand
//             or category are left out
//   steer:    the target item's own facets, one of (training draws the variant; eval uses `brand-category`):
//             brand-category "looking for B C" | brand "something from B" | category "I want C" |
//             title "I'd like W1 W2 C" (two title words)
//   negative: "no B" (a brand) or "not C" (a category)
//
// `semid data preferences` writes DIR/preferences.parquet: per user, the history preference of every item but the
// last (the test target, so the file never names it).
import { join } from 'node:path';
import { checkNotInput, withLock } from '../../tokenizer/io/index.js';
import { hasColumn, makeTable, readDataset, readParquetTable, readUtf8Column, utf8Vector, writeParquetTable, type Dataset } from '../data/index.js';
import { checkText } from './checkText.js';
import { itemFacets, type ItemFacets } from './facets.js';

export const PREFERENCES_FILE = 'preferences.parquet';

export const STEER_VARIANTS = ['brand-category', 'brand', 'category', 'title'] as const;
export type SteerVariant = (typeof STEER_VARIANTS)[number];

/** The two most frequent values (later positions weigh more), ties to the later one. */
function topTwo(values: readonly (string | null)[]): string[] {
  const weight = new Map<string, number>();
  values.forEach((v, i) => {
    if (v) weight.set(v, (weight.get(v) ?? 0) + 1 + i / values.length);
  });
  return [...weight.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([v]) => v);
}

/** The history preference of some items (oldest first), or null when they have neither brand nor category. */
export function historyPreference(facets: readonly ItemFacets[], items: ArrayLike<number>): string | null {
  const chosen = Array.from(items, (i) => facets[i]);
  const brands = topTwo(chosen.map((f) => f.brand));
  const cats = topTwo(chosen.map((f) => f.leaf));
  const parts: string[] = [];
  if (brands.length > 0) parts.push(`I like ${brands.join(' and ')}`);
  if (cats.length > 0) parts.push(`I'm into ${cats.join(' and ')}`);
  return parts.length > 0 ? parts.join('; ') : null;
}

/** A steering preference from one item's own facets (falls back to what the item has), or null. */
export function steerPreference(f: ItemFacets, variant: SteerVariant, random: () => number = Math.random): string | null {
  const brand = f.brand;
  const cat = f.leaf;
  if (variant === 'title' && f.titleWords.length > 0) {
    const words = pick(f.titleWords, 2, random);
    return `I'd like ${words.join(' ')}${cat ? ` ${cat}` : ''}`;
  }
  if (variant === 'brand' && brand) return `something from ${brand}`;
  if (variant === 'category' && cat) return `I want ${cat}`;
  if (brand && cat) return `looking for ${brand} ${cat}`;
  if (brand) return `something from ${brand}`;
  if (cat) return `I want ${cat}`;
  return null;
}

/** A negative preference about a brand or a category. */
export function negativePreference(about: { brand: string } | { category: string }): string {
  return 'brand' in about ? `no ${about.brand}` : `not ${about.category}`;
}

/** `count` distinct elements in random order (all when fewer). */
export function pick<T>(list: readonly T[], count: number, random: () => number): T[] {
  const copy = [...list];
  const out: T[] = [];
  while (out.length < count && copy.length > 0) out.push(copy.splice(Math.floor(random() * copy.length), 1)[0]);
  return out;
}

/** Per user, the history preference of every item but the last (null when none can be made). */
export function userPreferences(dataset: Pick<Dataset, 'items' | 'manifest' | 'sequences'>, facets = itemFacets(dataset)): (string | null)[] {
  return dataset.sequences.items.map((seq) => historyPreference(facets, seq.subarray(0, Math.max(0, seq.length - 1))));
}

/** `semid data preferences`: writes DIR/preferences.parquet (user_key, text); returns its path and counts. */
export async function writePreferences(options: { data: string; out?: string }): Promise<{ path: string; users: number; withText: number }> {
  const path = options.out ?? join(options.data, PREFERENCES_FILE);
  if (options.out) checkNotInput(options.out, { "--data": options.data });
  return withLock(options.out ?? options.data, async () => {
    const dataset = await readDataset(options.data);
    const texts = userPreferences(dataset);
    const keys: string[] = [];
    const values: string[] = [];
    texts.forEach((t, u) => {
      if (t !== null) {
        keys.push(dataset.sequences.userKeys[u]);
        values.push(t);
      }
    });
    await writeParquetTable(path, makeTable({ user_key: utf8Vector(keys), text: utf8Vector(values) }));
    return { path, users: texts.length, withText: keys.length };
  });
}

/**
 * Reads a preference table (user_key, text) against a data set: dense user id -> text. Unknown users, duplicate
 * users and unusable texts (empty, not UTF-8) are errors naming the file, the row and the value.
 */
export async function readPreferences(path: string, userKeys: readonly string[]): Promise<Map<number, string>> {
  const table = await readParquetTable(path);
  for (const column of ['user_key', 'text']) {
    if (!hasColumn(table, column)) throw new Error(`${path}: no column "${column}" (a preference file has user_key and text)`);
  }
  const keys = readUtf8Column(table, 'user_key', path);
  const texts = readUtf8Column(table, 'text', path);
  const userOf = new Map(userKeys.map((k, u) => [k, u]));
  const unknown = keys.filter((k) => !userOf.has(k));
  if (unknown.length > 0) {
    throw new Error(`${path}: ${unknown.length} of ${keys.length} user keys are not users of the data set (e.g. ${unknown.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}): was it made for another data set?`);
  }
  const out = new Map<number, string>();
  keys.forEach((k, row) => {
    const u = userOf.get(k)!;
    if (out.has(u)) throw new Error(`${path}: user ${JSON.stringify(k)} has more than one preference (row ${row})`);
    out.set(u, checkText(texts[row], `${path} row ${row} (user ${JSON.stringify(k)}) text`));
  });
  return out;
}

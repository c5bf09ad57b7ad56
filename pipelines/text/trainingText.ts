// The texts a model with text tokens trains on (seq2seq's TrainingText), made from the data (preferences.ts):
// - each one-target example carries ONE preference, its kind drawn per example from the seed: history (the example's
//   own history items, never its target) 25%, steer (the target's own facets, a random variant) 35%, negative 40%
//   ("no B" for a brand of the history other than the target's, else of the catalog; or "not C" likewise for a
//   category); preference dropout (ModelConfig.textDropout) then removes it in some steps, so the model also learns
//   without one;
// - a causal window carries the history preference of the user's items before the window (none for the first);
// - with `indexing` (DSI), every item adds rows (its text -> its ID): the whole text, 2-4 random title words, and
//   brand + most specific category; the rows are kept out of preference dropout.
import type { TrainingText } from '../../seq2seq/index.js';
import type { Example } from '../data/index.js';
import { seededRandom, type RandomSource } from '../embed/index.js';
import type { ItemFacets } from './facets.js';
import { historyPreference, negativePreference, pick, steerPreference, STEER_VARIANTS } from './preferences.js';
import type { ModelTextEncoder } from './modelTextEncoder.js';

export interface TrainingTextOptions {
  /** Add DSI's indexing task (item texts -> item IDs). */
  indexing: boolean;
  seed: number;
}

/** Chances of the preference kinds of a training example (cumulative: history, steer, negative). */
const KIND_HISTORY = 0.25;
const KIND_STEER = 0.6;

export interface TrainingTexts extends TrainingText {
  /** Distinct texts encoded so far (a cache). */
  encoded(): number;
}

/** A uniform number in [0, 1) from (seed, i, salt). */
function hash01(seed: number, i: number, salt: number): number {
  let h = (Math.imul(seed + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35) ^ Math.imul(salt + 7, 0x27d4eb2f)) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

/** The preference text of training example `i` (see the file's head), or null when none can be made. */
export function examplePreference(facets: readonly ItemFacets[], e: Example, i: number, seed: number, brands: readonly string[], leaves: readonly string[]): string | null {
  const kind = hash01(seed, i, 1);
  const target = facets[e.target];
  if (kind < KIND_HISTORY) return historyPreference(facets, e.history);
  if (kind < KIND_STEER) return steerPreference(target, STEER_VARIANTS[Math.floor(hash01(seed, i, 3) * STEER_VARIANTS.length)], () => hash01(seed, i, 2));
  const byBrand = hash01(seed, i, 4) < 0.5;
  const fromHistory = Array.from(e.history, (h) => facets[h]);
  if (byBrand) {
    const own = fromHistory.map((f) => f.brand).filter((b): b is string => b !== null && b !== target.brand);
    const pool = own.length > 0 ? own : brands.filter((b) => b !== target.brand);
    if (pool.length > 0) return negativePreference({ brand: pool[Math.floor(hash01(seed, i, 5) * pool.length)] });
  }
  const own = fromHistory.map((f) => f.leaf).filter((c): c is string => c !== null && c !== target.leaf);
  const pool = own.length > 0 ? own : leaves.filter((c) => c !== target.leaf);
  return pool.length > 0 ? negativePreference({ category: pool[Math.floor(hash01(seed, i, 6) * pool.length)] }) : null;
}

/** The DSI indexing texts of one item: whole text, a few title words, brand + category (distinct, non-empty). */
export function indexingTexts(f: ItemFacets, text: string, random: RandomSource): string[] {
  const out = new Set<string>([text]);
  if (f.titleWords.length > 0) out.add(pick(f.titleWords, 2 + random.int(3), () => random.uniform()).join(' '));
  const bc = [f.brand, f.leaf].filter((x) => x).join(' ');
  if (bc) out.add(bc);
  return [...out];
}

/** The training texts of a data set for a model with text tokens. */
export function trainingTexts(
  encoder: ModelTextEncoder, facets: readonly ItemFacets[], itemTexts: readonly string[], examples: () => readonly Example[],
  sequences: readonly { user: number; items: Int32Array }[], options: TrainingTextOptions,
): TrainingTexts {
  const cache = new Map<string, Float32Array | null>();
  const vectorOf = (text: string | null): Float32Array | null => {
    if (text === null) return null;
    let v = cache.get(text);
    if (v === undefined) {
      const e = encoder.encode(text, 'training preference');
      v = e.knownTerms > 0 ? e.vector : null;
      cache.set(text, v);
    }
    return v;
  };
  const brands = [...new Set(facets.map((f) => f.brand).filter((b): b is string => b !== null))];
  const leaves = [...new Set(facets.map((f) => f.leaf).filter((c): c is string => c !== null))];
  const byUser = new Map(sequences.map((s) => [s.user, s.items]));
  const indexing: { text: Float32Array; target: number }[] = [];
  if (options.indexing) {
    const random = seededRandom(options.seed + 17);
    facets.forEach((f, item) => {
      for (const t of indexingTexts(f, itemTexts[item], random)) {
        const e = encoder.encode(t, `item ${item} text`);
        if (e.knownTerms > 0) indexing.push({ text: e.vector, target: item });
      }
    });
  }
  return {
    example: (i) => {
      const list = examples();
      if (i < 0 || i >= list.length) throw new Error(`training text: example ${i} is outside the ${list.length} examples`);
      return vectorOf(examplePreference(facets, list[i], i, options.seed, brands, leaves));
    },
    window: (user, start) => {
      const items = byUser.get(user);
      return items && start > 0 ? vectorOf(historyPreference(facets, items.subarray(0, start))) : null;
    },
    indexing,
    encoded: () => cache.size,
  };
}

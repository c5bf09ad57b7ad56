// Held-out noisy search queries made from item text (`semid eval --task search`): for an item, 3 distinct random
// words of its title (all of them when it has fewer), and one typo in one of the words of 4 or more letters (a
// random letter deleted, replaced, inserted, or two neighbours swapped). Seeded apart from training (DSI's indexing
// rows are whole texts and clean title words), so no query is a training text.
import { seededRandom, type RandomSource } from '../embed/index.js';
import type { ItemFacets } from './facets.js';
import { pick } from './preferences.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** One typo in a word (length >= 2). */
export function typo(word: string, random: RandomSource): string {
  const i = random.int(word.length);
  switch (random.int(4)) {
    case 0: return word.slice(0, i) + word.slice(i + 1);
    case 1: {
      let c = LETTERS[random.int(26)];
      if (c === word[i]) c = LETTERS[(LETTERS.indexOf(c) + 1) % 26];
      return word.slice(0, i) + c + word.slice(i + 1);
    }
    case 2: return word.slice(0, i) + LETTERS[random.int(26)] + word.slice(i);
    default: {
      const j = Math.min(i + 1, word.length - 1);
      const k = j === i ? i - 1 : i;
      return word.slice(0, k) + word[j] + word[k] + word.slice(j + 1);
    }
  }
}

export interface SearchQuery {
  item: number;
  query: string;
}

/** Noisy queries for `count` items drawn evenly over the items with title words (seeded). */
export function noisyQueries(facets: readonly ItemFacets[], count: number, seed: number, words = 3): SearchQuery[] {
  const random = seededRandom(seed);
  const eligible = facets.map((f, i) => (f.titleWords.length > 0 ? i : -1)).filter((i) => i >= 0);
  const n = Math.min(count, eligible.length);
  const out: SearchQuery[] = [];
  for (let q = 0; q < n; q++) {
    const item = eligible[Math.floor((q * eligible.length) / n)];
    const chosen = pick(facets[item].titleWords, words, () => random.uniform());
    const long = chosen.map((w, i) => (w.length >= 4 ? i : -1)).filter((i) => i >= 0);
    if (long.length > 0) {
      const at = long[random.int(long.length)];
      chosen[at] = typo(chosen[at], random);
    }
    out.push({ item, query: chosen.join(' ') });
  }
  return out;
}

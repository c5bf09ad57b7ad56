// The demo's text part (issue 17): one steered recommendation ("with the preference 'TEXT':" beside the same user's
// list without one) and one search (query -> items with their text), on the run's data set and tokenizer.
//
// They come from a second, small model that reads text (`DEMO_TEXT_MODEL`: the encoder-decoder `tiny` with text
// tokens and DSI's indexing rows), trained in RUN/text beside the run's main model, which stays the causal model
// without text. Why a second model: the causal model's windows carry only history preferences (never a steering
// one, never a query), so it cannot show either; and a text model spends part of its steps on texts, so putting
// text into the main model would move the demo's metric table (measured: demo.ts says the figures).
import { PrefixTrie } from '../decoding/index.js';
import type { Dataset } from './data/index.js';
import { recommendBatch } from './evaluate/index.js';
import { searchQueries, type SearchResult } from './search.js';
import { itemFacets, steerPreference, type ItemFacets } from './text/index.js';
import { trainModel } from './train.js';
import { checkpointStep } from './trainDir.js';
import { openTrainedModel } from './trainedModel.js';

/** The demo's text model: `tiny` encoder-decoder, text tokens, DSI indexing rows, this many steps. */
export const DEMO_TEXT_MODEL = { preset: 'tiny', arch: 'encdec', textTokens: 2, indexItems: true, steps: 600 } as const;

/** RUN/text: the demo's text model. */
export const DEMO_TEXT_DIR = 'text';

export interface SteeredSample {
  user: string;
  history: string[];
  preference: string;
  /** Top items without a preference, as text. */
  plain: string[];
  /** Top items with the preference, as text. */
  steered: string[];
  /** How many of each list match the preference's brand or category. */
  plainMatches: number;
  steeredMatches: number;
}

export interface DemoTextShowcase {
  steered: SteeredSample;
  search: SearchResult;
  /** The model's training seconds (0 when reused). */
  trainSeconds: number;
}

/**
 * What to steer user `history` toward: the most popular item with a brand and a category whose top-level category and
 * brand the user has never bought (so the steered list must differ from the plain one; else only its most specific
 * category must be new), and its `looking for B C`.
 */
export function pickSteering(facets: readonly ItemFacets[], popularity: ArrayLike<number>, history: ArrayLike<number>): { item: number; preference: string } | null {
  const bought = Array.from(history, (i) => facets[i]);
  const tops = new Set(bought.map((f) => f.categories[0]));
  const leaves = new Set(bought.map((f) => f.leaf));
  const brands = new Set(bought.map((f) => f.brand));
  const best = (fresh: (f: ItemFacets) => boolean): number => {
    let found = -1;
    for (let i = 0; i < facets.length; i++) {
      const f = facets[i];
      if (f.brand && f.leaf && fresh(f) && (found < 0 || popularity[i] > popularity[found])) found = i;
    }
    return found;
  };
  let item = best((f) => !tops.has(f.categories[0]) && !brands.has(f.brand));
  if (item < 0) item = best((f) => !leaves.has(f.leaf));
  return item < 0 ? null : { item, preference: steerPreference(facets[item], 'brand-category')! };
}

/** A search query from an item's title: its first three content words (the demo's query). */
export function titleQuery(f: ItemFacets): string | null {
  return f.titleWords.length > 0 ? f.titleWords.slice(0, 3).join(' ') : null;
}

/** Interactions per item over every user's sequence. */
function itemPopularity(dataset: Dataset): Float64Array {
  const counts = new Float64Array(dataset.items.keys.length);
  for (const items of dataset.sequences.items) for (const i of items) counts[i] += 1;
  return counts;
}

/** Trains RUN/text (or reuses a finished one, resumes an unfinished one) on the run's data set and tokenizer; its seconds. */
export async function trainDemoTextModel(o: { data: string; tokenizer: string; out: string; seed: number; force: boolean; log: (m: string) => void }): Promise<number> {
  const step = await checkpointStep(o.out);
  if (!o.force && step !== null && step >= DEMO_TEXT_MODEL.steps) {
    o.log(`demo: reusing the text model in ${o.out}`);
    return 0;
  }
  const t0 = performance.now();
  o.log(`demo: training the text model (${DEMO_TEXT_MODEL.preset} ${DEMO_TEXT_MODEL.arch}, ${DEMO_TEXT_MODEL.textTokens} text tokens, DSI rows, ${DEMO_TEXT_MODEL.steps} steps) in ${o.out}`);
  await trainModel({
    data: o.data, tokenizer: o.tokenizer, out: o.out, preset: DEMO_TEXT_MODEL.preset, arch: DEMO_TEXT_MODEL.arch,
    model: { textTokens: DEMO_TEXT_MODEL.textTokens, seed: o.seed }, train: { steps: DEMO_TEXT_MODEL.steps, seed: o.seed, evalEvery: 0 },
    indexItems: DEMO_TEXT_MODEL.indexItems, validUsers: 0, resume: !o.force && step !== null, silent: true,
  });
  return (performance.now() - t0) / 1000;
}

/** One steered recommendation and one search with the text model in `model`. */
export async function demoTextShowcase(o: { data: string; tokenizer: string; model: string; user?: number; topK?: number; trainSeconds?: number }): Promise<DemoTextShowcase> {
  const topK = o.topK ?? 5;
  const opened = await openTrainedModel({ data: o.data, tokenizer: o.tokenizer, model: o.model, command: 'demo', quiet: true });
  try {
    const { dataset, itemCodes, ranker, textEncoder } = opened;
    if (!textEncoder) throw new Error(`${o.model} reads no text: the demo's text model must be trained with text tokens`);
    const facets = itemFacets(dataset);
    const texts = dataset.items.texts;
    const trie = PrefixTrie.build(itemCodes);
    const popularity = itemPopularity(dataset);
    // The first user (from `user` on) with a history of 3+ items and a category it never bought.
    let user = o.user ?? 0;
    let steering: { item: number; preference: string } | null = null;
    for (; user < dataset.sequences.items.length; user++) {
      if (dataset.sequences.items[user].length < 3) continue;
      steering = pickSteering(facets, popularity, dataset.sequences.items[user]);
      if (steering) break;
    }
    if (!steering) throw new Error(`${o.data}: no user with 3+ items and an item of a category the user never bought, to steer toward`);
    const history = dataset.sequences.items[user];
    const vector = textEncoder.encodeKnown(steering.preference, 'the demo preference').vector;
    const { candidates } = await recommendBatch({ scorer: ranker, trie, topK, beamSize: Math.max(20, topK), excludeHistory: true }, [
      { user, history, text: null },
      { user, history, text: vector },
    ]);
    const target = facets[steering.item];
    const matches = (items: number[]): number => items.filter((i) => facets[i].brand === target.brand || facets[i].leaf === target.leaf).length;
    const plainItems = candidates[0].map((c) => c.item);
    const steeredItems = candidates[1].map((c) => c.item);
    // The search: the title words of the most popular item (a query a shopper might type).
    let queryItem = 0;
    for (let i = 1; i < facets.length; i++) if (popularity[i] > popularity[queryItem] && titleQuery(facets[i])) queryItem = i;
    const query = titleQuery(facets[queryItem]);
    if (!query) throw new Error(`${o.data}: no item has title words to search for`);
    const [search] = await searchQueries([query], { scorer: ranker, trie, encoder: textEncoder, itemKeys: dataset.items.keys, itemTexts: texts, topK });
    return {
      steered: {
        user: dataset.sequences.userKeys[user], history: Array.from(history.slice(-5), (i) => texts[i]), preference: steering.preference,
        plain: plainItems.map((i) => texts[i]), steered: steeredItems.map((i) => texts[i]),
        plainMatches: matches(plainItems), steeredMatches: matches(steeredItems),
      },
      search,
      trainSeconds: o.trainSeconds ?? 0,
    };
  } finally {
    opened.model.dispose();
  }
}

/** The steered recommendation as text: the user's recent items, the plain list, then the steered one. */
export function formatSteered(s: SteeredSample): string {
  const list = (items: string[]) => items.map((t, i) => `    ${String(i + 1).padStart(2)}. ${t}`);
  return [
    `user ${s.user}`,
    '  recently:',
    ...s.history.map((t) => `    - ${t}`),
    `  recommended without a preference (${s.plainMatches} of ${s.plain.length} match it):`,
    ...list(s.plain),
    `  with the preference '${s.preference}' (${s.steeredMatches} of ${s.steered.length} match it):`,
    ...list(s.steered),
    '',
  ].join('\n');
}

/** A search result as text: the query, then the items with their text. */
export function formatSearch(r: SearchResult): string {
  return [`query '${r.query}':`, ...r.hits.map((h) => `  ${String(h.rank).padStart(2)}. ${h.text}`), ''].join('\n');
}

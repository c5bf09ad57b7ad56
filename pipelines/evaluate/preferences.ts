// `semid eval --preference-mode none|history|steer|negative`: Mender's checks of a model with text tokens, on the
// split's users (leave-one-out, full catalog, constrained beam search). Every mode also ranks the same users with no
// preference, so each figure has its unconditioned twin from the same model and search:
// - none: no preference (compare with a model trained without preferences on the same budget: run eval on both);
// - history: the user's preference (DIR/preferences.parquet when present, else made from the history items by the
//   same template, preferences.ts);
// - steer: a preference made from the test target's own brand and category ("looking for B C"), and, as a control, from
//   a random other item of another category and brand ("wrong"): recall should rise with the right one, not the wrong;
// - negative: for each user, the brand most frequent in the unconditioned top 10 gets "no B" (and the most frequent
//   category "not C"): the share of such items in the top 10 before and after.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { PrefixTrie } from '../../decoding/index.js';
import { leaveOneOut, type Example } from '../data/index.js';
import { seededRandom } from '../embed/index.js';
import { metricsFromRanks } from '../metrics.js';
import {
  historyPreference, itemFacets, negativePreference, PREFERENCES_FILE, readPreferences, steerPreference, type ItemFacets, type ModelTextEncoder,
} from '../text/index.js';
import type { TrainedModel } from '../trainedModel.js';
import type { StopRequest } from '../stop.js';
import { checkTopK, evenSample, rankWithModel, type ModelRanks } from './ranking.js';

export const PREFERENCE_MODES = ['none', 'history', 'steer', 'negative'] as const;
export type PreferenceMode = (typeof PREFERENCE_MODES)[number];

export interface PreferenceEvalOptions {
  data: string;
  split: 'valid' | 'test';
  modes: readonly PreferenceMode[];
  ks: readonly number[];
  beamSize: number;
  users?: number;
  batchSize?: number;
  excludeHistory: boolean;
  /** A preference file (user_key, text) for `history`; default DIR/preferences.parquet when it exists. */
  preferences?: string;
  maxHistory?: number;
  seed?: number;
  progress?: boolean;
  /** A signal's stop request (stop.ts): the ranking stops before its next batch. */
  stop?: StopRequest;
}

/** Parses "steer,negative" (or "all") into modes, naming a bad one. */
export function parsePreferenceModes(text: string): PreferenceMode[] {
  const parts = text === 'all' ? [...PREFERENCE_MODES] : text.split(',').map((s) => s.trim()).filter((s) => s);
  for (const p of parts) {
    if (!(PREFERENCE_MODES as readonly string[]).includes(p)) throw new Error(`--preference-mode must be one of ${PREFERENCE_MODES.join(', ')} or all (comma-separated), got "${p}"`);
  }
  if (parts.length === 0) throw new Error(`--preference-mode needs a mode (${PREFERENCE_MODES.join(', ')}), got "${text}"`);
  return parts as PreferenceMode[];
}

type Texted = Example & { text: Float32Array | null };

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Share of the recommended items (first `k` of each user) that `has` marks, over the users `about` names (null = skip). */
function share(recommended: readonly Int32Array[], about: readonly (string | null)[], has: (item: number, value: string) => boolean, k: number): number {
  let hit = 0;
  let total = 0;
  recommended.forEach((items, u) => {
    const v = about[u];
    if (v === null) return;
    const top = items.subarray(0, k);
    total += top.length;
    for (const i of top) if (has(i, v)) hit++;
  });
  return total > 0 ? hit / total : 0;
}

/** The value most frequent among the first `k` recommended items (ties: the earlier one), or null. */
function mostFrequent(items: Int32Array, k: number, valueOf: (item: number) => string | null): string | null {
  const counts = new Map<string, number>();
  let best: string | null = null;
  for (const i of items.subarray(0, k)) {
    const v = valueOf(i);
    if (v === null) continue;
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (best === null || n > counts.get(best)!) best = v;
  }
  return best;
}

/** Runs the preference modes; returns the report (JSON-ready). */
export async function evaluatePreferenceModes(opened: TrainedModel, o: PreferenceEvalOptions): Promise<Record<string, unknown>> {
  const { dataset, itemCodes, model, ranker: scorer } = opened;
  const encoder = opened.textEncoder;
  if (!encoder) throw new Error('--preference-mode needs a model trained with text tokens (semid train --text-tokens N): this one reads no text');
  const ks = [...o.ks].sort((a, b) => a - b);
  const topK = ks[ks.length - 1];
  const k10 = Math.min(10, topK);
  checkTopK(scorer, topK, o.beamSize);
  const all = leaveOneOut(dataset.sequences, o.split, { maxHistory: o.maxHistory ?? model.config.maxHistory });
  const examples = evenSample(all.length, o.users).map((i) => all[i]);
  if (examples.length === 0) throw new Error(`${o.data}: no ${o.split} examples (every user is too short)`);
  const facets = itemFacets(dataset);
  const trie = PrefixTrie.build(itemCodes);
  const log = (m: string): void => {
    if (o.progress !== false) process.stderr.write(`${m}\n`);
  };
  const cache = new Map<string, Float32Array | null>();
  const vector = (text: string | null, what: string): Float32Array | null => {
    if (text === null) return null;
    if (!cache.has(text)) {
      const e = encoder.encode(text, what);
      cache.set(text, e.knownTerms > 0 ? e.vector : null);
    }
    return cache.get(text)!;
  };
  const rank = (rows: readonly Texted[], label: string): Promise<ModelRanks> => rankWithModel({
    scorer, trie, examples: rows, topK, beamSize: o.beamSize, batchSize: o.batchSize, excludeHistory: o.excludeHistory, progress: o.progress, label, stop: o.stop,
  });
  const withTexts = (texts: readonly (string | null)[], what: string): Texted[] => examples.map((e, i) => ({ ...e, text: vector(texts[i], what) }));
  const covered = (rows: readonly Texted[]): number => rows.filter((r) => r.text !== null).length;

  const none = await rank(examples.map((e) => ({ ...e, text: null })), `eval ${o.split} (no preference)`);
  const noneMetrics = metricsFromRanks(none.ranks, ks);
  const report: Record<string, unknown> = {
    split: o.split, users: examples.length, ks, beamSize: o.beamSize, excludeHistory: o.excludeHistory, none: noneMetrics,
  };
  for (const mode of o.modes) {
    if (mode === 'none') continue;
    if (mode === 'history') report.history = await historyMode(o, dataset.sequences.userKeys, facets, examples, withTexts, covered, rank, ks, log);
    if (mode === 'steer') report.steer = await steerMode(o, facets, examples, withTexts, covered, rank, ks, noneMetrics);
    if (mode === 'negative') report.negative = await negativeMode(o, facets, examples, withTexts, covered, rank, ks, none, k10);
  }
  return report;
}

type Rank = (rows: readonly Texted[], label: string) => Promise<ModelRanks>;
type WithTexts = (texts: readonly (string | null)[], what: string) => Texted[];

async function historyMode(
  o: PreferenceEvalOptions, userKeys: readonly string[], facets: readonly ItemFacets[], examples: readonly Example[],
  withTexts: WithTexts, covered: (r: readonly Texted[]) => number, rank: Rank, ks: readonly number[], log: (m: string) => void,
): Promise<Record<string, unknown>> {
  const path = o.preferences ?? join(o.data, PREFERENCES_FILE);
  const fromFile = o.preferences || (await exists(path)) ? await readPreferences(path, userKeys) : null;
  if (fromFile && o.split === 'valid') log(`eval: note: ${path} is made from every item but the test target, so on the valid split it names the validation target's facets`);
  const texts = examples.map((e) => (fromFile ? fromFile.get(e.user) ?? null : historyPreference(facets, e.history)));
  const rows = withTexts(texts, 'history preference');
  const run = await rank(rows, `eval ${o.split} (history preference)`);
  return { source: fromFile ? path : 'made from each user\'s history items (preferences.ts template)', withPreference: covered(rows), ...metricsFromRanks(run.ranks, ks), sample: texts.slice(0, 3) };
}

async function steerMode(
  o: PreferenceEvalOptions, facets: readonly ItemFacets[], examples: readonly Example[],
  withTexts: WithTexts, covered: (r: readonly Texted[]) => number, rank: Rank, ks: readonly number[], noneMetrics: Record<string, number>,
): Promise<Record<string, unknown>> {
  const random = seededRandom(o.seed ?? 7);
  const right = examples.map((e) => steerPreference(facets[e.target], 'brand-category'));
  const wrong = examples.map((e) => {
    const t = facets[e.target];
    for (let tries = 0; tries < 50; tries++) {
      const other = facets[random.int(facets.length)];
      if (other.leaf !== t.leaf && other.brand !== t.brand) return steerPreference(other, 'brand-category');
    }
    return null;
  });
  const rightRows = withTexts(right, 'steering preference');
  const wrongRows = withTexts(wrong, 'steering preference');
  const rightRun = await rank(rightRows, `eval ${o.split} (steer: target's brand and category)`);
  const wrongRun = await rank(wrongRows, `eval ${o.split} (steer: another item's)`);
  const r = metricsFromRanks(rightRun.ranks, ks);
  const w = metricsFromRanks(wrongRun.ranks, ks);
  const k = ks.includes(10) ? 10 : ks[ks.length - 1];
  return {
    template: 'looking for BRAND CATEGORY (the test target\'s; brand or category alone when it lacks one)',
    withPreference: covered(rightRows), right: r, wrong: w,
    [`recallGain@${k}`]: r[`recall@${k}`] - noneMetrics[`recall@${k}`],
    sample: right.slice(0, 3),
  };
}

async function negativeMode(
  o: PreferenceEvalOptions, facets: readonly ItemFacets[], examples: readonly Example[],
  withTexts: WithTexts, covered: (r: readonly Texted[]) => number, rank: Rank, ks: readonly number[], none: ModelRanks, k: number,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const kinds = [
    { name: 'brand', valueOf: (i: number) => facets[i].brand, text: (v: string) => negativePreference({ brand: v }) },
    { name: 'category', valueOf: (i: number) => facets[i].leaf, text: (v: string) => negativePreference({ category: v }) },
  ];
  for (const kind of kinds) {
    const about = none.recommended.map((items) => mostFrequent(items, k, kind.valueOf));
    const rows = withTexts(about.map((v) => (v === null ? null : kind.text(v))), `negative ${kind.name} preference`);
    const run = await rank(rows, `eval ${o.split} (negative: ${kind.name})`);
    const scored = about.map((v, u) => (rows[u].text === null ? null : v));
    const has = (i: number, v: string): boolean => kind.valueOf(i) === v;
    const users = scored.filter((v) => v !== null).length;
    const select = (u: number): boolean => scored[u] !== null;
    out[kind.name] = {
      template: kind.name === 'brand' ? 'no BRAND' : 'not CATEGORY',
      users,
      withPreference: covered(rows),
      [`shareBefore@${k}`]: share(none.recommended, scored, has, k),
      [`shareAfter@${k}`]: share(run.recommended, scored, has, k),
      before: metricsFromRanks(none.ranks, ks, select),
      after: metricsFromRanks(run.ranks, ks, select),
      sample: scored.filter((v) => v !== null).slice(0, 3).map((v) => kind.text(v!)),
    };
  }
  return out;
}

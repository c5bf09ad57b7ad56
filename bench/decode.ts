// `decode`: catalog-constrained beam search (beam 20, top-10) with a real model as the scorer, 256 users a
// batch over a random 12,101-item catalog, `small` and `tiger`; the search's own overhead with a toy
// scorer; and the prefix trie's build time and memory for 1,000,000 random 4-code IDs.
import { beamSearch, benchmarkBeamSearch, benchmarkTrie, PrefixTrie, randomCatalog } from '../decoding/index.js';
import { createModel, Vocab } from '../seq2seq/index.js';
import type { UserContext } from '../seq2seq/index.js';
import { summarize, timeRepeated } from './measure.js';
import { benchModelConfig, benchModelLabel, benchModelName, modelsByPreset, parseBenchModel } from './models.js';
import { recordNumber } from './reference.js';
import { randomExamples } from './train.js';
import type { Figure, ReferenceRecord, ReferenceRun, Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

export interface DecodeBenchConfig {
  presets: string[];
  batchUsers: number;
  beamSize: number;
  topK: number;
  items: number;
  historyItems: number;
  warmup: number;
  runs: number;
  trieItems: number;
  trieRuns: number;
  searchUsers: number;
}

/** The reference's protocol for `kvcache_shared`: 2 warm-up batches, then 5 timed batches of 256 users. */
export const FULL_DECODE: DecodeBenchConfig = {
  presets: ['small', 'tiger', 'small+item', 'tiger+item'], batchUsers: 256, beamSize: 20, topK: 10, items: 12_101, historyItems: 20, warmup: 2, runs: 5,
  trieItems: 1_000_000, trieRuns: 3, searchUsers: 2048,
};
export const QUICK_DECODE: DecodeBenchConfig = {
  presets: ['tiny', 'tiny+item'], batchUsers: 16, beamSize: 5, topK: 3, items: 300, historyItems: 3, warmup: 1, runs: 2,
  trieItems: 10_000, trieRuns: 1, searchUsers: 64,
};
const REDUCED = { warmup: 1, runs: 1 };
/** The part of the suite without a model: trie build and the search loop with a toy scorer. */
const SEARCH_PART = 'search';

const LEVELS = [256, 256, 256, 256];

async function benchPreset(part: string, c: DecodeBenchConfig): Promise<Figure> {
  const benchModel = parseBenchModel(part);
  const { preset } = benchModel;
  const modelConfig = benchModelConfig(benchModel, { maxHistory: c.historyItems, dropout: 0 });
  const vocab = new Vocab({ levels: LEVELS, userBuckets: modelConfig.userBuckets });
  const catalog = randomCatalog(c.items, LEVELS);
  const trie = PrefixTrie.build(catalog);
  const model = createModel(modelConfig, vocab);
  try {
    const scored = model.scorer(catalog);
    if (scored.kind !== 'beam') throw new Error(`bench decode: ${part} ranks the catalog exactly; it has no beam search to time`);
    const scorer = scored.step;
    const contexts: UserContext[] = randomExamples(c.batchUsers, c.historyItems, c.items, 22_363, 2)
      .map(({ user, history }) => ({ user, history }));
    let scorerMs = 0;
    let searchMs = 0;
    let outside = 0;
    let returned = 0;
    const seconds = await timeRepeated(async () => {
      const { candidates, stats } = await beamSearch(scorer, trie, contexts, { beamSize: c.beamSize, topK: c.topK });
      scorerMs += stats.scorerMs;
      searchMs += stats.searchMs;
      for (const list of candidates) {
        for (const cand of list) {
          returned += 1;
          if (cand.item < 0 || cand.item >= c.items) outside += 1;
        }
      }
    }, { warmup: c.warmup, runs: c.runs });
    if (outside > 0) throw new Error(`decode bench: ${outside} of ${returned} results are not catalog items`);
    const samples = summarize(seconds);
    return {
      key: `decode.${benchModelName(benchModel)}.usersPerSec`,
      label: `beam ${c.beamSize} top-${c.topK} ${benchModelLabel(benchModel, c.historyItems, LEVELS.length)}, ${c.batchUsers} users/batch`,
      value: c.batchUsers / samples.median, unit: 'users/s', higherIsBetter: true, samples,
      detail: {
        preset, layout: benchModel.layout, items: c.items, batchUsers: c.batchUsers, beamSize: c.beamSize, topK: c.topK, historyItems: c.historyItems,
        warmup: c.warmup, runs: c.runs, batchSeconds: samples,
        // the model's share (encoder + decoder steps) vs the search's (masks, heaps, bookkeeping), all batches
        scorerShare: scorerMs / Math.max(scorerMs + searchMs, 1e-9), resultsChecked: returned,
      },
    };
  } finally {
    model.dispose();
  }
}

async function trieFigures(c: DecodeBenchConfig): Promise<Figure[]> {
  const runs = [];
  for (let r = 0; r < c.trieRuns; r++) runs.push(benchmarkTrie({ items: c.trieItems, seed: r + 1 }));
  const build = summarize(runs.map((r) => r.buildMs / 1000));
  const last = runs[runs.length - 1];
  return [
    {
      key: 'decode.trie.buildSeconds', label: `trie build, ${c.trieItems.toLocaleString('en-US')} random 4-code IDs`,
      value: build.median, unit: 's', higherIsBetter: false, samples: build,
      detail: { items: c.trieItems, levels: last.levels, nodesPerDepth: last.nodesPerDepth, lookupNs: last.lookupNs },
    },
    {
      key: 'decode.trie.megabytes', label: `trie memory, ${c.trieItems.toLocaleString('en-US')} IDs`,
      value: last.megabytes, unit: 'MiB', higherIsBetter: false, detail: { bytes: last.bytes },
    },
    {
      key: 'decode.trie.lookupNs', label: 'trie lookup of a full ID', value: last.lookupNs, unit: 'ns', higherIsBetter: false,
    },
  ];
}

async function searchOverhead(c: DecodeBenchConfig): Promise<Figure> {
  const b = await benchmarkBeamSearch({ users: c.searchUsers, batchSize: c.batchUsers, beamSize: c.beamSize, topK: c.topK, items: c.items });
  return {
    key: 'decode.searchOnly.usersPerSec', label: `beam search alone (toy scorer), beam ${c.beamSize}`,
    value: b.searchUsersPerSecond, unit: 'users/s', higherIsBetter: true,
    detail: { ...b },
  };
}

export const decodeSuite: Suite = {
  name: 'decode',
  describe: 'beam search users/s (beam 20, top-10, 256 users a batch, 12,101 items), `small` and `tiger`; trie build for 1M IDs',
  usesBackend: true,
  threadsVariant: true,
  webgpuVariant: true,
  parts(options: { quick: boolean }, variant: Variant): string[] {
    const presets = (options.quick ? QUICK_DECODE : FULL_DECODE).presets;
    // The trie and the search loop are plain TypeScript: the same on every backend, measured once.
    if (variant.id === 'default') return [...presets, SEARCH_PART];
    return variant.reduced ? presets.slice(0, 1) : presets;
  },
  async run(options: SuiteOptions, variant: Variant): Promise<VariantOutput> {
    const full = options.quick ? QUICK_DECODE : FULL_DECODE;
    const part = options.part;
    const base = part && part !== SEARCH_PART ? { ...full, presets: [part] } : part === SEARCH_PART ? { ...full, presets: [] } : full;
    // A software GPU adapter is for correctness, far slower than wasm: one preset, one timed repetition.
    const c = variant.reduced ? { ...base, ...REDUCED, presets: base.presets.slice(0, 1) } : base;
    const figures: Figure[] = [];
    for (const preset of c.presets) figures.push(await benchPreset(preset, c));
    const notes: string[] = [];
    if (variant.id === 'default' && (part === undefined || part === SEARCH_PART)) {
      figures.push(await searchOverhead(c));
      figures.push(...(await trieFigures(c)));
    } else if (variant.id !== 'default') {
      notes.push('trie and search-only figures: measured in the default variant (they do not use tfjs)');
    }
    if (variant.reduced) notes.push('reduced on this backend: first preset only, 1 warm-up batch, 1 timed batch');
    return { figures, notes };
  },
  reference(): ReferenceRun[] {
    return modelsByPreset(FULL_DECODE.presets).map(([preset, models]) => ({
      args: ['--preset', preset, '--bench', 'beam', '--decode', 'kvcache_shared', '--batch', String(FULL_DECODE.batchUsers),
        '--beam', String(FULL_DECODE.beamSize), '--topk', String(FULL_DECODE.topK), '--warmup', String(FULL_DECODE.warmup), '--runs', String(FULL_DECODE.runs)],
      figures: (records: ReferenceRecord[]): Figure[] => {
        const rs = records.filter((x) => x.bench === 'beam' && x.preset === preset);
        if (rs.length === 0) return [];
        // The reference's best constraint implementation (trie dict or precomputed vectors) is the bar.
        const best = rs.reduce((a, b) => (recordNumber(b, 'users_per_s.median') > recordNumber(a, 'users_per_s.median') ? b : a));
        return models.map(({ name, acrossLayouts }) => ({
          key: `decode.${name}.usersPerSec`,
          label: `beam ${FULL_DECODE.beamSize} top-${FULL_DECODE.topK} ${preset}, ${FULL_DECODE.batchUsers} users/batch${acrossLayouts ? ' (PyTorch: per-code, 81 tokens)' : ''}`,
          value: recordNumber(best, 'users_per_s.median'), unit: 'users/s', higherIsBetter: true, samples: best.batch_s as Figure['samples'],
          detail: {
            decode: best.decode, constraint: best.constraint,
            byConstraint: Object.fromEntries(rs.map((r) => [String(r.constraint), recordNumber(r, 'users_per_s.median')])),
          },
        }));
      },
    }));
  },
};

// A deterministic synthetic catalog and users with structure a next-item model can learn and a
// popularity baseline cannot: the default data of the demo and the tests (offline, seconds to make).
//
// Catalog: a 3-level category hierarchy (6 departments x 3 aisles x 3 shelves = 54 leaves). Each item
// sits in one leaf; its title has a style word, a line name, the leaf's product noun and, for items of
// a series, the step ("Book 2", "Gen 3"); its brand belongs to its department. About half of the items
// belong to series (3-6 steps, one brand, one leaf). Popularity within a leaf is Zipf-skewed.
// Users: 1-3 preferred departments; history length 5-30 (skewed short). Each next item is, in order of
// chance: the next step of the series of the last item (strong, predictable habit), an item of a
// complementary leaf (e.g. camera -> lens), a popular item of a preferred department (starting new
// series at step 1), or global noise.
import type { Items, Manifest, Sequences } from './types.js';
import { writeDataset } from './dataset.js';
import { compileTextTemplate, DEFAULT_TEXT_TEMPLATE } from './text.js';

export interface GenerateConfig {
  seed: number;
  users: number;
  items: number;
  /** History length range per user (inclusive). */
  minHistory: number;
  maxHistory: number;
}

export const DEFAULT_GENERATE: GenerateConfig = { seed: 42, users: 2500, items: 1500, minHistory: 5, maxHistory: 30 };

/** Where `semid data generate` writes when --out is not given (runs/ is git-ignored). */
export const DEFAULT_GENERATED_DIR = 'runs/data/generated';

/** Chances of each way to pick the next item (the rest is global noise). */
const P_SERIES = 0.55;
const P_COMPLEMENT = 0.2;
const P_PREFERENCE = 0.2;

export function resolveGenerateConfig(partial: Partial<GenerateConfig> = {}): GenerateConfig {
  const c = { ...DEFAULT_GENERATE, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as GenerateConfig;
  const int = (name: keyof GenerateConfig, min: number) => {
    if (!Number.isInteger(c[name]) || c[name] < min) throw new Error(`\`${name}\` must be an integer >= ${min}, got ${c[name]}`);
  };
  int('seed', 0);
  int('users', 1);
  int('items', 60);
  int('minHistory', 2);
  int('maxHistory', c.minHistory);
  if (c.maxHistory > c.items / 2) throw new Error(`\`maxHistory\` must be at most half the items (${Math.floor(c.items / 2)}), got ${c.maxHistory}`);
  return c;
}

// ---------------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32): the same seed gives the same data set on every machine.

class Random {
  private state: number;
  constructor(seed: number) {
    this.state = (seed ^ 0x9e3779b9) >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
  /** Index drawn with probability proportional to weights (cumulative array). */
  weighted(cumulative: Float64Array): number {
    const x = this.next() * cumulative[cumulative.length - 1];
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  }
}

// ---------------------------------------------------------------------------------------------------
// The taxonomy: department -> aisle -> shelf (product noun), with department style words.

interface Department { name: string; styles: string[]; stepWord: string; aisles: [string, [string, string][]][] }

const TAXONOMY: Department[] = [
  { name: 'Electronics', styles: ['wireless', 'portable', 'compact', 'smart', 'digital', 'studio'], stepWord: 'Gen', aisles: [
    ['Audio', [['Headphones', 'headphones'], ['Speakers', 'speaker'], ['Microphones', 'microphone']]],
    ['Cameras', [['Digital Cameras', 'camera'], ['Lenses', 'lens'], ['Tripods', 'tripod']]],
    ['Computer Accessories', [['Keyboards', 'keyboard'], ['Mice', 'mouse'], ['Monitors', 'monitor']]],
  ] },
  { name: 'Kitchen', styles: ['nonstick', 'stainless', 'cast iron', 'ceramic', 'compact', 'professional'], stepWord: 'Series', aisles: [
    ['Cookware', [['Frying Pans', 'frying pan'], ['Stock Pots', 'stock pot'], ['Woks', 'wok']]],
    ['Coffee', [['Coffee Makers', 'coffee maker'], ['Grinders', 'coffee grinder'], ['Mugs', 'travel mug']]],
    ['Baking', [['Stand Mixers', 'stand mixer'], ['Baking Sheets', 'baking sheet'], ['Cake Pans', 'cake pan']]],
  ] },
  { name: 'Beauty', styles: ['hydrating', 'gentle', 'matte', 'vegan', 'fragrance-free', 'radiant'], stepWord: 'Step', aisles: [
    ['Skin Care', [['Moisturizers', 'moisturizer'], ['Cleansers', 'cleanser'], ['Serums', 'serum']]],
    ['Hair Care', [['Shampoo', 'shampoo'], ['Conditioner', 'conditioner'], ['Hair Oil', 'hair oil']]],
    ['Makeup', [['Lipstick', 'lipstick'], ['Mascara', 'mascara'], ['Foundation', 'foundation']]],
  ] },
  { name: 'Outdoors', styles: ['lightweight', 'waterproof', 'ultralight', 'rugged', 'packable', 'insulated'], stepWord: 'Gen', aisles: [
    ['Camping', [['Tents', 'tent'], ['Sleeping Bags', 'sleeping bag'], ['Lanterns', 'lantern']]],
    ['Cycling', [['Bikes', 'bike'], ['Helmets', 'helmet'], ['Bike Lights', 'bike light']]],
    ['Hiking', [['Backpacks', 'backpack'], ['Boots', 'hiking boots'], ['Trekking Poles', 'trekking poles']]],
  ] },
  { name: 'Books', styles: ['illustrated', 'paperback', 'hardcover', 'collected', 'annotated', 'pocket'], stepWord: 'Book', aisles: [
    ['Fiction', [['Mystery', 'mystery novel'], ['Fantasy', 'fantasy novel'], ['Romance', 'romance novel']]],
    ['Nonfiction', [['History', 'history book'], ['Science', 'science book'], ['Biography', 'biography']]],
    ['Kids', [['Picture Books', 'picture book'], ['Activity Books', 'activity book'], ['Early Readers', 'early reader']]],
  ] },
  { name: 'Toys', styles: ['colorful', 'classic', 'deluxe', 'junior', 'magnetic', 'glow-in-the-dark'], stepWord: 'Set', aisles: [
    ['Building', [['Block Sets', 'block set'], ['Model Kits', 'model kit'], ['Marble Runs', 'marble run']]],
    ['Games', [['Board Games', 'board game'], ['Card Games', 'card game'], ['Puzzles', 'jigsaw puzzle']]],
    ['Outdoor Play', [['Water Toys', 'water blaster'], ['Kites', 'kite'], ['Balls', 'play ball']]],
  ] },
];

const LINE_NAMES = [
  'Aurora', 'Summit', 'Nova', 'Ember', 'Harbor', 'Cascade', 'Atlas', 'Willow', 'Falcon', 'Meridian', 'Juniper', 'Orbit',
  'Sierra', 'Tundra', 'Zephyr', 'Cobalt', 'Maple', 'Quartz', 'Lumen', 'Delta', 'Fjord', 'Sable', 'Tango', 'Vertex',
];
const SYLLABLES_A = ['Al', 'Bri', 'Cor', 'Dan', 'El', 'Fen', 'Gal', 'Hol', 'Ix', 'Jo', 'Kel', 'Lu', 'Mar', 'No', 'Or', 'Pel', 'Quin', 'Ro', 'Sol', 'Tav', 'Ul', 'Ver', 'Wen', 'Zen'];
const SYLLABLES_B = ['ta', 'ron', 'vix', 'lo', 'mar', 'dex', 'ly', 'sa', 'nor', 'ion', 'ka', 'tec'];
const BRANDS_PER_DEPARTMENT = 6;

interface Leaf { path: [string, string, string]; noun: string; department: number; complements: number[] }

function buildLeaves(random: Random): Leaf[] {
  const leaves: Leaf[] = [];
  TAXONOMY.forEach((dept, d) => {
    for (const [aisle, shelves] of dept.aisles) {
      for (const [shelf, noun] of shelves) leaves.push({ path: [dept.name, aisle, shelf], noun, department: d, complements: [] });
    }
  });
  // Complements: the sibling shelves of the same aisle (camera -> lens, tripod), plus one other aisle's
  // shelf of the same department.
  leaves.forEach((leaf, i) => {
    const siblings = leaves.map((l, j) => j).filter((j) => j !== i && leaves[j].path[1] === leaf.path[1] && leaves[j].department === leaf.department);
    const cousins = leaves.map((l, j) => j).filter((j) => leaves[j].department === leaf.department && leaves[j].path[1] !== leaf.path[1]);
    leaf.complements = [...siblings, random.pick(cousins)];
  });
  return leaves;
}

interface GeneratedItem { key: string; title: string; brand: string; leaf: number; series: number; step: number; weight: number }

export interface GeneratedData {
  items: Items;
  sequences: Sequences;
  stats: { seriesCount: number; itemsInSeries: number; transitions: Record<string, number> };
}

/** Builds the synthetic catalog and histories (pure; no files). */
export function generateData(partial: Partial<GenerateConfig> = {}): GeneratedData {
  const config = resolveGenerateConfig(partial);
  const random = new Random(config.seed);
  const leaves = buildLeaves(random);
  const brands = TAXONOMY.map(() => {
    const names = new Set<string>();
    while (names.size < BRANDS_PER_DEPARTMENT) names.add(random.pick(SYLLABLES_A) + random.pick(SYLLABLES_B));
    return [...names];
  });

  // Items: leaves in turn; about half start or continue a series.
  const items: GeneratedItem[] = [];
  const series: number[][] = []; // series id -> item indices in step order
  for (let entry = 0; items.length < config.items; entry++) {
    const leafIndex = entry % leaves.length;
    const leaf = leaves[leafIndex];
    const dept = TAXONOMY[leaf.department];
    const brand = random.pick(brands[leaf.department]);
    const style = random.pick(dept.styles);
    const line = random.pick(LINE_NAMES);
    const remaining = config.items - items.length;
    if (random.next() < 0.25 && remaining >= 3) {
      const length = Math.min(remaining, 3 + random.int(4));
      const id = series.length;
      series.push([]);
      for (let step = 1; step <= length; step++) {
        series[id].push(items.length);
        items.push({ key: '', title: `${line} ${style} ${leaf.noun} ${dept.stepWord} ${step}`, brand, leaf: leafIndex, series: id, step, weight: 0 });
      }
    } else {
      items.push({ key: '', title: `${line} ${style} ${leaf.noun}`, brand, leaf: leafIndex, series: -1, step: 0, weight: 0 });
    }
  }
  // Keys in a shuffled order, so that item ids carry no trace of the structure.
  const order = random.shuffle(items.map((_, i) => i));
  const width = String(items.length).length;
  order.forEach((itemIndex, rank) => { items[itemIndex].key = `item-${String(rank + 1).padStart(width, '0')}`; });

  // Popularity: Zipf over a random rank within each leaf; later series steps are rarer starting points.
  const byLeaf: number[][] = leaves.map(() => []);
  items.forEach((item, i) => byLeaf[item.leaf].push(i));
  for (const members of byLeaf) {
    random.shuffle(members).forEach((i, rank) => { items[i].weight = 1 / (rank + 1) / (items[i].step > 1 ? 4 : 1); });
  }
  const cumulative = (indices: number[]) => {
    const c = new Float64Array(indices.length);
    let sum = 0;
    indices.forEach((i, k) => { sum += items[i].weight; c[k] = sum; });
    return c;
  };
  const leafCumulative = byLeaf.map(cumulative);
  const byDept = TAXONOMY.map((_, d) => items.map((_, i) => i).filter((i) => leaves[items[i].leaf].department === d));
  const deptCumulative = byDept.map(cumulative);
  const all = items.map((_, i) => i);
  const allCumulative = cumulative(all);

  const transitions: Record<string, number> = { series: 0, complement: 0, preference: 0, noise: 0 };
  const userKeys: string[] = [];
  const histories: Int32Array[] = [];
  const timestamps: Float64Array[] = [];
  const userWidth = String(config.users).length;
  const keyOrder = Int32Array.from(items.map((item) => Number(item.key.slice(5)) - 1));
  for (let u = 0; u < config.users; u++) {
    const preferred = random.shuffle(TAXONOMY.map((_, d) => d)).slice(0, 1 + random.int(3));
    const span = config.maxHistory - config.minHistory;
    const length = config.minHistory + Math.min(span, Math.floor(-Math.log(1 - random.next()) * Math.max(1, span / 3)));
    const history: number[] = [];
    const seen = new Set<number>();
    const fresh = (pool: number[], cum: Float64Array): number => {
      if (pool.length === 0) return -1; // small catalogs may leave a shelf or department empty
      let i = pool[random.weighted(cum)];
      // Series are entered at the start, mostly.
      if (items[i].step > 1 && random.next() < 0.8) i = series[items[i].series][0];
      return i;
    };
    while (history.length < length) {
      const last = history.length ? history[history.length - 1] : -1;
      let next = -1;
      let kind = 'noise';
      const roll = random.next();
      if (last >= 0 && items[last].series >= 0 && roll < P_SERIES) {
        const steps = series[items[last].series];
        if (items[last].step < steps.length) {
          next = steps[items[last].step];
          kind = 'series';
        }
      }
      if (next < 0 && last >= 0 && roll < P_SERIES + P_COMPLEMENT) {
        const leaf = random.pick(leaves[items[last].leaf].complements);
        next = fresh(byLeaf[leaf], leafCumulative[leaf]);
        kind = next >= 0 ? 'complement' : 'noise';
      }
      if (next < 0 && roll < P_SERIES + P_COMPLEMENT + P_PREFERENCE + (last < 0 ? 1 : 0)) {
        const d = random.pick(preferred);
        next = fresh(byDept[d], deptCumulative[d]);
        kind = next >= 0 ? 'preference' : 'noise';
      }
      if (next < 0) next = fresh(all, allCumulative);
      if (seen.has(next)) continue; // no repeats: draw again
      seen.add(next);
      history.push(next);
      transitions[kind] += history.length > 1 ? 1 : 0;
    }
    userKeys.push(`user-${String(u + 1).padStart(userWidth, '0')}`);
    histories.push(Int32Array.from(history, (i) => keyOrder[i]));
    const times = new Float64Array(length);
    let t = 1_600_000_000 + Math.floor(random.next() * 30_000_000);
    for (let j = 0; j < length; j++) {
      t += Math.floor(-Math.log(1 - random.next()) * 5 * 86400);
      times[j] = t;
    }
    timestamps.push(times);
  }

  // Items in key (= id) order, text from the import template, so generated and imported data look alike.
  const template = compileTextTemplate(DEFAULT_TEXT_TEMPLATE);
  const byId = new Array<GeneratedItem>(items.length);
  items.forEach((item, i) => { byId[keyOrder[i]] = item; });
  const catalog: Items = { keys: [], texts: [], categories: [] };
  for (const item of byId) {
    const categories = [...leaves[item.leaf].path];
    catalog.keys.push(item.key);
    catalog.categories.push(categories);
    catalog.texts.push(template({ title: item.title, brand: item.brand, categories }, item.key));
  }
  return {
    items: catalog,
    sequences: { userKeys, items: histories, timestamps },
    stats: { seriesCount: series.length, itemsInSeries: items.filter((i) => i.series >= 0).length, transitions },
  };
}

/** `semid data generate`: writes the synthetic data set to `out` (atomically, replacing it). */
export async function generateDataset(out: string, partial: Partial<GenerateConfig> = {}): Promise<{ manifest: Manifest; seconds: number }> {
  const start = performance.now();
  const config = resolveGenerateConfig(partial);
  const { items, sequences, stats } = generateData(config);
  const manifest = await writeDataset(out, {
    items, sequences,
    source: { format: 'generated', generator: 'semid synthetic v1', ...config, textTemplate: DEFAULT_TEXT_TEMPLATE },
    extra: { generatorStats: stats },
  });
  return { manifest, seconds: (performance.now() - start) / 1000 };
}

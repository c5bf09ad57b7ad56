// `scale`: data far larger than the public sets. A MovieLens-25M-shaped ratings.csv (25M rows, 162,541
// users, 59,047 items, ~680 MB; SEMID_BENCH_SCALE=10 for 250M rows) is generated into the suite's scratch
// directory (deleted afterwards, never committed), then imported as `csv` and as `movielens`, each part in
// its own process so that its peak RSS (VmHWM: node + DuckDB) is its own. Then the catalog side: the
// prefix trie and the item code table for 10M items (build time, bytes per item, lookup time).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { benchmarkTrie } from '../decoding/index.js';
import { importDataset, type ImportFormat } from '../pipelines/index.js';
import { ML25M_SHAPE, writeInteractionsFile, type InteractionsFileConfig } from './interactionsFile.js';
import { peakRssMiB } from './measure.js';
import type { Figure, Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

const QUICK_SHAPE: InteractionsFileConfig = { rows: 20_000, users: 400, items: 2_000, seed: 25 };

function shape(quick: boolean): InteractionsFileConfig {
  if (quick) return QUICK_SHAPE;
  const times = Number(process.env.SEMID_BENCH_SCALE ?? 1);
  if (!Number.isInteger(times) || times < 1) throw new Error(`SEMID_BENCH_SCALE must be an integer >= 1, got ${process.env.SEMID_BENCH_SCALE}`);
  return { ...ML25M_SHAPE, rows: ML25M_SHAPE.rows * times, users: ML25M_SHAPE.users * times };
}

const ratingsPath = (options: SuiteOptions) => join(options.cacheDir ?? options.workDir, 'ratings.csv');

async function generate(options: SuiteOptions): Promise<Figure[]> {
  const config = shape(options.quick);
  const t0 = performance.now();
  const bytes = await writeInteractionsFile(ratingsPath(options), config);
  return [{
    key: 'scale.generate.seconds', label: `generate ${config.rows.toLocaleString('en')} ratings (${(bytes / 2 ** 20).toFixed(0)} MiB CSV)`,
    value: (performance.now() - t0) / 1000, unit: 's', higherIsBetter: false, detail: { ...config, bytes },
  }];
}

async function importFile(options: SuiteOptions, format: ImportFormat): Promise<Figure[]> {
  const path = ratingsPath(options);
  await stat(path).catch(() => { throw new Error(`${path}: not generated (the "generate" part runs first)`); });
  const t0 = performance.now();
  const { manifest } = await importDataset({
    format, interactions: path, ratings: path, out: join(options.workDir, 'dataset'), quiet: true,
  });
  const seconds = (performance.now() - t0) / 1000;
  const detail = { users: manifest.users, items: manifest.items, interactions: manifest.interactions, threads: process.env.SEMID_ENGINE_THREADS ?? 'all' };
  const what = `import ${manifest.interactions.toLocaleString('en')} ratings --format ${format}`;
  return [
    { key: `scale.import.${format}.seconds`, label: what, value: seconds, unit: 's', higherIsBetter: false, detail },
    { key: `scale.import.${format}.peakRssMiB`, label: `${what}: peak RSS (node + DuckDB)`, value: peakRssMiB(), unit: 'MiB', higherIsBetter: false },
  ];
}

/** The prefix trie and the item code table for 10M random 4-level IDs (256 codes a level). */
async function catalog(options: SuiteOptions): Promise<Figure[]> {
  const items = options.quick ? 20_000 : 10_000_000;
  const b = benchmarkTrie({ items, levels: [256, 256, 256, 256], seed: 7 });
  const tableBytes = items * b.levels.length * Int32Array.BYTES_PER_ELEMENT; // codes.parquet in memory: one int32 per level
  const what = `${items.toLocaleString('en')} items, 4 x 256 codes`;
  return [
    { key: 'scale.trie.buildSeconds', label: `trie build, ${what}`, value: b.buildMs / 1000, unit: 's', higherIsBetter: false, detail: { nodesPerDepth: b.nodesPerDepth } },
    { key: 'scale.trie.bytesPerItem', label: `trie memory per item, ${what}`, value: b.bytes / items, unit: 'B', higherIsBetter: false, detail: { bytes: b.bytes } },
    { key: 'scale.trie.lookupNs', label: `trie lookup of a full ID, ${what}`, value: b.lookupNs, unit: 'ns', higherIsBetter: false },
    { key: 'scale.codeTable.bytesPerItem', label: 'item code table per item (Int32Array, 4 levels)', value: tableBytes / items, unit: 'B', higherIsBetter: false },
    { key: 'scale.catalog.peakRssMiB', label: `trie + code table, ${what}: peak RSS`, value: peakRssMiB(), unit: 'MiB', higherIsBetter: false },
  ];
}

const PARTS: Record<string, (o: SuiteOptions) => Promise<Figure[]>> = {
  generate,
  'import-csv': (o) => importFile(o, 'csv'),
  'import-movielens': (o) => importFile(o, 'movielens'),
  catalog,
};

export const scaleSuite: Suite = {
  name: 'scale',
  describe: 'MovieLens-25M-shaped ratings.csv (25M rows; SEMID_BENCH_SCALE=10: 250M): generate, then import as csv and movielens (time, peak RSS); trie + code table for 10M items',
  usesBackend: false,
  threadsVariant: false,
  webgpuVariant: false,
  // Full runs: one process per part (its own peak RSS). --quick: one process for all, to stay fast.
  parts: ({ quick }) => (quick ? [] : Object.keys(PARTS)),
  async run(options: SuiteOptions, _variant: Variant): Promise<VariantOutput> {
    const parts = options.part ? [options.part] : Object.keys(PARTS);
    const figures: Figure[] = [];
    for (const part of parts) {
      const run = PARTS[part];
      if (!run) throw new Error(`scale: unknown part "${part}" (expected one of ${Object.keys(PARTS).join(', ')})`);
      figures.push(...(await run(options)));
    }
    return { figures, notes: [] };
  },
};

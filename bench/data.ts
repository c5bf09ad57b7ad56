// `data`: importing Amazon Beauty (22,363 users, 12,101 items; Beauty.txt + items JSONL -> Parquet data
// set) and generating the default synthetic data set, with the functions `semid data` runs.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_GENERATE, generateData, generateDataset, importDataset, type Manifest } from '../pipelines/index.js';
import { beautyAbsent, beautyFiles, importBeauty } from './datasets.js';
import { summarize, timeRepeated } from './measure.js';
import type { Figure, Suite, SuiteOptions, Variant, VariantOutput } from './types.js';

const FULL = { warmup: 1, runs: 3, generate: DEFAULT_GENERATE };
const QUICK = { warmup: 0, runs: 2, generate: { ...DEFAULT_GENERATE, users: 200, items: 120 } };

function counts(m: Manifest): Record<string, number> {
  return { users: m.users, items: m.items, interactions: m.interactions };
}

export const dataSuite: Suite = {
  name: 'data',
  describe: 'import Amazon Beauty (s3rec text + items JSONL -> Parquet) and generate the default synthetic data set',
  usesBackend: false,
  threadsVariant: false,
  webgpuVariant: false,
  async run(options: SuiteOptions, _variant: Variant): Promise<VariantOutput> {
    const c = options.quick ? QUICK : FULL;
    const figures: Figure[] = [];
    const notes: string[] = [];
    // Import: Beauty in a full run; in --quick, the generated data written as s3rec lines (same importer).
    const beauty = options.quick ? null : beautyFiles(options.dataDir);
    let importFiles = beauty;
    let importName = 'Amazon Beauty';
    if (!importFiles) {
      if (!options.quick) notes.push(beautyAbsent(options.dataDir));
      else {
        const g = generateData(c.generate);
        const sequences = join(options.workDir, 'quick.txt');
        await writeFile(sequences, g.sequences.items.map((h, u) => `${u + 1} ${Array.from(h, (i) => i + 1).join(' ')}`).join('\n'));
        importFiles = { sequences, items: '' };
        importName = 'generated histories as s3rec text';
      }
    }
    if (importFiles) {
      const files = importFiles;
      let manifest: Manifest | null = null;
      const out = join(options.workDir, 'imported');
      const seconds = await timeRepeated(async () => {
        const r = files.items ? await importBeauty(files, out) : await importDataset({ format: 's3rec', sequences: files.sequences, out, quiet: true });
        manifest = r.manifest;
      }, { warmup: c.warmup, runs: c.runs });
      const samples = summarize(seconds);
      figures.push({
        key: 'data.import.seconds', label: `import ${importName}`, value: samples.median, unit: 's', higherIsBetter: false, samples,
        detail: { format: 's3rec', ...counts(manifest!) },
      });
    }
    let generated: Manifest | null = null;
    const seconds = await timeRepeated(async () => {
      generated = (await generateDataset(join(options.workDir, 'generated'), c.generate)).manifest;
    }, { warmup: c.warmup, runs: c.runs });
    const samples = summarize(seconds);
    figures.push({
      key: 'data.generate.seconds', label: `generate default data (${c.generate.users} users, ${c.generate.items} items)`,
      value: samples.median, unit: 's', higherIsBetter: false, samples, detail: { config: c.generate, ...counts(generated!) },
    });
    return { figures, notes };
  },
};

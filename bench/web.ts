// `web`: the demo model exported for the browser (`semid export`): the folder's size (total and gzip, and
// what a wasm page downloads), then in headless Chromium on wasm (WebGPU hidden): the time from a cold
// page to the first recommendation (fetch semid.js, wasm, model and catalog, compile, one beam search),
// and recommendations per second for one visitor at a time (beam 20, top 10), as the demo page asks.
// Skipped with a note when no Chromium is installed. Chromium inherits the bench's CPU affinity.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { demoConfig } from '../pipelines/demo.js';
import { readDataset } from '../pipelines/data/index.js';
import { resolvePipelineConfig } from '../pipelines/runConfig.js';
import { runPipeline } from '../pipelines/stages.js';
import { exportWeb, runExportPaths, serveStatic } from '../pipelines/web/index.js';
import { summarize } from './measure.js';
import type { Figure, Suite, SuiteOptions, VariantOutput } from './types.js';

const CHROMIUM = process.env.SEMID_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

interface WebBenchConfig { coldLoads: number; users: number; warmup: number }
const FULL: WebBenchConfig = { coldLoads: 5, users: 200, warmup: 10 };
const QUICK: WebBenchConfig = { coldLoads: 1, users: 5, warmup: 1 };

async function trainedRun(options: SuiteOptions): Promise<string> {
  const demo = await demoConfig();
  // Full: the demo itself (`semid demo`'s config). Quick: a small run of it.
  const config = options.quick
    ? resolvePipelineConfig({ ...demo, data: { source: 'generate', generate: { users: 300, items: 150, seed: 3 } }, embed: { ...demo.embed, dim: 32 }, tokenize: { ...demo.tokenize, codebookSize: 8 },
      train: { ...demo.train, trainer: { steps: 10, batchSize: 32 }, validUsers: 0 }, eval: { ...demo.eval, maxUsers: 20 }, recommend: { ...demo.recommend, users: 5 } })
    : demo;
  const runDir = join(options.workDir, 'run');
  await runPipeline({ config, runDir, report: false, log: () => undefined });
  return runDir;
}

export const webSuite: Suite = {
  name: 'web',
  describe: 'semid export of the demo model: folder size (gzip), time to first recommendation and recommendations/s in headless Chromium (wasm)',
  usesBackend: false,
  threadsVariant: false,
  webgpuVariant: false,
  async run(options: SuiteOptions): Promise<VariantOutput> {
    const c = options.quick ? QUICK : FULL;
    const runDir = await trainedRun(options);
    const paths = runExportPaths(runDir);
    const exported = await exportWeb({ ...paths, itemsText: true });
    const notes: string[] = [];
    const figures: Figure[] = [
      { key: 'web.demo.exportBytes', label: 'export folder of the demo model, all files', value: exported.totalBytes, unit: 'bytes', higherIsBetter: false, detail: { files: exported.manifest.bytes } },
      { key: 'web.demo.exportGzipBytes', label: 'export folder, each file gzipped (-9)', value: exported.gzipBytes, unit: 'bytes', higherIsBetter: false },
      { key: 'web.demo.pageGzipBytes', label: 'what a wasm page downloads, gzipped (one wasm binary)', value: exported.pageBytes.gzip, unit: 'bytes', higherIsBetter: false, detail: { raw: exported.pageBytes.raw } },
    ];
    if (!CHROMIUM) {
      notes.push('no Chromium (apt-get install chromium, or SEMID_CHROMIUM): browser timings skipped');
      return { figures, notes };
    }
    const dataset = await readDataset(paths.data);
    const histories = Array.from({ length: c.warmup + c.users }, (_, i) => {
      const seq = dataset.sequences.items[(i * 7) % dataset.sequences.items.length];
      return Array.from(seq.subarray(Math.max(0, seq.length - 20)), (item) => dataset.items.keys[item]);
    });
    const server = await serveStatic(runDir);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    try {
      const url = `${server.url}web/`;
      const firstMs: number[] = [];
      let perSecond = 0;
      let backend = '';
      for (let i = 0; i < c.coldLoads; i++) {
        const context = await browser.newContext(); // a cold cache each time
        const page = await context.newPage();
        await page.addInitScript('Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined })'); // wasm
        await page.goto(`${url}manifest.json`); // same origin, nothing loaded yet
        const result = await page.evaluate(async ({ url, histories, warmup, last }) => {
          const t0 = performance.now();
          const semid = await import(`${url}semid.js`);
          const recommender = await semid.load(url, { backend: 'wasm' });
          await recommender.recommend(histories[0], { topK: 10, beam: 20 });
          const first = performance.now() - t0;
          if (!last) return { first, perSecond: 0, backend: recommender.backendDetail as string };
          for (let k = 1; k < warmup; k++) await recommender.recommend(histories[k], { topK: 10, beam: 20 });
          const t1 = performance.now();
          for (let k = warmup; k < histories.length; k++) await recommender.recommend(histories[k], { topK: 10, beam: 20 });
          return { first, perSecond: (histories.length - warmup) / ((performance.now() - t1) / 1000), backend: recommender.backendDetail as string };
        }, { url, histories, warmup: c.warmup, last: i === c.coldLoads - 1 });
        firstMs.push(result.first);
        if (result.perSecond) perSecond = result.perSecond;
        backend = result.backend;
        await context.close();
      }
      const first = summarize(firstMs.map((ms) => ms / 1000));
      const version = browser.version();
      figures.push(
        { key: 'web.demo.firstRecommendationSec', label: `cold page to first top-10 in headless Chromium ${version}, wasm`, value: first.median, unit: 's', higherIsBetter: false, samples: first, detail: { backend } },
        { key: 'web.demo.recsPerSec', label: `recommendations/s, one visitor per call (beam 20, top 10, history <= 20), Chromium ${version}, wasm`, value: perSecond, unit: 'recs/s', higherIsBetter: true, detail: { users: c.users, warmup: c.warmup, backend } },
      );
    } finally {
      await browser.close();
      await server.close();
    }
    return { figures, notes };
  },
};

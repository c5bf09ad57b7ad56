// The export in a real headless Chromium (Debian's `chromium`, driven by playwright-core; .ci/run installs
// it, tolerantly): serve the folder on 127.0.0.1, open index.html, click three catalog items, and check
// that the rendered top 10 is `semid recommend`'s for that history, with no console errors, on wasm (WebGPU
// hidden) and on WebGPU (Chromium's SwiftShader adapter, where it gives one). Also: the run report opens
// with its charts rendered. Without Chromium these tests skip with a message (SEMID_CHROMIUM=/path picks
// one; SEMID_REQUIRE_CHROMIUM=1, set by .ci/run once it installed Chromium, makes a missing one a failure).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { readDataset } from '../../pipelines/data/index.js';
import { serveStatic, type StaticServer } from '../../pipelines/web/index.js';
import { buildTinyRun, semidRecommend, type TinyRun } from './tinyRun.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const chromium = (process.env.SEMID_CHROMIUM ? [process.env.SEMID_CHROMIUM] : CANDIDATES).find((p) => existsSync(p));
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];
/** Runs in the page before its scripts: WebGPU off (this Chromium keeps navigator.gpu under --disable-features=WebGPU). */
const HIDE_WEBGPU = 'Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined })';
/** The page's recs list, as the test reads it (code below runs in the browser; the project has no DOM types). */
const recsAttribute = (name: string) => `document.querySelector('#recs')?.getAttribute(${JSON.stringify(name)})`;

if (!chromium) {
  const message = `browser tests skipped: no Chromium at ${process.env.SEMID_CHROMIUM ?? CANDIDATES.join(', ')} (apt-get install chromium, or set SEMID_CHROMIUM)`;
  if (process.env.SEMID_REQUIRE_CHROMIUM === '1') test('Chromium is installed (SEMID_REQUIRE_CHROMIUM=1)', () => { throw new Error(message); });
  else console.warn(message);
}
const describeBrowser = chromium ? describe : describe.skip;

async function launch(args: string[] = []): Promise<Browser> {
  const { chromium: driver } = await import('playwright-core');
  return driver.launch({ executablePath: chromium, headless: true, args });
}

/** A page that records console errors and uncaught exceptions. */
async function openPage(browser: Browser, url: string, hideWebGpu = false): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  if (hideWebGpu) await page.addInitScript(HIDE_WEBGPU);
  await page.goto(url, { timeout: 120_000 }); // a busy single core can take over playwright's 30 s default to load the page
  return { page, errors };
}

/** Clicks each item in the catalog (searching for its key) and returns the rendered top 10 for that history. */
async function recommendByClicks(page: Page, keys: string[], timeout: number): Promise<{ keys: string[]; scores: number[] }> {
  await page.waitForSelector('body[data-ready=true], #error:not(:empty)', { timeout });
  expect(await page.textContent('#error')).toBe('');
  for (const key of keys) {
    await page.fill('#search', key);
    await page.click(`#catalog button[data-key="${key}"]`);
  }
  // Done when the list shows this history's top 10, or as soon as the page reports an error.
  await page.waitForFunction(
    `${recsAttribute('data-state')} === 'error' || (${recsAttribute('data-state')} === 'ready' && ${recsAttribute('data-history')} === ${JSON.stringify(JSON.stringify(keys))})`,
    undefined, { timeout },
  );
  expect(await page.textContent('#error')).toBe('');
  const rows = await page.$$eval('#recs > li', (items) => items.map((li) => [li.getAttribute('data-key') ?? '', Number(li.getAttribute('data-score'))] as const));
  return { keys: rows.map((r) => r[0]), scores: rows.map((r) => r[1]) };
}

describeBrowser('the demo\'s causal model in headless Chromium', () => {
  let dir: string;
  let run: TinyRun;
  let server: StaticServer;
  beforeAll(async () => {
    process.env.SEMID_QUIET = '1';
    dir = await mkdtemp(join(tmpdir(), 'semid-browser-causal-'));
    run = await buildTinyRun(dir, 'causal');
    server = await serveStatic(dir);
  });
  afterAll(async () => {
    delete process.env.SEMID_QUIET;
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('index.html on wasm: exact catalog ranking renders `semid recommend`\'s top 10, no console errors', async () => {
    const dataset = await readDataset(run.data);
    const seq = dataset.sequences.items[2];
    const history = Array.from(seq.subarray(seq.length - 3), (i) => dataset.items.keys[i]);
    const expected = await semidRecommend(run, dir, history);
    const browser = await launch();
    try {
      const { page, errors } = await openPage(browser, `${server.url}run/web/index.html`, true);
      const got = await recommendByClicks(page, history, 60_000);
      expect(got.keys).toEqual(expected.keys);
      got.scores.forEach((s, i) => expect(Math.abs(s - expected.scores[i])).toBeLessThan(1e-4));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describeBrowser('in headless Chromium', () => {
  let dir: string;
  let run: TinyRun;
  let server: StaticServer;
  let history: string[];
  let expected: { keys: string[]; scores: number[] };
  beforeAll(async () => {
    process.env.SEMID_QUIET = '1';
    dir = await mkdtemp(join(tmpdir(), 'semid-browser-'));
    run = await buildTinyRun(dir);
    server = await serveStatic(dir);
    const dataset = await readDataset(run.data);
    const seq = dataset.sequences.items[1];
    history = Array.from(seq.subarray(seq.length - 3), (i) => dataset.items.keys[i]);
    expected = await semidRecommend(run, dir, history);
  });
  afterAll(async () => {
    delete process.env.SEMID_QUIET;
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('index.html on wasm (WebGPU hidden): three clicks render `semid recommend`\'s top 10, no console errors', async () => {
    const browser = await launch();
    try {
      const { page, errors } = await openPage(browser, `${server.url}run/web/index.html`, true);
      const got = await recommendByClicks(page, history, 60_000);
      expect(await page.getAttribute('#status', 'data-backend')).toBe('wasm');
      expect(await page.textContent('#status')).toContain('Backend: wasm (simd=true');
      expect(got.keys).toEqual(expected.keys);
      got.scores.forEach((s, i) => expect(Math.abs(s - expected.scores[i])).toBeLessThan(1e-4));
      // Removing a history item re-renders for the shorter history.
      await page.click(`#history button[data-key="${history[0]}"]`);
      await page.waitForFunction(`${recsAttribute('data-history')} === ${JSON.stringify(JSON.stringify(history.slice(1)))}`);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('index.html on WebGPU where Chromium gives an adapter (SwiftShader): the same top 10, scores within 1e-3', async () => {
    const browser = await launch(WEBGPU_FLAGS);
    try {
      const { page, errors } = await openPage(browser, `${server.url}run/web/`);
      // SwiftShader emulates the GPU on the CPU and compiles a shader per kernel shape: slow on a busy core.
      const got = await recommendByClicks(page, history, 240_000);
      const backend = await page.getAttribute('#status', 'data-backend');
      const hasAdapter = await page.evaluate('(async () => Boolean(navigator.gpu && await navigator.gpu.requestAdapter()))()');
      // The page picks WebGPU exactly when there is an adapter, and says so.
      expect(backend).toBe(hasAdapter ? 'webgpu' : 'wasm');
      if (!hasAdapter) console.warn('WebGPU check ran on wasm: this Chromium gave no SwiftShader adapter');
      expect(got.keys).toEqual(expected.keys);
      got.scores.forEach((s, i) => expect(Math.abs(s - expected.scores[i])).toBeLessThan(1e-3));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);

  it('the run report (semid report) opens with every chart rendered and no console errors', async () => {
    const browser = await launch();
    try {
      // Opened as a file, the way a user opens the self-contained report.
      const { page, errors } = await openPage(browser, pathToFileURL(join(run.runDir, 'report.html')).href);
      const figures = await page.$$eval('figure[id^="plot-"]', (fs) => fs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { id: f.id, width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('path, rect, line, circle').length ?? 0 };
      }));
      expect(figures.map((f) => f.id)).toEqual(expect.arrayContaining(['plot-loss', 'plot-valid-recall', 'plot-codebook', 'plot-baselines']));
      for (const f of figures) {
        expect(f.width).toBeGreaterThan(100);
        expect(f.height).toBeGreaterThan(50);
        expect(f.marks).toBeGreaterThan(3);
      }
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

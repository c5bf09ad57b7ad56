// The browser build's entry (bundled by bundle.ts into WEBDIR/semid.js): loads an exported model with a few
// fetches and recommends client-side with the same seq2seq/ and decoding/ code as `semid recommend`:
//
//   import { load } from './semid.js';
//   const semid = await load('./');                       // the export folder's URL
//   const top = await semid.recommend(['item-3', 'item-9'], { topK: 10, beam: 20 });
//
// Backend: WebGPU where the browser gives an adapter, else wasm (SIMD; threads where the page is
// cross-origin isolated) with semid's fused wasm kernels. No node: imports in this file; anything node-only
// that the public surfaces reach is stubbed by the bundle (and never called here).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { beamSearch, rankCatalog } from '../../decoding/index.js';
import { backendTraits, modelFromArtifacts, registerWasmKernels, type ModelManifest } from '../../seq2seq/index.js';
import { decodeCatalog } from './catalogFile.js';
import { WASM_DIR, WEB_FORMAT, WEB_VERSION, type WebManifest } from './manifest.js';

export type BackendRequest = 'auto' | 'webgpu' | 'wasm' | 'current';

export interface LoadOptions {
  /** `auto` (default): WebGPU when an adapter is there, else wasm. `current`: keep the caller's tfjs backend. */
  backend?: BackendRequest;
  /** semid's fused wasm kernels on the wasm backend (default true). */
  wasmKernels?: boolean;
  /** How files are fetched (default: global fetch); tests in Node pass a file reader. */
  fetch?: (url: string) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer>; text(): Promise<string> }>;
}

export interface RecommendOptions {
  topK?: number;
  /** Beam size (>= topK), as `semid recommend --beam`. Default 20. */
  beam?: number;
  /** Leave the history's items out (default true, as `semid recommend`). */
  excludeHistory?: boolean;
}

export interface Recommendation {
  key: string;
  item: number;
  /** Sequence log-probability of the item's semantic ID. */
  score: number;
  text?: string;
}

export interface Recommender {
  /** The tfjs backend in use (`webgpu`, `wasm`, ...) and what was tried. */
  backend: string;
  backendDetail: string;
  manifest: WebManifest;
  itemKeys: string[];
  itemTexts: string[] | null;
  recommend(historyItemKeys: readonly string[], options?: RecommendOptions): Promise<Recommendation[]>;
  dispose(): void;
}

type Fetcher = NonNullable<LoadOptions['fetch']>;

async function fetchOk(fetcher: Fetcher, url: string): Promise<Awaited<ReturnType<Fetcher>>> {
  const response = await fetcher(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return response;
}

async function fetchJson<T>(fetcher: Fetcher, url: string): Promise<T> {
  const text = await (await fetchOk(fetcher, url)).text();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${url} is not valid JSON: ${(err as Error).message}`);
  }
}

async function fetchBytes(fetcher: Fetcher, url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetchOk(fetcher, url)).arrayBuffer());
}

interface Gpu { requestAdapter(): Promise<unknown> }

async function webGpuAdapter(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** Sets up tfjs: WebGPU when asked or (auto) when an adapter exists, else wasm from the export's wasm/ folder. */
async function useBackend(base: string, request: BackendRequest, wasmKernels: boolean): Promise<{ name: string; detail: string }> {
  if (request === 'current') {
    await tf.ready();
    return { name: backendTraits().name, detail: 'the caller\'s tfjs backend' };
  }
  const tried: string[] = [];
  if (request === 'webgpu' || request === 'auto') {
    if (await webGpuAdapter()) {
      try {
        if (await tf.setBackend('webgpu')) {
          await tf.ready();
          return { name: 'webgpu', detail: 'WebGPU adapter' };
        }
        tried.push('webgpu: failed to initialise');
      } catch (err) {
        tried.push(`webgpu: ${(err as Error).message}`);
      }
    } else {
      tried.push('webgpu: no adapter (navigator.gpu absent or requestAdapter() gave none)');
    }
    if (request === 'webgpu') throw new Error(`backend "webgpu" is not available: ${tried.join('; ')}`);
  }
  setWasmPaths(new URL(WASM_DIR, base).href);
  if (wasmKernels) registerWasmKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error(`no tfjs backend could be initialised (${[...tried, 'wasm: failed to initialise'].join('; ')})`);
  await tf.ready();
  tf.enableProdMode();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const skipped = tried.length ? `; ${tried.join('; ')}` : '';
  return { name: 'wasm', detail: `simd=${simd}, threads=${threads}, semid kernels=${wasmKernels}${skipped}` };
}

function checkOption(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`\`${name}\` must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/** Loads an export folder (`url` is its base URL, e.g. './' or 'https://cdn.example/semid/'). */
export async function load(url: string, options: LoadOptions = {}): Promise<Recommender> {
  const fetcher: Fetcher = options.fetch ?? ((u) => fetch(u));
  const base = new URL(url.endsWith('/') ? url : `${url}/`, (globalThis as { location?: { href: string } }).location?.href).href;
  const manifest = await fetchJson<WebManifest>(fetcher, new URL('manifest.json', base).href);
  if (manifest.format !== WEB_FORMAT) throw new Error(`${base}manifest.json: not a semid web export (format ${JSON.stringify(manifest.format)})`);
  if (manifest.version > WEB_VERSION) throw new Error(`${base}manifest.json: export format version ${manifest.version} is newer than this semid.js (${WEB_VERSION})`);
  const backend = await useBackend(base, options.backend ?? 'auto', options.wasmKernels ?? true);
  const [modelJson, weights, catalogBytes, items] = await Promise.all([
    fetchJson<ModelManifest>(fetcher, new URL(manifest.files.model, base).href),
    fetchBytes(fetcher, new URL(manifest.files.weights, base).href),
    fetchBytes(fetcher, new URL(manifest.files.catalog, base).href),
    fetchJson<{ keys: string[]; texts?: string[] }>(fetcher, new URL(manifest.files.items, base).href),
  ]);
  const catalog = decodeCatalog(catalogBytes, `${base}${manifest.files.catalog}`);
  if (items.keys.length !== catalog.trie.items) {
    throw new Error(`${base}${manifest.files.items} has ${items.keys.length} item keys, the catalog ${catalog.trie.items} items`);
  }
  const model = modelFromArtifacts(modelJson, weights, `${base}${manifest.files.model}`);
  const itemCodes = { levels: catalog.levels, codes: catalog.codes };
  const scorer = model.scorer(itemCodes);
  const itemOf = new Map(items.keys.map((k, i) => [k, i]));
  const texts = items.texts ?? null;
  let queue: Promise<unknown> = Promise.resolve();

  const recommendNow = async (keys: readonly string[], opts: RecommendOptions): Promise<Recommendation[]> => {
    const topK = checkOption('topK', opts.topK ?? 10, 1);
    const beamSize = checkOption('beam', opts.beam ?? 20, topK);
    const history = Int32Array.from(keys, (key) => {
      const item = itemOf.get(key);
      if (item === undefined) throw new Error(`unknown item key ${JSON.stringify(key)}: not in this export's catalog`);
      return item;
    });
    if (history.length === 0) return []; // as `semid recommend`: no history, no recommendations
    const recent = history.subarray(Math.max(0, history.length - manifest.maxHistory));
    // An anonymous user (-1), as `semid recommend --input` serves a user key the data set does not know.
    const contexts = [{ user: -1, history: recent }];
    const excludeHistory = opts.excludeHistory ?? true;
    const candidates = scorer.kind === 'beam'
      ? (await beamSearch(scorer.step, catalog.trie, contexts, { topK, beamSize, excludeHistory })).candidates
      : await rankCatalog(scorer.catalog, contexts, { topK, excludeHistory });
    return candidates[0].map((c) => ({ key: items.keys[c.item], item: c.item, score: c.score, ...(texts ? { text: texts[c.item] } : {}) }));
  };

  return {
    backend: backend.name,
    backendDetail: backend.detail,
    manifest,
    itemKeys: items.keys,
    itemTexts: texts,
    // One search at a time: calls queue up (a page may ask again before the last answer arrives).
    recommend(keys, opts = {}) {
      const result = queue.then(() => recommendNow(keys, opts));
      queue = result.catch(() => undefined);
      return result;
    },
    dispose() {
      model.dispose();
    },
  };
}

// `semid export`: a trained model as a static folder that any web server or CDN can host, recommending in
// the visitor's browser with no inference server:
//
//   index.html      the demo page (browse/search the catalog, click items into a history, see the top 10)
//   semid.js        the browser build: `load(url)` -> `recommend(historyItemKeys, { topK, beam })`
//   manifest.json   what the folder holds (read first)
//   model.json      the model's own format: config, vocabulary layout, weight manifest, weights sha256
//   weights.bin     all weights, one float32 little-endian buffer in manifest order
//   catalog.bin     the item code table and the catalog trie (catalog.ts)
//   items.json      item keys (and texts with --items-text), in item-id order
//   wasm/           the tfjs wasm binaries (plain, SIMD, threaded SIMD)
//
// The weights stay one binary + JSON manifest, the format `semid train` writes, rather than tfjs weight
// shards: semid's models are not tfjs LayersModels (nothing would read the shards' layer topology), two
// fetches load them bit for bit with the same checksum test as in Node, and a model of a few MB gains
// nothing from 4 MB shards (a CDN serves one file of this size as well as several).
// The folder is written atomically (a temp folder renamed into place).
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { PrefixTrie } from '../../decoding/index.js';
import { initBackend, loadModel, modelArtifacts, MODEL_FILE, WEIGHTS_FILE } from '../../seq2seq/index.js';
import { writeDirAtomic } from '../../tokenizer/io/index.js';
import { DEFAULT_MAX_HISTORY, domainIndex, readDataset } from '../data/index.js';
import { readItemCodes } from '../tokenize.js';
import { buildBrowserBundle } from './bundle.js';
import { encodeCatalog } from './catalogFile.js';
import { WASM_DIR, WEB_FORMAT, WEB_MANIFEST_FILE, WEB_VERSION, type WebManifest } from './manifest.js';

export const PAGE_TEMPLATE = fileURLToPath(new URL('./index.html', import.meta.url));
const FILES = { model: MODEL_FILE, weights: WEIGHTS_FILE, catalog: 'catalog.bin', items: 'items.json', bundle: 'semid.js', page: 'index.html' };

export interface ExportWebOptions {
  /** Data set directory (item keys and texts). */
  data: string;
  /** Tokenizer directory (codes.parquet). */
  tokenizer: string;
  /** MODELDIR (model.json + weights.bin). */
  model: string;
  /** WEBDIR, replaced as a whole. */
  out: string;
  /** Put item texts into items.json for display. */
  itemsText?: boolean;
  /** History items used per request (default 20, as `semid recommend`). */
  maxHistory?: number;
  log?: (message: string) => void;
}

export interface ExportWebResult {
  out: string;
  manifest: WebManifest;
  /** Bytes of all files, and of each gzipped (what a server with gzip sends). */
  totalBytes: number;
  gzipBytes: number;
  /** What a page on the wasm backend downloads: everything but the wasm binaries it does not pick. */
  pageBytes: { raw: number; gzip: number };
}

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

function wasmDist(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** A run directory's inputs of an export (`semid export --run RUN`), as `semid run` lays them out. */
export function runExportPaths(runDir: string): Pick<ExportWebOptions, 'data' | 'tokenizer' | 'model' | 'out'> {
  return { data: join(runDir, 'embed'), tokenizer: join(runDir, 'tokenize'), model: join(runDir, 'train'), out: join(runDir, 'web') };
}

/** Writes the export folder; returns its manifest and sizes. */
export async function exportWeb(options: ExportWebOptions): Promise<ExportWebResult> {
  const log = options.log ?? (() => undefined);
  const maxHistory = options.maxHistory ?? DEFAULT_MAX_HISTORY;
  if (!Number.isInteger(maxHistory) || maxHistory < 1) throw new Error(`--max-history must be an integer >= 1, got ${maxHistory}`);
  const dataset = await readDataset(options.data);
  if (domainIndex(dataset)) {
    throw new Error(`${options.data} is a multi-domain data set: the browser export does not restrict recommendations to a visitor's domain nor set the domain token yet; export a model of a single-domain data set`);
  }
  const codes = await readItemCodes(options.tokenizer);
  const trie = PrefixTrie.build(codes);
  if (trie.items !== dataset.items.keys.length) {
    throw new Error(`the tokenizer ${options.tokenizer} has codes for ${trie.items} items but the data set ${options.data} has ${dataset.items.keys.length}`);
  }
  await initBackend({ quiet: true });
  // Loading checks the weights against model.json (checksum, names, shapes); the export writes them back
  // out unchanged (modelArtifacts is what saveModel writes).
  const model = await loadModel(options.model);
  try {
    const levels = model.vocab.levels;
    if (levels.join(',') !== codes.levels.join(',')) {
      throw new Error(`the model ${options.model} was trained on semantic IDs with levels [${levels}], the tokenizer ${options.tokenizer} has [${codes.levels}]`);
    }
    const { manifest: modelManifest, bytes: weights } = await modelArtifacts(model);
    let parameters = 0;
    for (const v of model.params.vars.values()) parameters += v.size;
    log(`export: bundling the browser build (esbuild)`);
    const bundle = await buildBrowserBundle();
    const page = await readFile(PAGE_TEMPLATE, 'utf8');
    const items = { keys: dataset.items.keys, ...(options.itemsText ? { texts: dataset.items.texts } : {}) };
    let manifest: WebManifest | undefined;
    const sizes: Record<string, number> = {};
    const gzipped: Record<string, number> = {};
    await writeDirAtomic(options.out, async (dir) => {
      await writeFile(join(dir, FILES.model), JSON.stringify(modelManifest));
      await writeFile(join(dir, FILES.weights), weights);
      await writeFile(join(dir, FILES.catalog), encodeCatalog({ levels: codes.levels, codes: codes.codes, trie }));
      await writeFile(join(dir, FILES.items), JSON.stringify(items));
      await writeFile(join(dir, FILES.bundle), bundle.code);
      await writeFile(join(dir, FILES.page), page);
      await mkdir(join(dir, WASM_DIR), { recursive: true });
      for (const f of WASM_FILES) await copyFile(join(wasmDist(), f), join(dir, WASM_DIR, f));
      for (const rel of await listFiles(dir)) {
        const bytes = await readFile(join(dir, rel));
        sizes[rel] = bytes.length;
        gzipped[rel] = gzipSync(bytes, { level: 9 }).length;
      }
      manifest = {
        format: WEB_FORMAT, version: WEB_VERSION, files: FILES, items: trie.items, levels: codes.levels,
        itemTexts: Boolean(options.itemsText), maxHistory,
        model: { arch: model.config.arch, parameters },
        bytes: sizes, createdAt: new Date().toISOString(),
      };
      await writeFile(join(dir, WEB_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      const own = (await stat(join(dir, WEB_MANIFEST_FILE))).size;
      sizes[WEB_MANIFEST_FILE] = own;
      gzipped[WEB_MANIFEST_FILE] = gzipSync(await readFile(join(dir, WEB_MANIFEST_FILE)), { level: 9 }).length;
    });
    const sum = (r: Record<string, number>, skip: (f: string) => boolean = () => false) => Object.entries(r).reduce((a, [f, b]) => a + (skip(f) ? 0 : b), 0);
    // A wasm page fetches one of the three binaries (SIMD in every current browser).
    const unused = (f: string) => f.startsWith(WASM_DIR) && !f.endsWith('-simd.wasm') || f.endsWith('threaded-simd.wasm');
    const result: ExportWebResult = {
      out: options.out, manifest: manifest!, totalBytes: sum(sizes), gzipBytes: sum(gzipped),
      pageBytes: { raw: sum(sizes, unused), gzip: sum(gzipped, unused) },
    };
    log(`export: ${Object.keys(sizes).length} files, ${(result.totalBytes / 1e6).toFixed(2)} MB (gzip ${(result.gzipBytes / 1e6).toFixed(2)} MB) -> ${options.out}`);
    return result;
  } finally {
    model.dispose();
  }
}

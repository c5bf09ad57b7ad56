// Tokenizer stage: embeddings of a data set -> fitted tokenizer + semantic IDs of every item, in TOKDIR:
//   tokenizer.json   method, config, `levels` (codes per position, INCLUDING the disambiguation position)
//   <state files>    the method's own (codebooks.f32, weights...)
//   codes.parquet    item_id int32, codes fixed_size_list<int32>[levels.length] (with disambiguation code)
//   report.json      codebook health (see tokenizer/report.ts)
// The tokenizer itself works in memory; this module does the Parquet I/O.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildReport, createTokenizer, disambiguate, domainCodeReport, disambiguateNew, formatReport, loadTokenizer, readTokenizerManifest,
  saveTokenizer, parseFixedIds, collisionStats, MANIFEST_FILE, type EmbeddingMatrix, type FitReport, type SemanticIds, type TokenizerReport,
} from '../tokenizer/index.js';
import {
  checkNotInput, checkOutputDir, checkOutputFile, outputMark, withLock, writeDirAtomic, writeJsonAtomic, writeMark, type OutputRule,
} from '../tokenizer/io/index.js';
import { initBackend } from '../seq2seq/index.js';
import {
  fixedSizeListVector, int32Vector, makeTable, readEmbeddings, readFixedSizeListColumn, readInt32Column,
  readInt32ListColumn, readManifest, readParquetTable, writeParquetTable, hasColumn, readDataset, domainIndex,
} from './data/index.js';

export const CODES_FILE = 'codes.parquet';
export const REPORT_FILE = 'report.json';

export interface FitTokenizerOptions {
  /** Data set directory (reads DIR/embeddings/NAME.parquet). */
  data?: string;
  /** Embeddings name in the data set (default "default"). */
  embeddings?: string;
  /** Embeddings given in memory instead of `data`/`embeddings`. */
  matrix?: EmbeddingMatrix;
  method: string;
  /** The method's config (levels, codebookSize, ...); unknown keys are rejected by the method. */
  config?: Record<string, unknown>;
  /** IDs made elsewhere, for `fixed`: a sids JSON ({"0": ["<a_1>", ...]}) or a Parquet item -> list<int>. */
  from?: string;
  /** Disambiguation codes available per ID (default: the largest codebook size). */
  dedupSize?: number;
  seed?: number;
  /** Output directory TOKDIR (replaced atomically). */
  out: string;
  silent?: boolean;
  /** Domains of the rows of `matrix` (with `data`, a multi-domain data set's own are read). */
  domains?: ItemDomains;
}

/** Each item's domain id and the domains' names. */
export interface ItemDomains {
  labels: Int32Array;
  names: string[];
}

/** The items' domains: given, or the data set's (null for a single-domain data set or a bare matrix). */
async function itemDomains(opts: FitTokenizerOptions): Promise<ItemDomains | null> {
  if (opts.domains) return opts.domains;
  if (!opts.data || opts.matrix) return null;
  const index = domainIndex(await readDataset(opts.data));
  return index ? { labels: index.itemDomain, names: index.names } : null;
}

export interface FitTokenizerResult {
  report: TokenizerReport;
  ids: SemanticIds;
}

async function loadMatrix(opts: { data?: string; embeddings?: string; matrix?: EmbeddingMatrix }): Promise<EmbeddingMatrix | null> {
  if (opts.matrix) return opts.matrix;
  if (!opts.data) return null;
  return readEmbeddings(opts.data, opts.embeddings ?? 'default');
}

/** Reads IDs made elsewhere: a sids JSON (`<a_114>` tokens keyed by 0-based item id) or Parquet item -> list<int>. */
export async function readImportedIds(path: string): Promise<SemanticIds> {
  if (path.endsWith('.parquet')) {
    const table = await readParquetTable(path);
    const itemColumn = ['item_id', 'item'].find((n) => hasColumn(table, n));
    const codesColumn = ['codes', 'sid', 'semantic_id'].find((n) => hasColumn(table, n));
    if (!itemColumn || !codesColumn) {
      throw new Error(`${path}: expected an item column (item_id or item) and a list<int> codes column (codes, sid or semantic_id), found ${table.schema.fields.map((f) => f.name).join(', ')}`);
    }
    const items = readInt32Column(table, itemColumn, path);
    const lists = readInt32ListColumn(table, codesColumn, path);
    const entries = new Map<number, number[]>();
    items.forEach((item, r) => {
      if (entries.has(item)) throw new Error(`${path}: item ${item} appears twice`);
      entries.set(item, Array.from(lists[r]));
    });
    return parseFixedIds(Object.fromEntries(entries), path);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: invalid JSON (${(err as Error).message})`);
  }
  return parseFixedIds(json, path);
}

function codesTable(ids: SemanticIds) {
  const rows = ids.codes.length / ids.levels.length;
  return makeTable({
    item_id: int32Vector(Int32Array.from({ length: rows }, (_, i) => i)),
    codes: fixedSizeListVector(ids.codes, ids.levels.length),
  });
}

/** A tokenizer directory semid may replace: its own (marked, or an older semid's tokenizer.json + codes.parquet). */
export const TOKENIZER_RULE: OutputRule = { kind: 'tokenizer', signature: [MANIFEST_FILE, CODES_FILE] };

/**
 * Fits a tokenizer, gives every item its semantic ID (with disambiguation), and writes TOKDIR, with TOKDIR locked.
 * Refused before any work: TOKDIR equal to, inside or around an input, or a directory that is not semid's tokenizer.
 */
export async function fitTokenizer(opts: FitTokenizerOptions): Promise<FitTokenizerResult> {
  checkNotInput(opts.out, { '--data': opts.data, '--from': opts.from });
  return withLock(opts.out, async () => {
    await checkOutputDir(opts.out, TOKENIZER_RULE);
    return fitTokenizerLocked(opts);
  });
}

async function fitTokenizerLocked(opts: FitTokenizerOptions): Promise<FitTokenizerResult> {
  await initBackend({ quiet: opts.silent });
  const imported = opts.from ? await readImportedIds(opts.from) : undefined;
  let x = await loadMatrix(opts);
  if (!x) {
    if (!imported) throw new Error('tokenize fit: give --data DIR (with embeddings) or, for --method fixed, --from FILE');
    const rows = imported.codes.length / imported.levels.length;
    x = { rows, dim: 0, data: new Float32Array(0) };
  }
  if (opts.data && !opts.matrix && imported === undefined) {
    const manifest = await readManifest(opts.data);
    if (manifest.items !== x.rows) throw new Error(`${opts.data}: ${x.rows} embedding rows but ${manifest.items} items`);
  }
  const tokenizer = createTokenizer(opts.method, opts.config ?? {});
  const domains = await itemDomains(opts);
  const fit: FitReport = await tokenizer.fit(x, { seed: opts.seed, silent: opts.silent, importedIds: imported, ...(domains ? { domains: domains.labels } : {}) });
  const base = tokenizer.encode(x);
  const dedupSize = opts.dedupSize ?? Math.max(...tokenizer.levels);
  const ids = disambiguate(base, dedupSize);
  const report = buildReport(tokenizer.method, ids, true, fit);
  if (domains) report.domains = domainCodeReport(ids, ids.levels.length - 1, domains.labels, domains.names);
  await writeDirAtomic(opts.out, async (dir) => {
    await saveTokenizer(tokenizer, dir, {
      levels: ids.levels, disambiguation: true, dedupSize, items: x.rows, dim: x.dim,
      seed: opts.seed ?? 0, source: { data: opts.data ?? null, embeddings: opts.data ? opts.embeddings ?? 'default' : null, from: opts.from ?? null },
    });
    await writeParquetTable(join(dir, CODES_FILE), codesTable(ids));
    await writeJsonAtomic(join(dir, REPORT_FILE), report);
    await writeMark(dir, outputMark('tokenizer'));
  });
  disposeTokenizer(tokenizer);
  return { report, ids };
}

function disposeTokenizer(tokenizer: object): void {
  const d = (tokenizer as { dispose?: () => void }).dispose;
  if (typeof d === 'function') d.call(tokenizer);
}

/** The semantic IDs of every item in TOKDIR (rows in item-id order; last position = disambiguation). */
export async function readItemCodes(tokDir: string): Promise<SemanticIds> {
  const manifest = await readTokenizerManifest(tokDir);
  const path = join(tokDir, CODES_FILE);
  const table = await readParquetTable(path);
  const items = readInt32Column(table, 'item_id', path);
  for (let i = 0; i < items.length; i++) {
    if (items[i] !== i) throw new Error(`${path}: rows must be in item-id order 0..${items.length - 1}; row ${i} has item_id ${items[i]}`);
  }
  const { width, data } = readFixedSizeListColumn(table, 'codes', path, 'int32');
  if (width !== manifest.levels.length) {
    throw new Error(`${path}: codes have ${width} positions but tokenizer.json levels has ${manifest.levels.length}`);
  }
  const codes = data as Int32Array;
  for (let i = 0; i < codes.length; i++) {
    const size = manifest.levels[i % width];
    if (codes[i] < 0 || codes[i] >= size) throw new Error(`${path}: item ${Math.floor(i / width)} position ${i % width}: code ${codes[i]} outside [0, ${size})`);
  }
  return { levels: manifest.levels.slice(), codes };
}

export interface EncodeItemsOptions {
  tokDir: string;
  data?: string;
  embeddings?: string;
  matrix?: EmbeddingMatrix;
  /** Where to write the codes (default: TOKDIR/codes.parquet, replaced atomically). */
  out?: string;
  silent?: boolean;
}

export interface EncodeItemsResult {
  ids: SemanticIds;
  /** Items that had an ID before (kept unchanged). */
  kept: number;
  /** Items that got a new ID. */
  added: number;
  /** Kept items whose codes the tokenizer would now assign differently (embedding changed); their IDs stay. */
  drifted: number;
}

/**
 * Codes for every row of the embeddings: items that already have an ID in TOKDIR keep it (stable IDs);
 * rows beyond them (new items, cold start) are encoded and take the next free disambiguation code.
 */
export async function encodeItems(opts: EncodeItemsOptions): Promise<EncodeItemsResult> {
  // Without --out the codes and report of TOKDIR are updated in place: hold TOKDIR's lock, as `fit` does, so that
  // two encodes (or an encode and a fit) never interleave their writes. With --out, the file is the output.
  if (opts.out) {
    checkNotInput(opts.out, { '--data': opts.data, '--embeddings': opts.embeddings });
    await checkOutputFile(opts.out);
  }
  return withLock(opts.out ?? opts.tokDir, () => encodeLocked(opts));
}

async function encodeLocked(opts: EncodeItemsOptions): Promise<EncodeItemsResult> {
  await initBackend({ quiet: opts.silent });
  const x = await loadMatrix(opts);
  if (!x) throw new Error('tokenize encode: give --data DIR with embeddings');
  const existing = await readItemCodes(opts.tokDir);
  const width = existing.levels.length;
  const kept = Math.min(existing.codes.length / width, x.rows);
  const tokenizer = await loadTokenizer(opts.tokDir);
  try {
    const fresh = tokenizer.encode(x);
    const baseWidth = width - 1;
    let drifted = 0;
    for (let r = 0; r < kept; r++) {
      for (let l = 0; l < baseWidth; l++) {
        if (fresh.codes[r * baseWidth + l] !== existing.codes[r * width + l]) { drifted++; break; }
      }
    }
    const added = x.rows - kept;
    const newBase: SemanticIds = { levels: fresh.levels, codes: fresh.codes.slice(kept * baseWidth) };
    const assigned = disambiguateNew(existing, newBase);
    const codes = new Int32Array(x.rows * width);
    codes.set(existing.codes.subarray(0, kept * width));
    codes.set(assigned.codes, kept * width);
    const ids: SemanticIds = { levels: existing.levels.slice(), codes };
    const out = opts.out ?? join(opts.tokDir, CODES_FILE);
    await writeParquetTable(out, codesTable(ids));
    if (!opts.out) {
      const previous = await readPreviousReport(opts.tokDir);
      const report = { ...previous, ...buildReport(tokenizer.method, ids, true), ...fitFields(previous) };
      await writeJsonAtomic(join(opts.tokDir, REPORT_FILE), report);
    }
    return { ids, kept, added, drifted };
  } finally {
    disposeTokenizer(tokenizer);
  }
}

async function readPreviousReport(tokDir: string): Promise<Partial<TokenizerReport>> {
  try {
    return JSON.parse(await readFile(join(tokDir, REPORT_FILE), 'utf8')) as Partial<TokenizerReport>;
  } catch {
    return {};
  }
}

function fitFields(previous: Partial<TokenizerReport>): Partial<TokenizerReport> {
  const out: Partial<TokenizerReport> = {};
  for (const key of ['reconstruction', 'relativeReconstruction', 'fitSeconds', 'curve', 'details', 'domains'] as const) {
    if (previous[key] !== undefined) (out as Record<string, unknown>)[key] = previous[key];
  }
  return out;
}

/** The codebook health report of TOKDIR: ID figures from codes.parquet, fit figures from report.json. */
export async function tokenizerReport(tokDir: string): Promise<TokenizerReport> {
  const manifest = await readTokenizerManifest(tokDir);
  const ids = await readItemCodes(tokDir);
  const previous = await readPreviousReport(tokDir);
  return { ...buildReport(manifest.method, ids, manifest.disambiguation !== false), ...fitFields(previous) };
}

export { formatReport as formatTokenizerReport, collisionStats };

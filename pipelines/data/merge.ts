// `semid data merge --domain NAME=DIR ... --out DIR`: one multi-domain data set from several single-domain ones
// (GMC-style cross-domain recommendation: domains share no users and no items, only the semantic-ID codebooks).
// Item and user keys are namespaced by domain (`office:123`), so equal raw keys of two domains never merge; a
// `domain` column on items and users names each row's domain; the manifest lists per-domain counts. Users keep
// their sequences as they are, so the leave-one-out split of each domain's users is exactly its single-domain split.
// Embeddings present in every input with one dimension are concatenated (checked before anything is written).
// Everything is read and checked first; the output is written by the one data set writer (writeDatasetFiles).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmbeddingMatrix } from '../../tokenizer/index.js';
import { checkNotInput } from '../../tokenizer/io/index.js';
import {
  checkDatasetOutput, countInteractions, EMBEDDINGS_DIR, ITEMS_FILE, makeManifest, readDataset, SEQUENCES_FILE, validateDataset,
  writeDatasetFiles, writeItemsFile, writeSequencesFile,
} from './dataset.js';
import { checkDomainName, DOMAIN_SEPARATOR } from './domains.js';
import { readEmbeddings, readEmbeddingsMeta, writeEmbeddingsFiles } from './embeddings.js';
import type { Dataset, Items, Manifest, Sequences } from './types.js';

export interface DomainInput {
  name: string;
  /** A data set directory (semid data import / generate). */
  dir: string;
}

export interface MergeOptions {
  domains: readonly DomainInput[];
  out: string;
}

export interface MergeResult {
  manifest: Manifest;
  /** Embeddings not carried over (missing in some input), and similar notes. */
  warnings: string[];
  seconds: number;
}

/** Per-domain counts of the manifest's `domains` list. */
export interface DomainCounts {
  name: string;
  source: string;
  users: number;
  items: number;
  interactions: number;
}

/** Parses a `--domain NAME=DIR` value. */
export function parseDomainFlag(text: string): DomainInput {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1) throw new Error(`--domain must be NAME=DIR (e.g. office=data/office), got "${text}"`);
  const name = text.slice(0, at);
  checkDomainName(name, `--domain ${text}`);
  return { name, dir: text.slice(at + 1) };
}

function flagOf(d: DomainInput): string {
  return `--domain ${d.name}=${d.dir}`;
}

/** The inputs' names are valid and distinct, there are at least two, and none is the output. */
function checkInputs(options: MergeOptions): void {
  const { domains, out } = options;
  if (domains.length < 2) throw new Error(`--domain: a merge needs at least two domains, got ${domains.length}`);
  const seen = new Map<string, string>();
  for (const d of domains) {
    checkDomainName(d.name, flagOf(d));
    const first = seen.get(d.name);
    if (first !== undefined) throw new Error(`--domain ${d.name} is given twice (${first} and ${d.dir}): each domain needs its own name`);
    seen.set(d.name, d.dir);
  }
  checkNotInput(out, Object.fromEntries(domains.map((d) => [flagOf(d), d.dir])));
}

async function readInput(d: DomainInput): Promise<Dataset> {
  let ds: Dataset;
  try {
    ds = await readDataset(d.dir);
  } catch (err) {
    throw new Error(`${flagOf(d)}: ${(err as Error).message}`);
  }
  if (ds.items.domains || ds.sequences.domains) {
    throw new Error(`${flagOf(d)}: already a multi-domain data set (domains ${[...new Set(ds.items.domains ?? [])].join(', ')}); merge single-domain data sets`);
  }
  return ds;
}

async function embeddingNames(dir: string): Promise<string[]> {
  const files = await readdir(join(dir, EMBEDDINGS_DIR)).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.parquet')).map((f) => f.slice(0, -'.parquet'.length)).sort();
}

interface MergedEmbeddings {
  name: string;
  matrix: EmbeddingMatrix;
  meta: Record<string, unknown>;
}

/**
 * The embeddings every input has, concatenated in domain order; an embedding of different dimensions across
 * inputs is an error naming both. Names missing in some input are left out with a warning.
 */
async function mergeEmbeddings(domains: readonly DomainInput[], warnings: string[]): Promise<MergedEmbeddings[]> {
  const names = await Promise.all(domains.map((d) => embeddingNames(d.dir)));
  const all = [...new Set(names.flat())].sort();
  const out: MergedEmbeddings[] = [];
  for (const name of all) {
    const missing = domains.filter((_, i) => !names[i].includes(name));
    if (missing.length > 0) {
      warnings.push(`embeddings "${name}" are not carried over: ${missing.map((d) => d.name).join(', ')} ha${missing.length === 1 ? 's' : 've'} none (embed the merged data set with "semid embed")`);
      continue;
    }
    const parts: EmbeddingMatrix[] = [];
    const metas: Record<string, unknown> = {};
    for (const [i, d] of domains.entries()) {
      const m = await readEmbeddings(d.dir, name);
      if (i > 0 && m.dim !== parts[0].dim) {
        throw new Error(`embeddings "${name}" have ${parts[0].dim} dims in ${flagOf(domains[0])} but ${m.dim} in ${flagOf(d)}: vectors of different sizes cannot share one tokenizer; re-embed the inputs alike, or merge without them and embed the merged data set`);
      }
      parts.push(m);
      metas[d.name] = await readEmbeddingsMeta(d.dir, name);
    }
    const rows = parts.reduce((n, m) => n + m.rows, 0);
    const data = new Float32Array(rows * parts[0].dim);
    let offset = 0;
    for (const m of parts) {
      data.set(m.data, offset);
      offset += m.data.length;
    }
    const models = new Set(Object.values(metas).map((m) => JSON.stringify({ ...(m as Record<string, unknown>), name: undefined, rows: undefined, createdAt: undefined })));
    if (models.size > 1) warnings.push(`embeddings "${name}" were made with different settings per domain: vectors of separately fitted embedders are not comparable; re-embed the merged data set with "semid embed" for one tokenizer over all domains`);
    out.push({ name, matrix: { rows, dim: parts[0].dim, data }, meta: { mergedFrom: metas } });
  }
  return out;
}

/** Concatenates the inputs, keys namespaced, item ids of domain k shifted by the items of the domains before it. */
function concatenate(domains: readonly DomainInput[], inputs: readonly Dataset[], warnings: string[]): { items: Items; sequences: Sequences } {
  const items: Items = { keys: [], texts: [], categories: [], domains: [] };
  const withTimes = inputs.every((ds) => ds.sequences.timestamps !== null);
  if (!withTimes && inputs.some((ds) => ds.sequences.timestamps !== null)) {
    warnings.push(`timestamps are dropped: ${domains.filter((_, i) => inputs[i].sequences.timestamps === null).map((d) => d.name).join(', ')} ha${domains.length === 1 ? 's' : 've'} none`);
  }
  const sequences: Sequences = { userKeys: [], items: [], timestamps: withTimes ? [] : null, domains: [] };
  let offset = 0;
  inputs.forEach((ds, k) => {
    const prefix = `${domains[k].name}${DOMAIN_SEPARATOR}`;
    const name = domains[k].name;
    ds.items.keys.forEach((key, i) => {
      items.keys.push(prefix + key);
      items.texts.push(ds.items.texts[i]);
      items.categories.push(ds.items.categories[i]);
      items.domains!.push(name);
    });
    ds.sequences.userKeys.forEach((key, u) => {
      sequences.userKeys.push(prefix + key);
      sequences.items.push(ds.sequences.items[u].map((i) => i + offset));
      if (sequences.timestamps) sequences.timestamps.push(ds.sequences.timestamps![u]);
      sequences.domains!.push(name);
    });
    offset += ds.items.keys.length;
  });
  return { items, sequences };
}

/** `semid data merge`: reads and checks every input, then writes the merged data set atomically. */
export async function mergeDatasets(options: MergeOptions): Promise<MergeResult> {
  const t0 = performance.now();
  checkInputs(options);
  await checkDatasetOutput(options.out);
  const { domains, out } = options;
  const inputs: Dataset[] = [];
  for (const d of domains) inputs.push(await readInput(d));
  const warnings: string[] = [];
  const embeddings = await mergeEmbeddings(domains, warnings);
  const { items, sequences } = concatenate(domains, inputs, warnings);
  validateDataset(items, sequences, out);
  const counts: DomainCounts[] = domains.map((d, k) => ({
    name: d.name, source: d.dir, users: inputs[k].manifest.users, items: inputs[k].manifest.items, interactions: inputs[k].manifest.interactions,
  }));
  const manifest = makeManifest(
    { users: sequences.userKeys.length, items: items.keys.length, interactions: countInteractions(sequences), timestamps: sequences.timestamps !== null },
    { source: { format: 'merge', domains: Object.fromEntries(domains.map((d) => [d.name, d.dir])) }, extra: { domains: counts } },
  );
  await writeDatasetFiles(out, manifest, async (tmp) => {
    await writeItemsFile(join(tmp, ITEMS_FILE), items);
    await writeSequencesFile(join(tmp, SEQUENCES_FILE), sequences);
    for (const e of embeddings) await writeEmbeddingsFiles(tmp, e.name, e.matrix, e.meta);
  });
  return { manifest, warnings, seconds: (performance.now() - t0) / 1000 };
}

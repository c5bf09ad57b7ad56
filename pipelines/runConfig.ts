// The config of `semid run`: one JSON file with a section per stage, each optional and defaulted.
// `resolvePipelineConfig` validates everything up front and names the field and the bad value
// (unknown keys too), so a typo fails in the first second rather than after an hour of training.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DOMAIN_NAME } from './data/domains.js';

export const DATA_SOURCES = ['generate', 'import', 'path', 'merge'] as const;
export const IMPORT_FORMATS = ['s3rec', 'inter-json', 'movielens', 'amazon', 'parquet', 'csv'] as const;
/** Import files by their `semid data import` flag name. */
export const IMPORT_FILE_FLAGS = ['sequences', 'interactions', 'items', 'ratings', 'movies', 'reviews', 'meta'] as const;
/** Other importer options (`semid data import` flags in camelCase). */
export const IMPORT_OPTIONS = [
  'skipInvalid', 'minRating', 'minInteractions', 'allItems', 'textTemplate', 'itemKeyField', 'userColumn', 'itemColumn',
  'timeColumn', 'ratingColumn', 'itemKeyColumn', 'categoriesColumn', 'delimiter', 'listSeparator', 'quiet',
] as const;
export const EMBED_SOURCES = ['text', 'import'] as const;
export const PRESETS = ['tiny', 'small', 'causal', 'sasrec', 'tiger'] as const;
export const ARCHS = ['encdec', 'decoder', 'causal', 'sasrec'] as const;
export const SPLITS = ['valid', 'test'] as const;

/** One domain of a `merge` data source: a data set directory, or files to import (as `data.format`/`files`/`options`). */
export interface DomainSource {
  path?: string;
  format?: (typeof IMPORT_FORMATS)[number];
  files: Record<string, string>;
  options: Record<string, unknown>;
}

export interface DataSection {
  /**
   * `generate` the built-in synthetic data set, `import` public/user files, use a data set at `path`, or `merge`
   * several domains' data sets into one multi-domain data set (`domains`; `semid data merge`).
   */
  source: (typeof DATA_SOURCES)[number];
  /** Source `merge`: each domain's data (name -> source), in merge order. */
  domains: Record<string, DomainSource>;
  /** Generator sizes and seed (source `generate`); unset fields take the generator's defaults. */
  generate: { users?: number; items?: number; seed?: number; minHistory?: number; maxHistory?: number };
  /** Import format (source `import`), as `semid data import --format`. */
  format?: (typeof IMPORT_FORMATS)[number];
  /** Import files by flag name, e.g. `{ "sequences": "Beauty.txt", "items": "Beauty.items.jsonl" }`. */
  files: Record<string, string>;
  /** Other import options (e.g. `minInteractions`, `skipInvalid`), passed to the importer. */
  options: Record<string, unknown>;
  /** An existing data set directory (source `path`). */
  path?: string;
  /** Histories are cut to the last `maxHistory` items (leave-one-out split). */
  maxHistory: number;
}

export interface EmbedSection {
  /** `text`: built-in offline embedder over item text; `import`: bring your own vectors. */
  source: (typeof EMBED_SOURCES)[number];
  method: 'tfidf-svd';
  dim: number;
  /** SentencePiece model for tokenizing text (optional). */
  spmModel?: string;
  /** Vector file to import (source `import`): Parquet, .npy or JSONL. */
  from?: string;
  allowMissing: boolean;
  seed?: number;
  /** Other embedder or import options (e.g. `wordNgrams`, `minDf`, `keyColumn`), checked by the embedder. */
  options: Record<string, unknown>;
}

export interface TokenizeSection {
  /** A registered tokenizer method (built in: rqkmeans, rqvae, fsq, rfsq, fixed); checked against the registry. */
  method: string;
  levels: number;
  codebookSize: number;
  /** Semantic IDs made elsewhere (method `fixed`). */
  from?: string;
  /** Disambiguation codes available per ID (default: the largest codebook size). */
  dedupSize?: number;
  /** Method-specific options (e.g. `balanced`, `iterations`, FSQ `fsqLevels`), passed to the tokenizer. */
  options: Record<string, unknown>;
}

export interface TrainSection {
  preset: (typeof PRESETS)[number];
  /** The architecture; default: the preset's (`causal` and `sasrec` for their presets, else the encoder-decoder). */
  arch: (typeof ARCHS)[number];
  /** Model fields over the preset (e.g. `dModel`, `layers`), checked by the trainer's own validation. */
  model: Record<string, unknown>;
  /** Trainer fields (e.g. `steps`, `batchSize`, `lr`, `evalEvery`), checked by the trainer's own validation. */
  trainer: Record<string, unknown>;
  /** Validation during training: users sampled from the validation split (0 = none) and the beam size. */
  validUsers: number;
  validBeam: number;
  /**
   * Multi-domain data: after the unified model, fine-tune it on each domain for `steps` steps (0 = none) into
   * RUN/train/finetune/NAME, trainer fields `trainer` over the unified run's; eval then reports each domain's
   * unified and fine-tuned figures side by side.
   */
  finetune: { steps: number; trainer: Record<string, unknown> };
}

export interface EvalSection {
  split: (typeof SPLITS)[number];
  k: number[];
  beam: number;
  /** Evaluate on at most this many users (0 = all), chosen by a seeded sample. */
  maxUsers: number;
}

export interface RecommendSection {
  /** Recommend for every user (`all`) or the first N users. */
  users: number | 'all';
  topK: number;
  beam: number;
  /** Leave out items already in the user's history. */
  excludeHistory: boolean;
}

export interface PublishedResult {
  method: string;
  metrics: Record<string, number>;
  /** How the figures were computed where it differs between sources (e.g. whether history items are masked). */
  protocol?: string;
}

/** SASRec's and S3-Rec's published figures come from S3-Rec's full-sort code, which zeroes the user's history items. */
export const MASKED_PROTOCOL = 'masks history (S3-Rec full-sort protocol)';
/** TIGER's figures let a history item be recommended. */
export const UNMASKED_PROTOCOL = 'history not masked (TIGER protocol)';

export interface ReportSection {
  /** Data set name for the report's title and the built-in published numbers (e.g. `amazon-beauty`). */
  dataset?: string;
  /** Published results to plot beside ours; default: built-in numbers for `dataset`, when known. */
  published?: PublishedResult[];
}

export interface PipelineConfig {
  /** A name for the run, shown in the report. */
  name: string;
  seed: number;
  data: DataSection;
  embed: EmbedSection;
  tokenize: TokenizeSection;
  train: TrainSection;
  eval: EvalSection;
  recommend: RecommendSection;
  report: ReportSection;
}

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = {
  name: 'semid run',
  seed: 0,
  data: { source: 'generate', generate: {}, domains: {}, files: {}, options: {}, maxHistory: 20 },
  embed: { source: 'text', method: 'tfidf-svd', dim: 256, allowMissing: false, options: {} },
  tokenize: { method: 'rqkmeans', levels: 3, codebookSize: 256, options: {} },
  train: { preset: 'small', arch: 'encdec', model: {}, trainer: {}, validUsers: 500, validBeam: 20, finetune: { steps: 0, trainer: {} } },
  eval: { split: 'test', k: [5, 10, 20], beam: 20, maxUsers: 0 },
  recommend: { users: 'all', topK: 10, beam: 20, excludeHistory: true },
  report: {},
};

/** Published Recall/NDCG of the literature, by data set (leave-one-out, full catalog). */
export const PUBLISHED_RESULTS: Record<string, PublishedResult[]> = {
  'amazon-beauty': [
    { method: 'SASRec', protocol: MASKED_PROTOCOL, metrics: { 'recall@5': 0.0387, 'ndcg@5': 0.0249, 'recall@10': 0.0605, 'ndcg@10': 0.0318 } },
    { method: 'S3-Rec', protocol: MASKED_PROTOCOL, metrics: { 'recall@5': 0.0387, 'ndcg@5': 0.0244, 'recall@10': 0.0647, 'ndcg@10': 0.0327 } },
    { method: 'TIGER', protocol: UNMASKED_PROTOCOL, metrics: { 'recall@5': 0.0454, 'ndcg@5': 0.0321, 'recall@10': 0.0648, 'ndcg@10': 0.0384 } },
  ],
};

// --- validation helpers ----------------------------------------------------------------------------

type Json = unknown;

function show(value: Json): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? String(value);
}

function fail(field: string, expected: string, value: Json): never {
  throw new Error(`\`${field}\` must be ${expected}, got ${show(value)}`);
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A section: an object (or absent), with no keys outside `known`. */
function section(value: Json, field: string, known: readonly string[]): Record<string, Json> {
  if (value === undefined) return {};
  if (!isObject(value)) {
    if (!field) throw new Error(`the config must be a JSON object, got ${show(value)}`);
    fail(field, 'an object', value);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new Error(`unknown key \`${field ? `${field}.` : ''}${key}\` (known keys${field ? ` of \`${field}\`` : ''}: ${known.join(', ')})`);
    }
  }
  return value;
}

function integer(value: Json, field: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(field, `an integer >= ${min}`, value);
  return value;
}

function optionalInteger(value: Json, field: string, min: number): number | undefined {
  return value === undefined ? undefined : integer(value, field, min, 0);
}

function oneOf<T extends string>(value: Json, field: string, options: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !options.includes(value as T)) fail(field, `one of ${options.join(', ')}`, value);
  return value as T;
}

function boolean(value: Json, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(field, 'true or false', value);
  return value;
}

function string(value: Json, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(field, 'a non-empty string', value);
  return value;
}

function record(value: Json, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isObject(value)) fail(field, 'an object', value);
  return { ...value };
}

/** A path from the config, resolved against the config file's directory. */
function path(value: Json, field: string, baseDir: string): string | undefined {
  const text = string(value, field);
  return text === undefined ? undefined : isAbsolute(text) ? text : resolve(baseDir, text);
}

// --- sections --------------------------------------------------------------------------------------

function resolveData(value: Json, baseDir: string): DataSection {
  const d = DEFAULT_PIPELINE_CONFIG.data;
  const s = section(value, 'data', ['source', 'generate', 'format', 'files', 'options', 'path', 'maxHistory', 'domains']);
  const source = oneOf(s.source, 'data.source', DATA_SOURCES, d.source);
  const g = section(s.generate, 'data.generate', ['users', 'items', 'seed', 'minHistory', 'maxHistory']);
  const generate = {
    users: optionalInteger(g.users, 'data.generate.users', 1),
    items: optionalInteger(g.items, 'data.generate.items', 1),
    seed: optionalInteger(g.seed, 'data.generate.seed', 0),
    minHistory: optionalInteger(g.minHistory, 'data.generate.minHistory', 2),
    maxHistory: optionalInteger(g.maxHistory, 'data.generate.maxHistory', 2),
  };
  const filesIn = section(s.files, 'data.files', IMPORT_FILE_FLAGS);
  section(s.options, 'data.options', IMPORT_OPTIONS);
  const files: Record<string, string> = {};
  for (const [flag, file] of Object.entries(filesIn)) files[flag] = path(file, `data.files.${flag}`, baseDir)!;
  const out: DataSection = {
    source,
    domains: resolveDomains(s.domains, baseDir),
    generate: Object.fromEntries(Object.entries(generate).filter(([, v]) => v !== undefined)),
    format: s.format === undefined ? undefined : oneOf(s.format, 'data.format', IMPORT_FORMATS, 's3rec'),
    files,
    options: record(s.options, 'data.options'),
    path: path(s.path, 'data.path', baseDir),
    maxHistory: integer(s.maxHistory, 'data.maxHistory', 1, d.maxHistory),
  };
  if (source === 'import') {
    if (!out.format) fail('data.format', `set when \`data.source\` is "import" (one of ${IMPORT_FORMATS.join(', ')})`, undefined);
    if (Object.keys(files).length === 0) fail('data.files', 'a non-empty object of import files when `data.source` is "import"', s.files ?? {});
  }
  if (source === 'path' && !out.path) fail('data.path', 'a data set directory when `data.source` is "path"', s.path);
  if (source === 'merge' && Object.keys(out.domains).length < 2) fail('data.domains', 'an object of at least two domains when `data.source` is "merge"', s.domains ?? {});
  if (source !== 'merge' && Object.keys(out.domains).length > 0) throw new Error(`\`data.domains\` applies only when \`data.source\` is "merge", got source ${show(source)}`);
  if (source !== 'import' && (out.format !== undefined || Object.keys(files).length > 0)) {
    throw new Error(`\`data.format\` and \`data.files\` apply only when \`data.source\` is "import", got source ${show(source)}`);
  }
  return out;
}

/** `data.domains`: name -> a data set directory (string) or an import `{ format, files, options }`. */
function resolveDomains(value: Json, baseDir: string): Record<string, DomainSource> {
  const out: Record<string, DomainSource> = {};
  for (const [name, entry] of Object.entries(record(value, 'data.domains'))) {
    const field = `data.domains.${name}`;
    if (!DOMAIN_NAME.test(name)) fail('data.domains', 'keyed by domain names (letters, digits, "_" or "-")', name);
    if (typeof entry === 'string') {
      out[name] = { path: path(entry, field, baseDir), files: {}, options: {} };
      continue;
    }
    const e = section(entry, field, ['path', 'format', 'files', 'options']);
    const files: Record<string, string> = {};
    for (const [flag, file] of Object.entries(section(e.files, `${field}.files`, IMPORT_FILE_FLAGS))) files[flag] = path(file, `${field}.files.${flag}`, baseDir)!;
    section(e.options, `${field}.options`, IMPORT_OPTIONS);
    const source: DomainSource = {
      path: path(e.path, `${field}.path`, baseDir),
      format: e.format === undefined ? undefined : oneOf(e.format, `${field}.format`, IMPORT_FORMATS, 's3rec'),
      files,
      options: record(e.options, `${field}.options`),
    };
    if (source.path ? source.format !== undefined || Object.keys(files).length > 0 : !source.format || Object.keys(files).length === 0) {
      fail(field, 'a data set directory (a string or `path`) or an import (`format` and `files`), not both', entry);
    }
    out[name] = source;
  }
  return out;
}

function resolveEmbed(value: Json, baseDir: string): EmbedSection {
  const d = DEFAULT_PIPELINE_CONFIG.embed;
  const s = section(value, 'embed', ['source', 'method', 'dim', 'spmModel', 'from', 'allowMissing', 'seed', 'options']);
  const out: EmbedSection = {
    source: oneOf(s.source, 'embed.source', EMBED_SOURCES, d.source),
    method: oneOf(s.method, 'embed.method', ['tfidf-svd'] as const, d.method),
    dim: integer(s.dim, 'embed.dim', 1, d.dim),
    spmModel: path(s.spmModel, 'embed.spmModel', baseDir),
    from: path(s.from, 'embed.from', baseDir),
    allowMissing: boolean(s.allowMissing, 'embed.allowMissing', d.allowMissing),
    seed: optionalInteger(s.seed, 'embed.seed', 0),
    options: record(s.options, 'embed.options'),
  };
  if (out.source === 'import' && !out.from) fail('embed.from', 'a vector file when `embed.source` is "import"', s.from);
  return out;
}

function resolveTokenize(value: Json, baseDir: string): TokenizeSection {
  const d = DEFAULT_PIPELINE_CONFIG.tokenize;
  const s = section(value, 'tokenize', ['method', 'levels', 'codebookSize', 'from', 'dedupSize', 'options']);
  const out: TokenizeSection = {
    method: string(s.method, 'tokenize.method') ?? d.method,
    levels: integer(s.levels, 'tokenize.levels', 1, d.levels),
    codebookSize: integer(s.codebookSize, 'tokenize.codebookSize', 2, d.codebookSize),
    from: path(s.from, 'tokenize.from', baseDir),
    dedupSize: optionalInteger(s.dedupSize, 'tokenize.dedupSize', 1),
    options: record(s.options, 'tokenize.options'),
  };
  if (out.method === 'fixed' && !out.from) fail('tokenize.from', 'a semantic-ID file when `tokenize.method` is "fixed"', s.from);
  return out;
}

function resolveTrain(value: Json): TrainSection {
  const d = DEFAULT_PIPELINE_CONFIG.train;
  const s = section(value, 'train', ['preset', 'arch', 'model', 'trainer', 'validUsers', 'validBeam', 'finetune']);
  const validBeam = integer(s.validBeam, 'train.validBeam', 10, d.validBeam);
  const f = section(s.finetune, 'train.finetune', ['steps', 'trainer']);
  const preset = oneOf(s.preset, 'train.preset', PRESETS, d.preset);
  return {
    preset,
    arch: oneOf(s.arch, 'train.arch', ARCHS, preset === 'causal' || preset === 'sasrec' ? preset : 'encdec'),
    model: record(s.model, 'train.model'),
    trainer: record(s.trainer, 'train.trainer'),
    validUsers: integer(s.validUsers, 'train.validUsers', 0, d.validUsers),
    validBeam,
    finetune: { steps: integer(f.steps, 'train.finetune.steps', 0, 0), trainer: record(f.trainer, 'train.finetune.trainer') },
  };
}

function resolveEval(value: Json): EvalSection {
  const d = DEFAULT_PIPELINE_CONFIG.eval;
  const s = section(value, 'eval', ['split', 'k', 'beam', 'maxUsers']);
  let k = d.k;
  if (s.k !== undefined) {
    if (!Array.isArray(s.k) || s.k.length === 0) fail('eval.k', 'a non-empty list of integers >= 1', s.k);
    k = s.k.map((v, i) => integer(v, `eval.k[${i}]`, 1, 0));
  }
  const beam = integer(s.beam, 'eval.beam', 1, d.beam);
  if (Math.max(...k) > beam) throw new Error(`\`eval.beam\` must be >= the largest \`eval.k\` (${Math.max(...k)}), got ${beam}`);
  return { split: oneOf(s.split, 'eval.split', SPLITS, d.split), k, beam, maxUsers: integer(s.maxUsers, 'eval.maxUsers', 0, d.maxUsers) };
}

function resolveRecommend(value: Json): RecommendSection {
  const d = DEFAULT_PIPELINE_CONFIG.recommend;
  const s = section(value, 'recommend', ['users', 'topK', 'beam', 'excludeHistory']);
  const users = s.users === undefined || s.users === 'all' ? 'all' : integer(s.users, 'recommend.users', 1, 0);
  const topK = integer(s.topK, 'recommend.topK', 1, d.topK);
  const beam = integer(s.beam, 'recommend.beam', 1, Math.max(d.beam, topK));
  if (topK > beam) throw new Error(`\`recommend.beam\` must be >= \`recommend.topK\` (${topK}), got ${beam}`);
  return { users, topK, beam, excludeHistory: boolean(s.excludeHistory, 'recommend.excludeHistory', d.excludeHistory) };
}

function resolveReport(value: Json): ReportSection {
  const s = section(value, 'report', ['dataset', 'published']);
  const dataset = string(s.dataset, 'report.dataset');
  let published: PublishedResult[] | undefined;
  if (s.published !== undefined) {
    if (!Array.isArray(s.published)) fail('report.published', 'a list of { method, metrics }', s.published);
    published = s.published.map((entry, i) => {
      const e = section(entry, `report.published[${i}]`, ['method', 'metrics', 'protocol']);
      const method = string(e.method, `report.published[${i}].method`);
      if (!method) fail(`report.published[${i}].method`, 'a non-empty string', e.method);
      const metrics: Record<string, number> = {};
      for (const [name, v] of Object.entries(record(e.metrics, `report.published[${i}].metrics`))) {
        if (typeof v !== 'number' || !Number.isFinite(v)) fail(`report.published[${i}].metrics.${name}`, 'a number', v);
        metrics[name] = v;
      }
      const protocol = string(e.protocol, `report.published[${i}].protocol`);
      return protocol ? { method, metrics, protocol } : { method, metrics };
    });
  } else if (dataset && PUBLISHED_RESULTS[dataset]) {
    published = PUBLISHED_RESULTS[dataset];
  }
  return { dataset, published };
}

/**
 * Validates a (partial) pipeline config and fills in every default. Relative paths are resolved
 * against `baseDir` (the config file's directory). Throws naming the field and the bad value.
 */
export function resolvePipelineConfig(partial: unknown = {}, baseDir = process.cwd()): PipelineConfig {
  const top = section(partial, '', ['$schema', 'name', 'seed', 'data', 'embed', 'tokenize', 'train', 'eval', 'recommend', 'report']);
  const d = DEFAULT_PIPELINE_CONFIG;
  return {
    name: string(top.name, 'name') ?? d.name,
    seed: integer(top.seed, 'seed', 0, d.seed),
    data: resolveData(top.data, baseDir),
    embed: resolveEmbed(top.embed, baseDir),
    tokenize: resolveTokenize(top.tokenize, baseDir),
    train: resolveTrain(top.train),
    eval: resolveEval(top.eval),
    recommend: resolveRecommend(top.recommend),
    report: resolveReport(top.report),
  };
}

/** Reads a JSON config file and resolves it; errors name the file. */
export async function loadPipelineConfig(file: string): Promise<PipelineConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`config "${file}" is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return resolvePipelineConfig(json, dirname(resolve(file)));
  } catch (err) {
    throw new Error(`config "${file}": ${(err as Error).message}`);
  }
}

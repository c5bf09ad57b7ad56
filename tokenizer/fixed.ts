// Fixed IDs: semantic IDs made elsewhere (another implementation's RQ-VAE, a hand-made taxonomy) imported
// as they are, so the sequence model and decoder run on them unchanged. With embeddings, new items get
// the codes of their nearest imported item (the disambiguation code then separates them), and `decode`
// returns the mean embedding of the items that share the longest prefix of the codes.
import { assignNearest } from './kmeans.js';
import { checkMatrix, reconstructionError } from './matrix.js';
import { checkCodes, firstPositions } from './rqKmeans.js';
import { checkInt, checkKeys, loadFloat32, loadInt32, saveFloat32, saveInt32 } from './state.js';
import type { EmbeddingMatrix, FitOptions, FitReport, ItemTokenizer, SemanticIds, TokenizerFactory } from './types.js';

const TOKEN = /^<([a-z])_(\d+)>$/;

/** Parses one code: an integer, or a `<a_114>` token whose letter names its position (a = 0). */
function parseCode(value: unknown, item: string, position: number, source: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = TOKEN.exec(value.trim());
    if (m) {
      const letter = m[1].charCodeAt(0) - 97;
      if (letter !== position) throw new Error(`${source}: item ${item} position ${position}: token "${value}" belongs to position ${letter}`);
      return Number(m[2]);
    }
    if (/^\d+$/.test(value.trim())) return Number(value);
  }
  throw new Error(`${source}: item ${item} position ${position}: "${String(value)}" is not a code (expected an integer >= 0 or a token like "<a_114>")`);
}

/**
 * IDs from `{ "0": ["<a_114>", "<b_32>", ...], "1": [...] }` (or integer lists), keyed by 0-based item id
 * 0..n-1. Code counts per position are max code + 1.
 */
export function parseFixedIds(json: unknown, source = 'fixed IDs'): SemanticIds {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${source}: expected an object keyed by 0-based item id, e.g. {"0": ["<a_114>", "<b_32>"]}`);
  }
  const entries = Object.entries(json as Record<string, unknown>);
  const rows = entries.length;
  if (rows === 0) throw new Error(`${source}: no items`);
  let width = -1;
  let codes = new Int32Array(0);
  const seen = new Uint8Array(rows);
  for (const [key, list] of entries) {
    const item = Number(key);
    if (!Number.isInteger(item) || item < 0 || item >= rows) {
      throw new Error(`${source}: item key "${key}" is not an id in 0..${rows - 1} (keys must be dense 0-based item ids)`);
    }
    if (!Array.isArray(list) || list.length === 0) throw new Error(`${source}: item ${key}: expected a non-empty list of codes`);
    if (width < 0) {
      width = list.length;
      codes = new Int32Array(rows * width);
    } else if (list.length !== width) {
      throw new Error(`${source}: item ${key} has ${list.length} codes, other items have ${width}`);
    }
    seen[item] = 1;
    list.forEach((v, l) => { codes[item * width + l] = parseCode(v, key, l, source); });
  }
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new Error(`${source}: item ${missing} has no IDs (keys must be 0..${rows - 1})`);
  const levels = new Array<number>(width).fill(0);
  for (let i = 0; i < codes.length; i++) levels[i % width] = Math.max(levels[i % width], codes[i] + 1);
  return { levels, codes };
}

export class FixedTokenizer implements ItemTokenizer {
  readonly method = 'fixed';
  readonly config: { levels?: number[]; rows?: number; dim?: number } = {};
  private ids: SemanticIds | null = null;
  private embeddings: EmbeddingMatrix | null = null;

  constructor(config: Record<string, unknown> = {}) {
    checkKeys('fixed', config, ['levels', 'rows', 'dim']);
  }

  get levels(): number[] {
    if (!this.ids) throw new Error('fixed: not fitted (give the IDs with --from FILE)');
    return this.ids.levels.slice();
  }

  async fit(x: EmbeddingMatrix, opts: FitOptions = {}): Promise<FitReport> {
    const start = performance.now();
    const ids = opts.importedIds;
    if (!ids) throw new Error('fixed: no IDs to import; give --from FILE (a sids JSON or a Parquet item -> list<int>)');
    const rows = ids.codes.length / ids.levels.length;
    if (x.rows !== rows) throw new Error(`fixed: the imported IDs cover ${rows} items but the data set has ${x.rows}`);
    if (x.dim > 0) checkMatrix(x);
    this.ids = { levels: ids.levels.slice(), codes: ids.codes.slice() };
    this.embeddings = x.dim > 0 ? x : null;
    Object.assign(this.config, { levels: this.ids.levels, rows, dim: x.dim });
    let reconstruction = NaN;
    let relative = NaN;
    if (this.embeddings) {
      const err = reconstructionError(x, this.decode(this.ids));
      reconstruction = err.reconstruction;
      relative = err.relative;
    }
    return {
      method: this.method, items: rows, dim: x.dim, seconds: (performance.now() - start) / 1000,
      reconstruction, relativeReconstruction: relative,
      details: { note: this.embeddings ? 'reconstruction: mean embedding of the items with the same codes' : 'no embeddings: no reconstruction' },
    };
  }

  private fitted(): { ids: SemanticIds; rows: number; width: number } {
    if (!this.ids) throw new Error('fixed: not fitted (give the IDs with --from FILE)');
    const width = this.ids.levels.length;
    return { ids: this.ids, rows: this.ids.codes.length / width, width };
  }

  /** Imported rows keep their codes; rows beyond them (new items) take their nearest imported item's codes. */
  encode(x: EmbeddingMatrix): SemanticIds {
    const { ids, rows, width } = this.fitted();
    const codes = new Int32Array(x.rows * width);
    const known = Math.min(rows, x.rows);
    codes.set(ids.codes.subarray(0, known * width));
    if (x.rows > rows) {
      const emb = this.embeddings;
      if (!emb) throw new Error(`fixed: ${x.rows - rows} items beyond the ${rows} imported ones, and no embeddings were given at fit to place them`);
      checkMatrix(x, 'embeddings', emb.dim);
      const extra = { rows: x.rows - rows, dim: x.dim, data: x.data.subarray(rows * x.dim) };
      const { codes: nearest } = assignNearest(extra, emb.data, emb.rows);
      for (let r = 0; r < extra.rows; r++) codes.set(ids.codes.subarray(nearest[r] * width, (nearest[r] + 1) * width), (rows + r) * width);
    }
    return { levels: ids.levels.slice(), codes };
  }

  decode(query: SemanticIds): EmbeddingMatrix {
    const { ids, rows, width } = this.fitted();
    const emb = this.embeddings;
    if (!emb) throw new Error('fixed: cannot decode without the embeddings given at fit');
    const count = checkCodes(query, ids.levels, 'fixed');
    const q = firstPositions(query, width);
    // Mean embedding of every prefix of every imported ID.
    const sums = new Map<string, { n: number; sum: Float64Array }>();
    for (let r = 0; r < rows; r++) {
      let key = '';
      for (let l = 0; l < width; l++) {
        key += `${ids.codes[r * width + l]},`;
        let s = sums.get(key);
        if (!s) sums.set(key, (s = { n: 0, sum: new Float64Array(emb.dim) }));
        s.n++;
        for (let d = 0; d < emb.dim; d++) s.sum[d] += emb.data[r * emb.dim + d];
      }
    }
    const global = new Float64Array(emb.dim);
    for (let i = 0; i < emb.data.length; i++) global[i % emb.dim] += emb.data[i] / rows;
    const out = new Float32Array(count * emb.dim);
    for (let r = 0; r < count; r++) {
      let best: { n: number; sum: Float64Array } | undefined;
      let key = '';
      for (let l = 0; l < width; l++) {
        key += `${q[r * width + l]},`;
        const s = sums.get(key);
        if (!s) break;
        best = s;
      }
      for (let d = 0; d < emb.dim; d++) out[r * emb.dim + d] = best ? best.sum[d] / best.n : global[d];
    }
    return { rows: count, dim: emb.dim, data: out };
  }

  async save(dir: string): Promise<void> {
    const { ids } = this.fitted();
    await saveInt32(dir, 'fixed_codes.i32', ids.codes); // [rows, levels]
    if (this.embeddings) await saveFloat32(dir, 'fixed_embeddings.f32', this.embeddings.data); // [rows, dim]
  }

  static async load(dir: string, config: Record<string, unknown>): Promise<FixedTokenizer> {
    const levels = config.levels as number[];
    if (!Array.isArray(levels)) throw new Error(`${dir}: fixed tokenizer config has no levels`);
    const rows = checkInt('rows', config.rows, 1);
    const dim = checkInt('dim', config.dim, 0);
    const tok = new FixedTokenizer();
    tok.ids = { levels: levels.slice(), codes: await loadInt32(dir, 'fixed_codes.i32', rows * levels.length) };
    if (dim > 0) tok.embeddings = { rows, dim, data: await loadFloat32(dir, 'fixed_embeddings.f32', rows * dim) };
    Object.assign(tok.config, { levels, rows, dim });
    return tok;
  }
}

export const fixedFactory: TokenizerFactory = {
  description: 'import semantic IDs made elsewhere (--from a sids JSON or a Parquet item -> list<int>)',
  create: (config) => new FixedTokenizer(config),
  load: (dir, config) => FixedTokenizer.load(dir, config),
};

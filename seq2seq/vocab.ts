// The token vocabulary, laid out from the tokenizer's levels:
//   [PAD, BOS, EOS] [level 0 codes] [level 1 codes] ... [disambiguation codes] [user buckets] [domains]
// Level offsets keep code 5 of level 0 and code 5 of level 1 apart. Users are hashed into buckets (TIGER: 2000).
// A model trained on a multi-domain data set has one token per domain (GMC's domain token): the context's user
// slot holds it (batches.ts), so generation knows which domain it is in.
import type { SemanticIds } from '../tokenizer/index.js';

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const SPECIAL_TOKENS = 3;

export interface VocabLayout {
  /** Code count per semantic-ID position, the disambiguation position included. */
  levels: number[];
  userBuckets: number;
  /** Catalog size, for models with per-item weights (ID embeddings, an item softmax); 0 = not recorded. */
  items?: number;
  /** Domain tokens (multi-domain data sets); 0 or absent = none. */
  domains?: number;
}

export class Vocab {
  readonly levels: number[];
  readonly userBuckets: number;
  readonly items: number;
  /** First token of each level's codes. */
  readonly levelOffsets: number[];
  readonly userOffset: number;
  readonly domains: number;
  readonly domainOffset: number;
  readonly size: number;

  constructor(layout: VocabLayout) {
    if (!Array.isArray(layout.levels) || layout.levels.length === 0) {
      throw new Error(`vocab levels must be a non-empty array of code counts, got ${JSON.stringify(layout.levels)}`);
    }
    for (const [i, n] of layout.levels.entries()) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`vocab levels[${i}] must be an integer >= 1, got ${JSON.stringify(n)}`);
    }
    if (!Number.isInteger(layout.userBuckets) || layout.userBuckets < 0) {
      throw new Error(`vocab userBuckets must be an integer >= 0, got ${JSON.stringify(layout.userBuckets)}`);
    }
    const items = layout.items ?? 0;
    if (!Number.isInteger(items) || items < 0) throw new Error(`vocab items must be an integer >= 0, got ${JSON.stringify(layout.items)}`);
    this.items = items;
    const domains = layout.domains ?? 0;
    if (!Number.isInteger(domains) || domains < 0) throw new Error(`vocab domains must be an integer >= 0, got ${JSON.stringify(layout.domains)}`);
    this.domains = domains;
    this.levels = [...layout.levels];
    this.userBuckets = layout.userBuckets;
    this.levelOffsets = [];
    let next = SPECIAL_TOKENS;
    for (const n of this.levels) {
      this.levelOffsets.push(next);
      next += n;
    }
    this.userOffset = next;
    this.domainOffset = next + this.userBuckets;
    this.size = this.domainOffset + this.domains;
  }

  get codeLength(): number {
    return this.levels.length;
  }

  codeToken(level: number, code: number): number {
    if (code < 0 || code >= this.levels[level]) throw new Error(`code ${code} is out of range for level ${level} (${this.levels[level]} codes)`);
    return this.levelOffsets[level] + code;
  }

  /** The user's bucket token; without buckets, or for user -1 (no user: a query, a user the data set lacks), PAD (masked out). */
  userToken(user: number): number {
    if (this.userBuckets === 0 || user < 0) return PAD;
    return this.userOffset + (hashUser(user) % this.userBuckets);
  }

  /** The token of domain `domain` (0-based, the data set's domain order). */
  domainToken(domain: number): number {
    if (!Number.isInteger(domain) || domain < 0 || domain >= this.domains) {
      throw new Error(`domain ${domain} is out of range: the vocabulary has ${this.domains} domain token${this.domains === 1 ? '' : 's'}`);
    }
    return this.domainOffset + domain;
  }

  /** The layout that rebuilds this vocabulary (what a checkpoint stores). */
  layout(): VocabLayout {
    return { levels: this.levels, userBuckets: this.userBuckets, ...(this.items > 0 ? { items: this.items } : {}), ...(this.domains > 0 ? { domains: this.domains } : {}) };
  }

  /** Item tokens, one row per item: `tokens[i * L + l]` = token of item i's code at level l. */
  itemTokens(ids: SemanticIds): Int32Array {
    const L = this.levels.length;
    if (ids.levels.length !== L || ids.levels.some((n, i) => n !== this.levels[i])) {
      throw new Error(`item codes have levels [${ids.levels.join(', ')}], the vocabulary [${this.levels.join(', ')}]`);
    }
    const out = new Int32Array(ids.codes.length); // [items, L]
    for (let i = 0; i < ids.codes.length; i++) {
      const l = i % L;
      const c = ids.codes[i];
      if (c < 0 || c >= this.levels[l]) throw new Error(`item ${Math.floor(i / L)} has code ${c} at level ${l}, outside [0, ${this.levels[l]})`);
      out[i] = this.levelOffsets[l] + c;
    }
    return out;
  }

  toJSON(): VocabLayout & { pad: number; bos: number; eos: number; levelOffsets: number[]; userOffset: number; size: number } {
    return { ...this.layout(), levels: this.levels, userBuckets: this.userBuckets, pad: PAD, bos: BOS, eos: EOS, levelOffsets: this.levelOffsets, userOffset: this.userOffset, size: this.size };
  }

  static fromJSON(json: VocabLayout): Vocab {
    return new Vocab({ levels: json.levels, userBuckets: json.userBuckets, items: json.items, domains: json.domains });
  }
}

/** A 32-bit integer mix (murmur3 finaliser): spreads consecutive user ids over the buckets. */
export function hashUser(user: number): number {
  let h = user | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

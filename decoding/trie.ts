// A compact prefix trie over every catalog item's semantic ID, stored CSR-style in typed arrays (no object
// per node), so a million-item catalog costs a few tens of MB and a lookup is one binary search.
//
// Nodes are numbered per depth: depth 0 holds the root (node 0); depth d+1 holds one node per distinct
// d+1-code prefix. The children of node n at depth d are the nodes `childStart[d][n] .. childStart[d][n+1]-1`
// at depth d+1, and `childCode[d][j]` is the code that leads to child j (sorted ascending per parent).
// A node at depth L (the full ID length) is a leaf; `leafItemStart`/`leafItems` list the item(s) it names
// (several only when the IDs were not disambiguated).

interface TrieArrays {
  levels: readonly number[];
  depth: number;
  items: number;
  nodeCount: Int32Array;
  childStart: Int32Array[];
  childCode: Int32Array[];
  parent: Int32Array[];
  subtreeItems: Int32Array[];
  leafItemStart: Int32Array;
  leafItems: Int32Array;
  itemLeaf: Int32Array;
}

/** The arrays that define a trie (see `PrefixTrie.parts`): the form a file stores. */
export interface TrieParts {
  levels: number[];
  items: number;
  childStart: Int32Array[];
  childCode: Int32Array[];
  leafItemStart: Int32Array;
  leafItems: Int32Array;
}

export class PrefixTrie {
  /** Code count per position (the semantic ID's `levels`). */
  readonly levels: readonly number[];
  /** Full ID length L. */
  readonly depth: number;
  /** Number of catalog items. */
  readonly items: number;
  /** Nodes per depth, 0..L (nodeCount[0] = 1, nodeCount[L] = distinct IDs). */
  readonly nodeCount: Int32Array;
  /** Per depth d < L: CSR offsets into depth d+1, length nodeCount[d] + 1. */
  readonly childStart: Int32Array[];
  /** Per depth d < L: the code leading to each node of depth d+1 (sorted within a parent). */
  readonly childCode: Int32Array[];
  /** Per depth d >= 1: the parent (at depth d-1) of each node; index 0 is unused (empty array). */
  readonly parent: Int32Array[];
  /** Per depth 0..L: how many items lie under each node. */
  readonly subtreeItems: Int32Array[];
  /** Leaf -> items CSR: leaf k names items `leafItems[leafItemStart[k] .. leafItemStart[k+1]-1]`. */
  readonly leafItemStart: Int32Array;
  readonly leafItems: Int32Array;
  /** Item -> its leaf (node at depth L). */
  readonly itemLeaf: Int32Array;

  private constructor(fields: TrieArrays) {
    this.levels = fields.levels;
    this.depth = fields.depth;
    this.items = fields.items;
    this.nodeCount = fields.nodeCount;
    this.childStart = fields.childStart;
    this.childCode = fields.childCode;
    this.parent = fields.parent;
    this.subtreeItems = fields.subtreeItems;
    this.leafItemStart = fields.leafItemStart;
    this.leafItems = fields.leafItems;
    this.itemLeaf = fields.itemLeaf;
  }

  /**
   * Builds the trie from row-major codes (`codes[i * L + l]`), one row per item. Codes are checked against
   * `levels`; the error names the item, the position and the value.
   */
  static build(ids: { levels: readonly number[]; codes: Int32Array }): PrefixTrie {
    const levels = [...ids.levels];
    const L = levels.length;
    const codes = ids.codes;
    checkIds(levels, codes);
    const n = codes.length / L;
    const order = radixOrder(codes, n, levels);

    // One sweep over the items in lexicographic order: a new node starts at every depth at or below the
    // first position where an item differs from the previous one.
    const nodeCount = new Int32Array(L + 1);
    nodeCount[0] = 1;
    const codeAt: Int32Array[] = []; // per depth d < L: code of each depth-(d+1) node, in creation order
    const parentAt: Int32Array[] = [new Int32Array(0)];
    for (let d = 0; d < L; d += 1) {
      codeAt.push(new Int32Array(n));
      parentAt.push(new Int32Array(n));
    }
    const itemLeaf = new Int32Array(n);
    const leafItemStart = new Int32Array(n + 1);
    const leafItems = new Int32Array(n);
    let prev = -1;
    for (let k = 0; k < n; k += 1) {
      const item = order[k];
      let first = 0;
      if (prev >= 0) {
        while (first < L && codes[item * L + first] === codes[prev * L + first]) first += 1;
      }
      if (prev < 0 || first < L) {
        for (let d = prev < 0 ? 0 : first; d < L; d += 1) {
          const node = nodeCount[d + 1];
          codeAt[d][node] = codes[item * L + d];
          parentAt[d + 1][node] = nodeCount[d] - 1;
          nodeCount[d + 1] = node + 1;
        }
        leafItemStart[nodeCount[L] - 1] = k;
      }
      itemLeaf[item] = nodeCount[L] - 1;
      leafItems[k] = item;
      prev = item;
    }
    const leaves = n === 0 ? 0 : nodeCount[L];
    leafItemStart[leaves] = n;

    // Per depth: CSR offsets of each node's children, the children's codes, each node's parent.
    const childStart: Int32Array[] = [];
    const childCode: Int32Array[] = [];
    const parent: Int32Array[] = [new Int32Array(0)];
    for (let d = 0; d < L; d += 1) {
      const count = nodeCount[d + 1];
      const par = parentAt[d + 1].slice(0, count);
      const start = new Int32Array(nodeCount[d] + 1);
      for (let j = 0; j < count; j += 1) start[par[j] + 1] += 1;
      for (let p = 0; p < nodeCount[d]; p += 1) start[p + 1] += start[p];
      childStart.push(start);
      childCode.push(codeAt[d].slice(0, count));
      parent.push(par);
    }
    const leafStart = leafItemStart.slice(0, leaves + 1);
    return new PrefixTrie({
      levels, depth: L, items: n, nodeCount, childStart, childCode, parent,
      subtreeItems: subtreeItemCounts(nodeCount, parent, leafStart),
      leafItemStart: leafStart, leafItems, itemLeaf,
    });
  }

  /** The arrays that define the trie (the rest is derived): what a file stores. */
  parts(): TrieParts {
    return {
      levels: [...this.levels], items: this.items, childStart: this.childStart, childCode: this.childCode,
      leafItemStart: this.leafItemStart, leafItems: this.leafItems,
    };
  }

  /**
   * Rebuilds a trie from `parts()` (e.g. read from a file), checking that they form one: the error names the
   * array and the value. Parents, subtree sizes and item leaves are derived.
   */
  static fromParts(p: TrieParts): PrefixTrie {
    const L = p.levels.length;
    const bad = (what: string, detail: string): Error => new Error(`not a valid prefix trie: ${what} ${detail}`);
    if (L < 1 || p.childStart.length !== L || p.childCode.length !== L) {
      throw bad('depth', `is ${L} levels with ${p.childStart.length} childStart and ${p.childCode.length} childCode arrays`);
    }
    const nodeCount = new Int32Array(L + 1);
    nodeCount[0] = 1;
    const parent: Int32Array[] = [new Int32Array(0)];
    for (let d = 0; d < L; d += 1) {
      const start = p.childStart[d];
      const codesAt = p.childCode[d];
      nodeCount[d + 1] = codesAt.length;
      if (start.length !== nodeCount[d] + 1 || start[0] !== 0 || start[nodeCount[d]] !== codesAt.length) {
        throw bad(`childStart[${d}]`, `must run from 0 to ${codesAt.length} over ${nodeCount[d] + 1} entries`);
      }
      const par = new Int32Array(codesAt.length);
      for (let n = 0; n < nodeCount[d]; n += 1) {
        if (start[n + 1] < start[n]) throw bad(`childStart[${d}]`, `decreases at node ${n}`);
        for (let j = start[n]; j < start[n + 1]; j += 1) {
          const c = codesAt[j];
          if (c < 0 || c >= p.levels[d] || (j > start[n] && c <= codesAt[j - 1])) throw bad(`childCode[${d}][${j}]`, `= ${c} is out of range or order`);
          par[j] = n;
        }
      }
      parent.push(par);
    }
    const leaves = nodeCount[L];
    const { leafItemStart, leafItems, items } = p;
    if (leafItemStart.length !== leaves + 1 || leafItemStart[0] !== 0 || leafItemStart[leaves] !== items || leafItems.length !== items) {
      throw bad('leafItemStart', `must run from 0 to ${items} items over ${leaves + 1} entries`);
    }
    const itemLeaf = new Int32Array(items).fill(-1);
    const subtreeItems: Int32Array[] = [];
    for (let d = 0; d <= L; d += 1) subtreeItems.push(new Int32Array(nodeCount[d]));
    for (let leaf = 0; leaf < leaves; leaf += 1) {
      for (let k = leafItemStart[leaf]; k < leafItemStart[leaf + 1]; k += 1) {
        const item = leafItems[k];
        if (!(item >= 0 && item < items) || itemLeaf[item] !== -1) throw bad(`leafItems[${k}]`, `= ${item} is out of range or repeated`);
        itemLeaf[item] = leaf;
      }
      subtreeItems[L][leaf] = leafItemStart[leaf + 1] - leafItemStart[leaf];
      if (subtreeItems[L][leaf] < 1) throw bad('leafItemStart', `gives leaf ${leaf} no item`);
    }
    for (let d = L; d >= 1; d -= 1) {
      for (let j = 0; j < nodeCount[d]; j += 1) subtreeItems[d - 1][parent[d][j]] += subtreeItems[d][j];
    }
    return new PrefixTrie({
      levels: [...p.levels], depth: L, items, nodeCount, childStart: p.childStart, childCode: p.childCode,
      parent, subtreeItems, leafItemStart, leafItems, itemLeaf,
    });
  }

  /** The node at depth d+1 reached from `node` (depth d) by `code`, or -1 when no item has that prefix. */
  child(d: number, node: number, code: number): number {
    const start = this.childStart[d];
    const codesAt = this.childCode[d];
    let lo = start[node];
    let hi = start[node + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = codesAt[mid];
      if (c === code) return mid;
      if (c < code) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The allowed next codes after `node` at depth d (a view, sorted ascending). */
  allowedCodes(d: number, node: number): Int32Array {
    const start = this.childStart[d];
    return this.childCode[d].subarray(start[node], start[node + 1]);
  }

  /** The node of a prefix (its length is the depth), or -1 when no item starts with it. */
  lookup(prefix: ArrayLike<number>): number {
    let node = 0;
    for (let d = 0; d < prefix.length && node >= 0; d += 1) node = this.child(d, node, prefix[d]);
    return node;
  }

  /** Items named by leaf `leaf` (a view). */
  itemsOfLeaf(leaf: number): Int32Array {
    return this.leafItems.subarray(this.leafItemStart[leaf], this.leafItemStart[leaf + 1]);
  }

  /** Items whose full ID is `ids` (empty when none). */
  itemsAt(ids: ArrayLike<number>): Int32Array {
    if (ids.length !== this.depth) throw new Error(`a full semantic ID has ${this.depth} codes, got ${ids.length}`);
    const leaf = this.lookup(ids);
    return leaf < 0 ? new Int32Array(0) : this.itemsOfLeaf(leaf);
  }

  /** The codes of node `node` at depth d (walks up the parents). */
  prefixOf(d: number, node: number): Int32Array {
    const out = new Int32Array(d);
    for (let k = d; k >= 1; k -= 1) {
      out[k - 1] = this.childCode[k - 1][node];
      node = this.parent[k][node];
    }
    return out;
  }

  /** "(12, 5)" for messages. */
  formatPrefix(prefix: ArrayLike<number>): string {
    return `(${Array.from(prefix).join(', ')})`;
  }

  /** Bytes held by the typed arrays. */
  byteSize(): number {
    let bytes = this.nodeCount.byteLength + this.leafItemStart.byteLength + this.leafItems.byteLength + this.itemLeaf.byteLength;
    for (const arrays of [this.childStart, this.childCode, this.parent, this.subtreeItems]) {
      for (const a of arrays) bytes += a.byteLength;
    }
    return bytes;
  }
}

/** Throws, naming the level, the item, the position and the value, unless every code fits its level. */
function checkIds(levels: readonly number[], codes: Int32Array): void {
  const L = levels.length;
  if (L < 1) throw new Error('semantic IDs need at least one level, got `levels` = []');
  for (const [l, size] of levels.entries()) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`\`levels[${l}]\` must be an integer >= 1, got ${size}`);
  }
  if (codes.length % L !== 0) throw new Error(`codes length ${codes.length} is not a multiple of the ID length ${L}`);
  const n = codes.length / L;
  for (let i = 0; i < n; i += 1) {
    for (let l = 0; l < L; l += 1) {
      const c = codes[i * L + l];
      if (c < 0 || c >= levels[l]) throw new Error(`item ${i}: code at position ${l} must be in [0, ${levels[l]}), got ${c}`);
    }
  }
}

/** Per depth 0..L: how many items lie under each node (leaf counts summed up the parents). */
function subtreeItemCounts(nodeCount: Int32Array, parent: Int32Array[], leafItemStart: Int32Array): Int32Array[] {
  const L = nodeCount.length - 1;
  const counts: Int32Array[] = [];
  for (let d = 0; d <= L; d += 1) counts.push(new Int32Array(nodeCount[d]));
  for (let leaf = 0; leaf + 1 < leafItemStart.length; leaf += 1) counts[L][leaf] = leafItemStart[leaf + 1] - leafItemStart[leaf];
  for (let d = L; d >= 1; d -= 1) {
    const par = parent[d];
    const below = counts[d];
    const above = counts[d - 1];
    for (let j = 0; j < below.length; j += 1) above[par[j]] += below[j];
  }
  return counts;
}

/** Item indices in lexicographic order of their codes (stable LSD radix sort, O(n * L)). */
function radixOrder(codes: Int32Array, n: number, levels: readonly number[]): Int32Array {
  const L = levels.length;
  let order = new Int32Array(n);
  for (let i = 0; i < n; i += 1) order[i] = i;
  let next = new Int32Array(n);
  for (let l = L - 1; l >= 0; l -= 1) {
    const counts = new Int32Array(levels[l] + 1);
    for (let i = 0; i < n; i += 1) counts[codes[i * L + l] + 1] += 1;
    for (let c = 0; c < levels[l]; c += 1) counts[c + 1] += counts[c];
    for (let k = 0; k < n; k += 1) {
      const item = order[k];
      next[counts[codes[item * L + l]]++] = item;
    }
    [order, next] = [next, order];
  }
  return order;
}

export interface TrieBenchmark {
  items: number;
  levels: number[];
  buildMs: number;
  bytes: number;
  megabytes: number;
  nodesPerDepth: number[];
  /** Mean time of one full-ID lookup (L child lookups), in nanoseconds. */
  lookupNs: number;
}

/**
 * Build time and memory of a trie over `items` random IDs (default: 1,000,000 IDs of 4 codes of 256),
 * for `npm run bench`. Deterministic (seeded).
 */
export function benchmarkTrie(options: { items?: number; levels?: number[]; seed?: number } = {}): TrieBenchmark {
  const items = options.items ?? 1_000_000;
  const levels = options.levels ?? [256, 256, 256, 256];
  const L = levels.length;
  const codes = new Int32Array(items * L);
  let state = (options.seed ?? 1) >>> 0 || 1;
  for (let i = 0; i < codes.length; i += 1) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    codes[i] = state % levels[i % L];
  }
  const t0 = performance.now();
  const trie = PrefixTrie.build({ levels, codes });
  const buildMs = performance.now() - t0;
  const probes = Math.min(items, 200_000);
  const t1 = performance.now();
  let found = 0;
  for (let i = 0; i < probes; i += 1) {
    let node = 0;
    for (let d = 0; d < L; d += 1) node = trie.child(d, node, codes[i * L + d]);
    if (node >= 0) found += 1;
  }
  const lookupNs = ((performance.now() - t1) * 1e6) / Math.max(probes, 1);
  if (found !== probes) throw new Error(`trie benchmark: ${probes - found} of ${probes} IDs were not found`);
  const bytes = trie.byteSize();
  return {
    items,
    levels,
    buildMs,
    bytes,
    megabytes: bytes / 2 ** 20,
    nodesPerDepth: Array.from(trie.nodeCount),
    lookupNs,
  };
}

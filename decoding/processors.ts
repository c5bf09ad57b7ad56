// Constraints as masks (Hugging Face's LogitsProcessor): each processor sets the codes a row may not take
// to -Infinity, in place. The trie processor keeps every prefix a catalog item's prefix; the item filter
// removes subtrees whose items are all denied (allow/deny lists, the user's own history), at any level,
// so the search never spends a beam on a prefix that can only end in a blocked item.
import type { PrefixTrie } from './trie.js';
import type { LogitsProcessor, ProcessorStep } from './types.js';

/**
 * Keeps every row on the trie: codes that no catalog item continues with become -Infinity. `beamSearch`
 * runs it first on every step of a constrained search, so later processors see the catalog's mask.
 */
export class TrieProcessor implements LogitsProcessor {
  constructor(private readonly trie: PrefixTrie) {}

  /** Masks in place; throws, naming the prefix, when some row has no allowed next code. */
  apply(step: ProcessorStep, logProbs: Float32Array): void {
    const { trie } = this;
    const d = step.step;
    const width = step.width;
    if (width !== trie.levels[d]) throw new Error(`position ${d} has ${trie.levels[d]} codes in the catalog, but the scorer gave ${width}`);
    const start = trie.childStart[d];
    const codes = trie.childCode[d];
    const kept = new Float32Array(width);
    for (let row = 0; row < step.rows; row += 1) {
      const node = step.nodes[row];
      const lo = node < 0 ? 0 : start[node];
      const hi = node < 0 ? 0 : start[node + 1];
      if (hi === lo) this.throwEmpty(step, row);
      if (hi - lo === width) continue;
      // Keep the allowed codes' values, mask the whole row at once, put them back: one native fill per row.
      const base = row * width;
      for (let j = lo; j < hi; j += 1) kept[j - lo] = logProbs[base + codes[j]];
      logProbs.fill(-Infinity, base, base + width);
      for (let j = lo; j < hi; j += 1) logProbs[base + codes[j]] = kept[j - lo];
    }
  }

  private throwEmpty(step: ProcessorStep, row: number): never {
    const d = step.step;
    const prefix = step.prefixes.subarray(row * d, (row + 1) * d);
    throw new Error(`no catalog item's semantic ID starts with ${this.trie.formatPrefix(prefix)}: the allowed set for position ${d} is empty (row ${row})`);
  }
}

/**
 * Blocks items: globally (an allow list and/or a deny list) and per user (e.g. the user's history). A
 * prefix is masked once every item under it is blocked for that row's user.
 */
export class ItemFilter implements LogitsProcessor {
  private readonly blockedGlobal: Uint8Array | null;
  /** Per depth: blocked items under each node (global lists only). */
  private readonly blockedUnder: Int32Array[] | null;
  /** Per user: node key -> blocked items under it (user lists, not counting globally blocked items). */
  private readonly userBlockedUnder: Map<number, number>[];
  private readonly userBlocked: Set<number>[];

  constructor(
    private readonly trie: PrefixTrie,
    options: {
      allowItems?: ArrayLike<number> | null;
      denyItems?: ArrayLike<number> | null;
      /** Per user (parallel to the session's contexts): items that user must not get. */
      userItems?: readonly (ArrayLike<number> | null | undefined)[];
      users: number;
    },
  ) {
    const n = trie.items;
    const check = (what: string, item: number): void => {
      if (!Number.isInteger(item) || item < 0 || item >= n) throw new Error(`${what}: item ${item} is not in the catalog (items are 0..${n - 1})`);
    };
    let blocked: Uint8Array | null = null;
    if (options.allowItems) {
      blocked = new Uint8Array(n).fill(1);
      for (let i = 0; i < options.allowItems.length; i += 1) {
        check('allowItems', options.allowItems[i]);
        blocked[options.allowItems[i]] = 0;
      }
    }
    if (options.denyItems && options.denyItems.length > 0) {
      blocked ??= new Uint8Array(n);
      for (let i = 0; i < options.denyItems.length; i += 1) {
        check('denyItems', options.denyItems[i]);
        blocked[options.denyItems[i]] = 1;
      }
    }
    this.blockedGlobal = blocked;
    this.blockedUnder = null;
    if (blocked) {
      const under: Int32Array[] = [];
      for (let d = 0; d <= trie.depth; d += 1) under.push(new Int32Array(trie.nodeCount[d]));
      for (let item = 0; item < n; item += 1) {
        if (!blocked[item]) continue;
        let node = trie.itemLeaf[item];
        for (let d = trie.depth; d >= 0; d -= 1) {
          under[d][node] += 1;
          if (d > 0) node = trie.parent[d][node];
        }
      }
      this.blockedUnder = under;
    }
    this.userBlockedUnder = [];
    this.userBlocked = [];
    for (let u = 0; u < options.users; u += 1) {
      const list = options.userItems?.[u];
      const set = new Set<number>();
      const counts = new Map<number, number>();
      if (list) {
        for (let i = 0; i < list.length; i += 1) {
          const item = list[i];
          check(`user ${u}'s excluded items`, item);
          if (set.has(item) || (blocked && blocked[item])) continue;
          set.add(item);
          let node = trie.itemLeaf[item];
          for (let d = trie.depth; d >= 1; d -= 1) {
            const key = this.key(d, node);
            counts.set(key, (counts.get(key) ?? 0) + 1);
            node = trie.parent[d][node];
          }
        }
      }
      this.userBlocked.push(set);
      this.userBlockedUnder.push(counts);
    }
  }

  /** True when nothing is blocked for anyone (the processor can be skipped). */
  get empty(): boolean {
    return !this.blockedGlobal && this.userBlocked.every((s) => s.size === 0);
  }

  /** May user `user` (session index) get `item`? */
  allows(user: number, item: number): boolean {
    if (this.blockedGlobal && this.blockedGlobal[item]) return false;
    return !this.userBlocked[user]?.has(item);
  }

  /** Is every item under `node` (depth d >= 1) blocked for `user`? */
  subtreeBlocked(user: number, d: number, node: number): boolean {
    const global = this.blockedUnder ? this.blockedUnder[d][node] : 0;
    const own = this.userBlockedUnder[user].size ? (this.userBlockedUnder[user].get(this.key(d, node)) ?? 0) : 0;
    return global + own >= this.trie.subtreeItems[d][node];
  }

  apply(step: ProcessorStep, logProbs: Float32Array): void {
    const { trie } = this;
    const d = step.step;
    const start = trie.childStart[d];
    const codes = trie.childCode[d];
    for (let row = 0; row < step.rows; row += 1) {
      const node = step.nodes[row];
      if (node < 0) continue; // off the trie (unconstrained search): no item to block
      const user = step.rowUser[row];
      if (!this.blockedGlobal && this.userBlocked[user].size === 0) continue;
      const base = row * step.width;
      for (let j = start[node]; j < start[node + 1]; j += 1) {
        if (this.subtreeBlocked(user, d + 1, j)) logProbs[base + codes[j]] = -Infinity;
      }
    }
  }

  private key(d: number, node: number): number {
    return node * (this.trie.depth + 1) + d;
  }
}

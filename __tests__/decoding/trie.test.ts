import { PrefixTrie, benchmarkTrie, randomCatalog } from '../../decoding/index.js';

describe('PrefixTrie', () => {
  const catalog = randomCatalog(3000, [16, 16, 16, 8], 5);
  const L = 4;
  const trie = PrefixTrie.build(catalog);

  it('round-trips every ID: ID -> item and item -> ID', () => {
    for (let item = 0; item < trie.items; item += 1) {
      const ids = catalog.codes.subarray(item * L, (item + 1) * L);
      expect(Array.from(trie.itemsAt(ids))).toEqual([item]); // disambiguated: one item per ID
      expect(Array.from(trie.prefixOf(L, trie.itemLeaf[item]))).toEqual(Array.from(ids));
      for (let d = 1; d <= L; d += 1) expect(trie.lookup(ids.subarray(0, d))).toBeGreaterThanOrEqual(0);
    }
    expect(trie.nodeCount[L]).toBe(3000);
  });

  it('lists exactly the next codes some item continues with, sorted, and counts items per subtree', () => {
    const expected = new Map<string, Set<number>>();
    for (let item = 0; item < trie.items; item += 1) {
      const ids = Array.from(catalog.codes.subarray(item * L, (item + 1) * L));
      for (let d = 0; d < L; d += 1) {
        const key = ids.slice(0, d).join(',');
        if (!expected.has(key)) expected.set(key, new Set());
        expected.get(key)!.add(ids[d]);
      }
    }
    for (const [key, codes] of expected) {
      const prefix = key === '' ? [] : key.split(',').map(Number);
      const node = trie.lookup(prefix);
      expect(Array.from(trie.allowedCodes(prefix.length, node))).toEqual([...codes].sort((a, b) => a - b));
    }
    expect(trie.subtreeItems[0][0]).toBe(3000);
    for (let d = 0; d < L; d += 1) expect(trie.nodeCount[d + 1]).toBe(trie.childStart[d][trie.nodeCount[d]]);
    const missing = [0, 0, 0, 0];
    while (trie.lookup(missing) >= 0) missing[3] += 1;
    expect(trie.itemsAt(missing).length).toBe(0);
  });

  it('keeps colliding items together at one leaf, and an empty catalog is valid', () => {
    const dup = PrefixTrie.build({ levels: [3, 3], codes: Int32Array.from([2, 1, 0, 0, 2, 1, 2, 1]) });
    expect(Array.from(dup.itemsAt([2, 1]))).toEqual([0, 2, 3]);
    expect(dup.itemLeaf[0]).toBe(dup.itemLeaf[3]);
    expect(dup.nodeCount[2]).toBe(2);
    const empty = PrefixTrie.build({ levels: [3, 3], codes: new Int32Array(0) });
    expect(empty.lookup([0])).toBe(-1);
    expect(empty.items).toBe(0);
  });

  it('names the item, position and value of a bad code', () => {
    expect(() => PrefixTrie.build({ levels: [3, 3], codes: Int32Array.from([0, 1, 1, 3]) })).toThrow('item 1: code at position 1 must be in [0, 3), got 3');
    expect(() => PrefixTrie.build({ levels: [3, 3], codes: Int32Array.from([0, 1, 1]) })).toThrow(/not a multiple of the ID length 2/);
    expect(() => PrefixTrie.build({ levels: [3, 0], codes: new Int32Array(0) })).toThrow('`levels[1]` must be an integer >= 1, got 0');
  });

  it('benchmarkTrie reports build time, memory and node counts', () => {
    const b = benchmarkTrie({ items: 5000 });
    expect(b.nodesPerDepth[0]).toBe(1);
    expect(b.nodesPerDepth[4]).toBeLessThanOrEqual(5000);
    expect(b.bytes).toBeGreaterThan(5000 * 4);
    expect(b.buildMs).toBeGreaterThanOrEqual(0);
  });
});

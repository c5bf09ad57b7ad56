// Uniform semantic mapping of the last code position (LC-Rec, Zheng et al. 2024): items that share every
// code but the last are siblings, and nearest-code assignment often gives siblings the same last code
// (a collision that only the disambiguation code can then separate). Here each item takes the nearest
// last-level code that no earlier sibling holds; only when all codes of a prefix are taken does it fall
// back to its nearest code (a true collision). Earlier positions are never changed.
//
// "Earlier" is row order, first come first served: appending rows never changes the codes of the rows
// before them, so IDs stay stable when new items are encoded after the catalog. LC-Rec balances the
// last level with Sinkhorn over the colliding items instead; that plan depends on every item of the
// batch at once, which would let a new item move an old item's code.

/** Row key of the first `width` codes of row `r`. */
function prefixKey(prefix: Int32Array, r: number, width: number): string {
  let s = '';
  for (let l = 0; l < width; l++) s += (l ? ',' : '') + prefix[r * width + l];
  return s;
}

/**
 * Assigns last-level codes over one or more blocks of rows (in row order), remembering which codes each
 * prefix already holds across blocks.
 */
export class LastLevelSpreader {
  private readonly taken = new Map<string, Set<number>>(); // codes each prefix holds
  /** Rows that did not get their nearest code (it was held by a sibling). */
  moved = 0;
  /** Rows that kept their nearest code although a sibling holds it (every code of the prefix taken). */
  collided = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`uniform mapping: the last codebook size must be an integer >= 1, got ${size}`);
  }

  /**
   * Last codes of a block: `prefix` [rows, prefixWidth] holds the earlier codes, `distances` [rows, size]
   * each row's squared distance to every last-level code. Returns the chosen codes and, for reports,
   * the nearest codes.
   */
  assign(prefix: Int32Array, prefixWidth: number, distances: Float32Array): { codes: Int32Array; nearest: Int32Array } {
    const k = this.size;
    const rows = distances.length / k;
    if (!Number.isInteger(rows) || prefix.length !== rows * prefixWidth) {
      throw new Error(`uniform mapping: ${prefix.length} prefix codes and ${distances.length} distances do not describe the same rows (${prefixWidth} prefix positions, ${k} codes)`);
    }
    const codes = new Int32Array(rows);
    const nearest = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      const key = prefixKey(prefix, r, prefixWidth);
      let held = this.taken.get(key);
      if (!held) this.taken.set(key, (held = new Set()));
      const o = r * k;
      let best = 0;
      for (let c = 1; c < k; c++) if (distances[o + c] < distances[o + best]) best = c;
      nearest[r] = best;
      let free = held.has(best) ? -1 : best;
      if (free < 0 && held.size < k) {
        for (let c = 0; c < k; c++) if (!held.has(c) && (free < 0 || distances[o + c] < distances[o + free])) free = c;
      }
      if (free < 0) {
        codes[r] = best;
        this.collided += 1;
      } else {
        codes[r] = free;
        held.add(free);
        if (free !== best) this.moved += 1;
      }
    }
    return { codes, nearest };
  }
}

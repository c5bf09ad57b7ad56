// The one selection routine of decoding/: the best `capacity` (score, key) pairs of a stream, kept in a
// bounded min-heap over typed arrays (the worst kept pair on top), so nothing is ever sorted whole.
// Order: higher score first; equal scores: lower key first. Keys are unique per stream (a row * width + code,
// an item), so the result does not depend on the order the pairs arrive in.

/** Is (sa, ka) worse than (sb, kb)? Lower score, or the same score and a later key. */
function worse(sa: number, ka: number, sb: number, kb: number): boolean {
  return sa < sb || (sa === sb && ka > kb);
}

export class TopK {
  private readonly heapScore: Float64Array;
  private readonly heapKey: Float64Array;
  private count = 0;

  constructor(readonly capacity: number) {
    this.heapScore = new Float64Array(capacity);
    this.heapKey = new Float64Array(capacity);
  }

  /** Pairs held now (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** The score a new pair must beat to be kept: the worst kept score once full, else -Infinity. */
  get floor(): number {
    return this.count === this.capacity && this.count > 0 ? this.heapScore[0] : -Infinity;
  }

  /** Keeps (score, key) when it is among the best `capacity` seen since the last drain. */
  offer(score: number, key: number): void {
    if (this.count < this.capacity) {
      this.siftUp(this.count, score, key);
      this.count += 1;
    } else if (this.count > 0 && worse(this.heapScore[0], this.heapKey[0], score, key)) {
      this.siftDown(0, this.count, score, key);
    }
  }

  /**
   * Writes the kept pairs best first to `scores[at..]` / `keys[at..]`, empties the heap, and returns how many
   * it wrote.
   */
  drainBestFirst(scores: Float64Array, keys: Float64Array | Int32Array, at: number): number {
    const n = this.count;
    // Pop the worst into the last free slot: the slots fill from the back, best ends first.
    for (let k = n - 1; k >= 0; k -= 1) {
      scores[at + k] = this.heapScore[0];
      keys[at + k] = this.heapKey[0];
      this.siftDown(0, k, this.heapScore[k], this.heapKey[k]);
    }
    this.count = 0;
    return n;
  }

  /** Places (score, key) at slot `i` of a heap of `i + 1` pairs, moving worse-ordered parents down. */
  private siftUp(i: number, score: number, key: number): void {
    const hs = this.heapScore;
    const hk = this.heapKey;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!worse(score, key, hs[parent], hk[parent])) break;
      hs[i] = hs[parent];
      hk[i] = hk[parent];
      i = parent;
    }
    hs[i] = score;
    hk[i] = key;
  }

  /** Places (score, key) at slot `i` of a heap of `n` pairs, moving worse children up. */
  private siftDown(i: number, n: number, score: number, key: number): void {
    const hs = this.heapScore;
    const hk = this.heapKey;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && worse(hs[right], hk[right], hs[left], hk[left]) ? right : left;
      if (!worse(hs[child], hk[child], score, key)) break;
      hs[i] = hs[child];
      hk[i] = hk[child];
      i = child;
    }
    hs[i] = score;
    hk[i] = key;
  }
}

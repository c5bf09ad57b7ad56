// A seeded random source for the embedding stage (xoshiro128**, seeded through splitmix32): the SVD's
// Gaussian test matrix and the report's pair samples are reproducible from `--seed`, on every platform.

export interface RandomSource {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  gaussian(): number;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A deterministic random source: the same seed gives the same stream. */
export function seededRandom(seed = 0): RandomSource {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
  const init = splitmix32(Math.trunc(seed) >>> 0);
  let s0 = init(), s1 = init(), s2 = init(), s3 = init();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    s0 >>>= 0; s1 >>>= 0; s2 >>>= 0; s3 >>>= 0;
    return result;
  };
  const uniform = (): number => nextUint32() / 4294967296;
  let spare = NaN;
  return {
    uniform,
    int: (n) => Math.floor(uniform() * n),
    gaussian: () => {
      if (!Number.isNaN(spare)) {
        const out = spare;
        spare = NaN;
        return out;
      }
      const u = 1 - uniform(); // (0, 1]: log stays finite
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

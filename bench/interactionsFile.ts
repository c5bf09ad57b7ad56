// Large synthetic interaction files for the `scale` suite, shaped like MovieLens-25M's ratings.csv
// (userId,movieId,rating,timestamp; rows grouped by user, as in the real file): a seeded generator, written
// in blocks so memory stays flat however many rows. Users' history lengths are heavy tailed (log-normal,
// at least 20 as in MovieLens), items follow a Zipf popularity, times are spread over 1995-2019.
// The files are made in a scratch directory by the benchmark and deleted with it: never committed.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface InteractionsFileConfig {
  rows: number;
  users: number;
  items: number;
  seed: number;
}

/** MovieLens-25M: 25,000,095 ratings, 162,541 users, 59,047 movies. */
export const ML25M_SHAPE: InteractionsFileConfig = { rows: 25_000_095, users: 162_541, items: 59_047, seed: 25 };

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** History lengths summing exactly to `rows`: log-normal weights, each at least min(20, rows / users). */
function historyLengths(c: InteractionsFileConfig, random: () => number): Int32Array {
  const floor = Math.min(20, Math.floor(c.rows / c.users));
  const weights = new Float64Array(c.users);
  let sum = 0;
  for (let u = 0; u < c.users; u++) {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    weights[u] = Math.exp(1.2 * normal);
    sum += weights[u];
  }
  const spare = c.rows - floor * c.users;
  const lengths = new Int32Array(c.users);
  let total = 0;
  for (let u = 0; u < c.users; u++) {
    lengths[u] = floor + Math.floor((spare * weights[u]) / sum);
    total += lengths[u];
  }
  for (let u = 0; total < c.rows; u = (u + 1) % c.users, total++) lengths[u] += 1;
  return lengths;
}

/** Cumulative Zipf(1) popularity over items, for sampling by binary search. */
function zipfCdf(items: number): Float64Array {
  const cdf = new Float64Array(items);
  let acc = 0;
  for (let i = 0; i < items; i++) cdf[i] = acc += 1 / (i + 10);
  for (let i = 0; i < items; i++) cdf[i] /= acc;
  return cdf;
}

function sample(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Writes the CSV to `path`; returns its size in bytes. Item ids are a seeded shuffle of popularity ranks. */
export async function writeInteractionsFile(path: string, c: InteractionsFileConfig): Promise<number> {
  const random = mulberry32(c.seed);
  const lengths = historyLengths(c, random);
  const cdf = zipfCdf(c.items);
  const movieId = Int32Array.from({ length: c.items }, (_, i) => i + 1);
  for (let i = c.items - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [movieId[i], movieId[j]] = [movieId[j], movieId[i]];
  }
  const out = createWriteStream(path);
  let bytes = 0;
  let block: string[] = ['userId,movieId,rating,timestamp'];
  const flush = async () => {
    const text = `${block.join('\n')}\n`;
    block = [];
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  const start = 789_652_009; // 1995-01-09, MovieLens' first rating
  const span = 1_574_327_703 - start;
  for (let u = 0; u < c.users; u++) {
    const first = start + Math.floor(random() * span * 0.9);
    for (let k = 0; k < lengths[u]; k++) {
      const item = movieId[sample(cdf, random())];
      const rating = (1 + Math.floor(random() * 10)) / 2;
      const time = first + Math.floor(random() * (start + span - first));
      block.push(`${u + 1},${item},${rating.toFixed(1)},${time}`);
    }
    if (block.length >= 65536) await flush();
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return bytes;
}

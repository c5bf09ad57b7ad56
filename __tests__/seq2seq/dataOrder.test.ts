// The trainer's data order: every epoch is a permutation of the rows, a pure function of (seed, epoch); with row
// lengths, batches hold rows of similar length (a batch's spread of lengths is at most its run's) and the
// order of batches is still shuffled; without lengths the order is the plain shuffle it always was.
import { DataOrder } from '../../seq2seq/index.js';

function epochOrder(order: DataOrder, epoch: number): number[][] {
  const batches: number[][] = [];
  let pos = { epoch, offset: 0 };
  while (pos.epoch === epoch) {
    const { indices, after } = order.next(pos);
    batches.push(Array.from(indices));
    pos = after;
  }
  return batches;
}

const N = 1003;
const lengths = Uint32Array.from({ length: N }, (_, i) => 1 + ((i * 7919) % 21));

test('each epoch is a permutation, a pure function of seed and epoch', () => {
  for (const opts of [[undefined, 0], [lengths, 4]] as const) {
    const a = epochOrder(new DataOrder(N, 3, 32, opts[0], opts[1]), 2);
    const b = epochOrder(new DataOrder(N, 3, 32, opts[0], opts[1]), 2);
    expect(a).toEqual(b);
    expect(a.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(a.slice(0, -1).every((batch) => batch.length === 32)).toBe(true);
    expect(epochOrder(new DataOrder(N, 3, 32, opts[0], opts[1]), 3)).not.toEqual(a);
  }
});

test('without lengths (or with 0 buckets) the order is the plain shuffle', () => {
  expect(epochOrder(new DataOrder(N, 5, 32, lengths, 0), 1)).toEqual(epochOrder(new DataOrder(N, 5, 32), 1));
});

test('bucketed batches hold similar lengths, in shuffled order, the short batch last', () => {
  const spread = (batches: number[][]): number =>
    batches.reduce((s, b) => s + Math.max(...b.map((i) => lengths[i])) - Math.min(...b.map((i) => lengths[i])), 0) / batches.length;
  const plain = epochOrder(new DataOrder(N, 1, 32), 0);
  const bucketed = epochOrder(new DataOrder(N, 1, 32, lengths, 8), 0);
  expect(spread(plain)).toBeGreaterThan(15);
  expect(spread(bucketed)).toBeLessThan(4);
  expect(bucketed[bucketed.length - 1].length).toBe(N % 32);
  // Batches are not in length order across the epoch (the batch order is shuffled).
  const firstLength = bucketed.slice(0, -1).map((b) => Math.min(...b.map((i) => lengths[i])));
  const ascending = firstLength.every((v, i) => i === 0 || v >= firstLength[i - 1]);
  expect(ascending).toBe(false);
});

test('row lengths of the wrong count are refused', () => {
  expect(() => new DataOrder(10, 0, 4, new Uint32Array(9), 2)).toThrow(/row lengths: got 9 for 10 rows/);
});

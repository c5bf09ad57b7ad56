// sequences.parquet read whole, compactly: one row group at a time (parquet-wasm's memory holds one group, not
// the file and its decoded table), every user's items copied into one Int32Array (4 bytes an interaction) and
// handed out as per-user views; timestamps likewise into one Float64Array, or not read at all.
import { readInt32Column, readFloat64ListColumn, readInt32ListColumn, readUtf8Column } from './parquet.js';
import { ParquetRowGroups } from './parquetStream.js';
import type { Sequences } from './types.js';

/** One growable typed buffer; views handed out stay valid (a grown buffer leaves older views on the old one). */
class Packed<T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>> {
  private used = 0;
  constructor(private buffer: T, private readonly make: (n: number) => T) {}

  push(values: ArrayLike<number>): T {
    if (this.used + values.length > this.buffer.length) {
      this.buffer = this.make(Math.max(2 * this.buffer.length, this.used + values.length, 1024));
      this.used = 0;
    }
    this.buffer.set(values, this.used);
    const view = this.buffer.subarray(this.used, this.used + values.length) as T;
    this.used += values.length;
    return view;
  }
}

/**
 * Reads sequences.parquet at `path` (dense user ids in row order are checked). `interactions` sizes the buffers
 * (the manifest's count; a wrong one costs memory, not correctness: the caller validates the counts).
 */
export async function readSequencesFile(path: string, options: { timestamps: boolean; interactions: number }): Promise<Sequences> {
  const groups = await ParquetRowGroups.open(path);
  try {
    const withTimes = options.timestamps && groups.hasColumn('timestamps');
    const withDomain = groups.hasColumn('domain');
    const columns = ['user_id', 'user_key', 'items', ...(withTimes ? ['timestamps'] : []), ...(withDomain ? ['domain'] : [])];
    const size = Math.max(0, options.interactions);
    const items = new Packed(new Int32Array(size), (n) => new Int32Array(n));
    const times = withTimes ? new Packed(new Float64Array(size), (n) => new Float64Array(n)) : null;
    const sequences: Sequences = { userKeys: [], items: [], timestamps: withTimes ? [] : null, ...(withDomain ? { domains: [] } : {}) };
    for (let g = 0; g < groups.rowGroupRows.length; g++) {
      const table = await groups.read(g, columns);
      const ids = readInt32Column(table, 'user_id', path);
      const first = sequences.userKeys.length;
      for (let r = 0; r < ids.length; r++) {
        if (ids[r] !== first + r) throw new Error(`${path}: column "user_id" must be 0..${groups.numRows - 1} in row order; row ${first + r} has ${ids[r]}`);
      }
      for (const key of readUtf8Column(table, 'user_key', path)) sequences.userKeys.push(key);
      for (const seq of readInt32ListColumn(table, 'items', path)) sequences.items.push(items.push(seq));
      if (times) for (const ts of readFloat64ListColumn(table, 'timestamps', path)) sequences.timestamps!.push(times.push(ts));
      if (withDomain) for (const d of readUtf8Column(table, 'domain', path)) sequences.domains!.push(d);
    }
    return sequences;
  } finally {
    groups.close();
  }
}

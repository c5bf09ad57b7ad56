// Side rows: a task's rows that ride along with the main rows of each step instead of taking their place (DSI's
// indexing rows beside the recommendation examples, issue 17). Example i of the main rows carries side rows
// [floor(i*S/E), floor((i+1)*S/E)) of S side rows over E examples, so an epoch of the examples covers every side row
// exactly once, and a step trains the same history rows as a model without the side task. Side rows are short (an
// item text, no history), so they add little compute; the loss is the mean over both batches' targets.
import * as tf from '@tensorflow/tfjs';
import type { DropoutSeeds } from './layers.js';
import type { TrainBatch } from './model.js';

/** The side rows that example indices carry (see the file's head); E examples, S side rows. */
export function sideRowsOf(indices: ArrayLike<number>, examples: number, side: number): number[] {
  const out: number[] = [];
  if (side === 0 || examples === 0) return out;
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j];
    const first = Math.floor((i * side) / examples);
    const end = Math.floor(((i + 1) * side) / examples);
    for (let k = first; k < end; k++) out.push(k);
  }
  return out;
}

/** One step's batch of main rows and side rows: mean loss over all their targets; `rows` splits both in proportion. */
export function withSideRows(main: TrainBatch, side: TrainBatch): TrainBatch {
  const size = main.size + side.size;
  const targets = main.targets + side.targets;
  return {
    size, targets, positions: Math.max(main.positions, side.positions), tokens: main.tokens + side.tokens,
    rows: (start, end) => {
      const part = (b: TrainBatch) => [Math.round((start * b.size) / size), Math.round((end * b.size) / size)];
      const [ms, me] = part(main);
      const [ss, se] = part(side);
      if (se <= ss) return main.rows(ms, me);
      if (me <= ms) return side.rows(ss, se);
      return withSideRows(main.rows(ms, me), side.rows(ss, se));
    },
    loss: (seeds: DropoutSeeds | null) => tf.tidy(() => tf.add(
      tf.mul(main.loss(seeds), main.targets / targets), // []
      tf.mul(side.loss(seeds), side.targets / targets), // []
    ) as tf.Scalar),
  };
}

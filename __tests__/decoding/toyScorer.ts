// A deterministic toy model for decoding tests: the log-probs of the next code are a pure function of
// (user, prefix), so exhaustive enumeration can serve as the oracle. It also checks the session contract:
// each row's prefix extends the prefix of its `rowParent` row of the previous call.
import type { ScoringSession, StepScorer } from '../../decoding/index.js';

function hash(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) {
    h ^= x + 0x9e3779b9;
    h = Math.imul(h, 16777619) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0 || 1;
}

export function toyLogProbs(user: number, prefix: ArrayLike<number>, width: number): Float32Array {
  let state = hash(user, prefix.length, ...Array.from(prefix));
  const logits = new Float64Array(width);
  let max = -Infinity;
  for (let c = 0; c < width; c += 1) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    logits[c] = (state / 2 ** 32) * 6;
    max = Math.max(max, logits[c]);
  }
  let sum = 0;
  for (let c = 0; c < width; c += 1) sum += Math.exp(logits[c] - max);
  const out = new Float32Array(width);
  for (let c = 0; c < width; c += 1) out[c] = logits[c] - max - Math.log(sum);
  return out;
}

/** Sum of the toy log-probs of a full ID, in the same float order as the search adds them. */
export function toyScore(user: number, ids: ArrayLike<number>, levels: readonly number[]): number {
  let s = 0;
  for (let d = 0; d < ids.length; d += 1) s += toyLogProbs(user, Array.from(ids).slice(0, d), levels[d])[ids[d]];
  return s;
}

export interface ToyScorerLog {
  sessions: number;
  closed: number;
  rowsPerStep: number[];
}

export function toyScorer(levels: number[], log: ToyScorerLog = { sessions: 0, closed: 0, rowsPerStep: [] }): StepScorer<{ user: number; history: Int32Array }> {
  return {
    levels,
    async start(contexts): Promise<ScoringSession> {
      log.sessions += 1;
      let previous: Int32Array | null = null;
      let closed = false;
      return {
        async next({ step, prefixes, rowUser, rowParent }) {
          if (closed) throw new Error('next after close');
          const rows = rowUser.length;
          if (prefixes.length !== rows * step) throw new Error(`prefixes length ${prefixes.length} != ${rows} x ${step}`);
          for (let r = 0; r < rows; r += 1) {
            if (step === 0) {
              if (rowParent[r] !== -1) throw new Error('rowParent must be -1 at step 0');
              continue;
            }
            const p = rowParent[r];
            for (let d = 0; d < step - 1; d += 1) {
              if (previous![p * (step - 1) + d] !== prefixes[r * step + d]) throw new Error(`row ${r} does not extend its parent ${p}`);
            }
          }
          previous = prefixes.slice();
          log.rowsPerStep.push(rows);
          const V = levels[step];
          const out = new Float32Array(rows * V);
          for (let r = 0; r < rows; r += 1) {
            out.set(toyLogProbs(contexts[rowUser[r]].user, prefixes.subarray(r * step, (r + 1) * step), V), r * V);
          }
          return out;
        },
        close() {
          closed = true;
          log.closed += 1;
        },
      };
    },
  };
}

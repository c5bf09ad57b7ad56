// A toy "next item" model for pipeline tests: it puts most probability on the ID of the item that follows
// the user's last history item (item + 1, wrapping), and spreads the rest evenly. Deterministic.
import type { ScoringSession, StepScorer } from '../../decoding/index.js';
import type { SemanticIds } from '../../tokenizer/index.js';
import type { UserContext } from '../../pipelines/evaluate/index.js';

export function followerScorer(ids: SemanticIds): StepScorer<UserContext> {
  const L = ids.levels.length;
  const n = ids.codes.length / L;
  return {
    levels: ids.levels,
    async start(contexts): Promise<ScoringSession> {
      return {
        async next({ step, prefixes, rowUser }) {
          const V = ids.levels[step];
          const rows = rowUser.length;
          const out = new Float32Array(rows * V);
          for (let r = 0; r < rows; r += 1) {
            const history = contexts[rowUser[r]].history;
            const want = history.length ? (history[history.length - 1] + 1) % n : 0;
            let onPath = true;
            for (let d = 0; d < step; d += 1) if (prefixes[r * step + d] !== ids.codes[want * L + d]) onPath = false;
            // a small prefix-and-code-dependent tilt, so no two IDs tie
            let h = 2166136261;
            for (let d = 0; d < step; d += 1) h = Math.imul(h ^ (prefixes[r * step + d] + 1), 16777619) >>> 0;
            for (let c = 0; c < V; c += 1) {
              const hc = Math.imul(h ^ (c + 101 * (step + 1)), 16777619) >>> 0;
              out[r * V + c] = Math.log(0.1 / V) - 0.05 * ((hc % 100003) / 100003);
            }
            if (onPath) out[r * V + ids.codes[want * L + step]] = Math.log(0.9);
          }
          return out;
        },
        close() {},
      };
    },
  };
}

/** n items, IDs with 3 levels of 4 codes plus a disambiguation code. */
export function toyCodes(n: number): SemanticIds {
  const levels = [4, 4, 4, 8];
  const codes = new Int32Array(n * 4);
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i += 1) {
    const a = (i * 7) % 4;
    const b = Math.floor(i / 4) % 4;
    const c = Math.floor(i / 16) % 4;
    const key = `${a},${b},${c}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    codes.set([a, b, c, k], i * 4);
  }
  return { levels, codes };
}

// Tiny synthetic fixtures for the seq2seq tests: a catalog with 3-level semantic IDs and users whose next
// item follows a learnable rule.
import type { StepScorer } from '../../decoding/index.js';
import type { SemanticIds } from '../../tokenizer/index.js';
import type { ScorerOptions, SequenceModel, TrainingExample, UserContext } from '../../seq2seq/index.js';

/** The model's own beam-search scorer (its incremental decoding where it has one). */
export function beamScorer(model: SequenceModel, itemCodes: SemanticIds, opts: ScorerOptions = {}): StepScorer<UserContext> {
  const scorer = model.scorer(itemCodes, opts);
  if (scorer.kind !== 'beam') throw new Error(`the ${model.config.arch} model ranks the catalog exactly; it has no step scorer`);
  return scorer.step;
}

export function tinyCatalog(items = 24, levels = [4, 3, 2]): SemanticIds {
  const L = levels.length;
  const codes = new Int32Array(items * L);
  const seen = new Set<string>();
  let i = 0;
  for (let a = 0; a < levels[0] && i < items; a++) {
    for (let b = 0; b < levels[1] && i < items; b++) {
      for (let c = 0; c < levels[2] && i < items; c++) {
        const key = `${a},${b},${c}`;
        if (seen.has(key)) continue;
        seen.add(key);
        codes.set([a, b, c], i * L);
        i += 1;
      }
    }
  }
  return { levels, codes };
}

/** Users walk the catalog: item t+1 = (item t * 5 + 1) mod items; the model must learn the successor map. */
export function walkExamples(users: number, items: number, length = 6, seed = 1): TrainingExample[] {
  const out: TrainingExample[] = [];
  let s = seed;
  for (let u = 0; u < users; u++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const seq = [s % items];
    for (let t = 1; t < length; t++) seq.push((seq[t - 1] * 5 + 1) % items);
    const h = 1 + (u % (length - 1));
    out.push({ user: u, history: Int32Array.from(seq.slice(0, h)), target: seq[h] });
  }
  return out;
}

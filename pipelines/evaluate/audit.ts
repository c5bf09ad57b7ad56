// The exact-scoring audit: the whole catalog scored exactly (teacher forcing over the trie) for a sample of users,
// and beam search's top-K compared with the exact top-K (`semid eval --exact-sample N`).
import { beamMissRate, exactScores, topItems, type PrefixTrie, type StepScorer } from '../../decoding/index.js';
import type { UserContext } from '../../seq2seq/index.js';
import { Progress } from '../../tokenizer/io/index.js';
import { contextDomain, type DomainIndex, type Example } from '../data/index.js';
import { metricsFromRanks, rankOf, type Metrics } from '../metrics.js';
import { throwIfStopped, type StopRequest } from '../stop.js';

export interface BeamMissReport {
  users: number;
  /** Per K: mean fraction of the exact top-K that beam search did not return. */
  missRate: Record<string, number>;
  /** Recall/NDCG of the exact ranking of the whole catalog on the same users. */
  exact: Metrics;
  /** The same metrics of beam search on the same users, for comparison. */
  beam: Metrics;
}

/**
 * Scores every catalog item exactly for `examples` (teacher forcing over the trie) and compares the
 * exact top-K to beam search's. Expensive: one scorer row per trie node per user.
 */
export async function beamMissRates(options: {
  scorer: StepScorer<UserContext>;
  trie: PrefixTrie;
  examples: readonly Example[];
  recommended: readonly Int32Array[];
  ks: readonly number[];
  excludeHistory?: boolean;
  maxRows?: number;
  progress?: boolean;
  /** Multi-domain data: the exact ranking, as beam search, covers the user's domain only. */
  domains?: DomainIndex | null;
  /** A signal's stop request: the audit stops before its next user. */
  stop?: StopRequest;
}): Promise<BeamMissReport> {
  const { domains } = options;
  const { trie, examples, ks } = options;
  const topK = Math.max(...ks);
  const miss = new Float64Array(ks.length);
  const exactRanks = new Int32Array(examples.length);
  const beamRanks = new Int32Array(examples.length);
  const progress = new Progress({ label: 'exact scoring', total: examples.length, unit: 'user', silent: options.progress === false });
  for (let i = 0; i < examples.length; i += 1) {
    throwIfStopped(options.stop, 'stopped during the exact-scoring audit');
    const e = examples[i];
    const domain = domains ? contextDomain(domains, e.user, e.history) : -1;
    const scores = await exactScores(options.scorer, trie, [{ user: e.user, history: e.history, ...(domains ? { domain } : {}) }], { maxRows: options.maxRows });
    const history = options.excludeHistory ? new Set(e.history) : null;
    const exact = topItems(scores, topK, (item) => (history !== null && history.has(item)) || (domains !== null && domains !== undefined && domains.itemDomain[item] !== domain));
    const beam = options.recommended[i];
    ks.forEach((k, j) => {
      miss[j] += beamMissRate(beam.subarray(0, k), exact.subarray(0, k));
    });
    exactRanks[i] = rankOf(exact, e.target);
    beamRanks[i] = rankOf(beam, e.target);
    progress.update(i + 1);
  }
  progress.finish();
  const missRate: Record<string, number> = {};
  ks.forEach((k, j) => {
    missRate[`@${k}`] = examples.length ? miss[j] / examples.length : 0;
  });
  return { users: examples.length, missRate, exact: metricsFromRanks(exactRanks, ks), beam: metricsFromRanks(beamRanks, ks) };
}

// `semid eval`: Recall@K / NDCG@K of a model's constrained beam search (leave-one-out, full catalog),
// with popularity and dense baselines, written as JSON.
import type { Argv, CommandModule } from 'yargs';
import { parseKs, parsePreferenceModes, runEvaluation, untilStopped } from '../pipelines/index.js';

export const evalCommand: CommandModule = {
  command: 'eval',
  describe: 'evaluate a model: Recall@K, NDCG@K (leave-one-out, full catalog) with popularity and dense baselines',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory' })
    .option('tokenizer', { type: 'string', demandOption: true, describe: 'tokenizer directory TOKDIR (codes.parquet)' })
    .option('model', { type: 'string', demandOption: true, describe: 'model directory' })
    .option('split', { type: 'string', choices: ['valid', 'test'], default: 'test', describe: 'leave-one-out split' })
    .option('k', { type: 'string', default: '5,10,20', describe: 'cutoffs K, comma-separated' })
    .option('beam', { type: 'number', default: 20, describe: 'beam size (>= the largest K)' })
    .option('users', { type: 'number', describe: 'evaluate N users, evenly spaced over the split (default all)' })
    .option('batch-size', { type: 'number', default: 256, describe: 'users per beam-search batch' })
    .option('exclude-history', { type: 'boolean', default: false, describe: 'never recommend items of the user\'s history (off in the TIGER protocol)' })
    .option('embeddings', { type: 'string', default: 'default', describe: 'embeddings name for the dense baseline' })
    .option('dense-last', { type: 'number', default: 5, describe: 'dense baseline: history items averaged into the user vector' })
    .option('exact-sample', { type: 'number', default: 0, describe: 'compare beam search with exact scoring of the whole catalog on N users' })
    .option('max-history', { type: 'number', describe: 'history items per user (default and maximum: the model maxHistory)' })
    .option('unconstrained', { type: 'boolean', default: false, describe: 'research: beam search without the catalog trie (reports the invalid-ID rate)' })
    .option('fallback', { type: 'boolean', default: false, describe: 'with --unconstrained: map invalid IDs to the nearest item (tokenizer decode + HNSW)' })
    .option('allow-mismatch', { type: 'boolean', default: false, describe: 'use the model although the data set or tokenizer differ from those it was trained on' })
    .option('sasrec-steps', { type: 'number', default: 0, describe: 'baseline: train SASRec (full-softmax CE, the sasrec preset) for N steps on the training part and rank the same users (0 = off)' })
    .option('sasrec-minutes', { type: 'number', describe: 'with --sasrec-steps: stop its training after M minutes' })
    .option('task', { type: 'string', choices: ['recommend', 'search'], default: 'recommend', describe: 'recommend: next-item ranking; search (DSI): noisy item-title queries, the model against BM25 (Recall@K, MRR)' })
    .option('queries', { type: 'number', describe: 'with --task search: number of queries, one per item spread over the catalog (default 1000)' })
    .option('preference-mode', { type: 'string', describe: 'Mender\'s checks of a model trained with --text-tokens: none, history, steer, negative, comma-separated, or all' })
    .option('preferences', { type: 'string', describe: 'with --preference-mode history: preference file (user_key, text); default DIR/preferences.parquet when present' })
    .option('domain', { type: 'string', describe: 'multi-domain data set: evaluate this domain\'s users only (default: every domain, reported per domain and overall)' })
    .option('out', { type: 'string', demandOption: true, describe: 'metrics JSON path' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const report = await untilStopped(runEvaluation({
      data: a.data as string,
      tokenizer: a.tokenizer as string,
      model: a.model as string,
      split: a.split as 'valid' | 'test',
      ks: parseKs(a.k as string),
      beamSize: a.beam as number,
      users: a.users as number | undefined,
      batchSize: a.batchSize as number,
      excludeHistory: a.excludeHistory as boolean,
      embeddings: a.embeddings as string,
      denseLastItems: a.denseLast as number,
      exactSample: a.exactSample as number,
      maxHistory: a.maxHistory as number,
      unconstrained: a.unconstrained as boolean,
      fallback: a.fallback as boolean,
      out: a.out as string,
      allowMismatch: a.allowMismatch as boolean,
      sasrecSteps: a.sasrecSteps as number,
      sasrecMinutes: a.sasrecMinutes as number | undefined,
      task: a.task as 'recommend' | 'search',
      queries: a.queries as number | undefined,
      preferenceModes: typeof a.preferenceMode === 'string' ? parsePreferenceModes(a.preferenceMode) : undefined,
      preferences: a.preferences as string | undefined,
      domain: a.domain as string | undefined,
    }));
    if (report === null) return;
    const ks = report.ks as number[];
    if (report.task === 'search' || report.task === 'preferences') {
      process.stdout.write(`${formatTextReport(report, ks)}written to ${a.out as string}\n`);
      return;
    }
    const line = (name: string, m: Record<string, unknown>): string =>
      `${name.padEnd(11)} ${ks.map((k) => `R@${k} ${(m[`recall@${k}`] as number).toFixed(4)}  N@${k} ${(m[`ndcg@${k}`] as number).toFixed(4)}`).join('  ')}`;
    const baselines = report.baselines as Record<string, Record<string, unknown>>;
    process.stdout.write(`${line('model', report)}\n${line('popularity', baselines.popularity)}\n`);
    if (!baselines.dense.skipped) process.stdout.write(`${line('dense', baselines.dense)}\n`);
    if (baselines.sasrec) process.stdout.write(`${line('sasrec', baselines.sasrec)}  (${baselines.sasrec.steps as number} steps, ${(baselines.sasrec.trainSeconds as number).toFixed(0)} s)\n`);
    const byDomain = report.byDomain as Record<string, Record<string, Record<string, unknown> | number>> | undefined;
    for (const [name, d] of Object.entries(byDomain ?? {})) {
      if (typeof d.model !== 'object') continue;
      process.stdout.write(`domain ${name} (${d.users as number} users)\n  ${line('model', d.model)}\n  ${line('popularity', d.popularity as Record<string, unknown>)}\n`);
      if (typeof d.dense === 'object') process.stdout.write(`  ${line('dense', d.dense)}\n`);
    }
    process.stdout.write(`${report.users} users, ${(report.usersPerSecond as number).toFixed(1)} users/s; written to ${a.out as string}\n`);
  },
};

/** The lines `eval` prints for the search task and the preference checks. */
function formatTextReport(report: Record<string, unknown>, ks: number[]): string {
  const f = (x: unknown): string => (typeof x === 'number' ? x.toFixed(4) : String(x));
  const metrics = (m: Record<string, unknown>): string => ks.map((k) => `R@${k} ${f(m[`recall@${k}`])}`).join('  ');
  const lines: string[] = [];
  if (report.task === 'search') {
    const m = report.model as Record<string, unknown>;
    const b = report.bm25 as Record<string, unknown>;
    lines.push(`search, ${report.queries as number} queries (${report.queryRule as string})`);
    lines.push(`model  ${metrics(m)}  MRR ${f(m.mrr)}`, `bm25   ${metrics(b)}  MRR ${f(b.mrr)}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(`preferences, ${report.users as number} ${report.split as string} users`);
  lines.push(`none            ${metrics(report.none as Record<string, unknown>)}`);
  const history = report.history as Record<string, unknown> | undefined;
  if (history) lines.push(`history         ${metrics(history)}  (${history.withPreference as number} with a preference)`);
  const steer = report.steer as Record<string, Record<string, unknown>> | undefined;
  if (steer) lines.push(`steer (right)   ${metrics(steer.right)}`, `steer (wrong)   ${metrics(steer.wrong)}`);
  const negative = report.negative as Record<string, Record<string, unknown>> | undefined;
  if (negative) {
    for (const [kind, r] of Object.entries(negative)) {
      const before = Object.entries(r).find(([k]) => k.startsWith('shareBefore'));
      const after = Object.entries(r).find(([k]) => k.startsWith('shareAfter'));
      lines.push(`negative ${kind.padEnd(8)} share of the named ${kind} in the top 10: ${f(before?.[1])} -> ${f(after?.[1])} (${r.users as number} users)`);
    }
  }
  return `${lines.join('\n')}\n`;
}

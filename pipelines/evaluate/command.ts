// `semid eval`: the model and every baseline on one split, written to `out` as JSON. The model is ranked under
// both protocols in use: unmasked (TIGER's: a history item may be recommended) and masked (S3-Rec's full-sort
// evaluation, which SASRec's and S3-Rec's published figures come from: history items are never recommended). The
// top-level figures, the baselines, the buckets and the audit follow `--exclude-history` (like for like).
// On a multi-domain data set every user is ranked within its own domain (model and baselines alike), the report
// gains `byDomain` (each domain's metrics of the model and every baseline), and `--domain NAME` evaluates one
// domain's users only.
import { PrefixTrie, type InvalidIdFallback } from '../../decoding/index.js';
import { loadTokenizer } from '../../tokenizer/index.js';
import { checkOutputFile, writeJsonAtomic } from '../../tokenizer/io/index.js';
import { Stopped, throwIfStopped, withStopOnSignals, type StopRequest } from '../stop.js';
import { domainId, domainIndex, lazyExamples, readEmbeddings } from '../data/index.js';
import { metricsFromRanks } from '../metrics.js';
import { checkSasrecBudget } from '../sasrecBaseline.js';
import { openTrainedModel } from '../trainedModel.js';
import { beamMissRates, type BeamMissReport } from './audit.js';
import { BASELINES, itemNeighbourIndex, trainingPopularity, type BaselineContext, type BaselineResult, type ItemIndex } from './baselines.js';
import { metricsByPopularity } from './buckets.js';
import { metricsByDomain } from './domains.js';
import { nearestItemFallback } from './fallback.js';
import { evaluatePreferenceModes, type PreferenceMode } from './preferences.js';
import { evaluateSearch } from './search.js';
import { checkTopK, evenSample, isCatalogScorer, rankerOf, rankWithModel, type ModelRanks, type RankOptions } from './ranking.js';

export interface EvaluationRunOptions {
  data: string;
  tokenizer: string;
  model: string;
  split: 'valid' | 'test';
  ks?: readonly number[];
  beamSize?: number;
  /** Evaluate this many users (evenly spaced over the split), default all. */
  users?: number;
  batchSize?: number;
  /** The protocol of the top-level figures and the baselines: never recommend a history item (S3-Rec's). */
  excludeHistory?: boolean;
  /** Embeddings name in the data set for the dense baseline (default "default"). */
  embeddings?: string;
  /** History items averaged into the dense baseline's user vector (default 5). */
  denseLastItems?: number;
  /** Users of the sample on which beam search is compared with exact scoring (default 0: none). */
  exactSample?: number;
  maxHistory?: number;
  /** Research: search without the trie constraint (the invalid-ID rate is reported). */
  unconstrained?: boolean;
  /** With `unconstrained`: map invalid IDs to the nearest item (tokenizer decode + HNSW over the embeddings). */
  fallback?: boolean;
  out: string;
  /** Use a model whose recorded data set or tokenizer differ from the given ones (see provenance.ts). */
  allowMismatch?: boolean;
  progress?: boolean;
  /** Train the SASRec baseline for this many steps on the split's training part (0 or absent: no SASRec baseline). */
  sasrecSteps?: number;
  /** Cut the SASRec baseline's training at this many minutes. */
  sasrecMinutes?: number;
  /** `recommend` (default: next-item ranking, baselines) or `search` (DSI: noisy item-text queries vs BM25; search.ts). */
  task?: 'recommend' | 'search';
  /** Mender's preference checks instead of the plain ranking (preferences.ts); a model with text tokens. */
  preferenceModes?: readonly PreferenceMode[];
  /** With `history`: a preference file (user_key, text); default DIR/preferences.parquet when it exists. */
  preferences?: string;
  /** `search`: number of queries (default 1,000). */
  queries?: number;
  /** Multi-domain data: evaluate this domain's users only. */
  domain?: string;
}

/**
 * `semid eval`: `out` is checked before any work; the model's tensors are released when it returns (several calls
 * in one process keep none).
 */
export async function runEvaluation(options: EvaluationRunOptions): Promise<Record<string, unknown>> {
  if (options.split !== 'valid' && options.split !== 'test') throw new Error(`--split must be valid or test, got "${String(options.split)}"`);
  await checkOutputFile(options.out);
  if (options.sasrecSteps) checkSasrecBudget({ steps: options.sasrecSteps, minutes: options.sasrecMinutes });
  const opened = await openTrainedModel({
    data: options.data, tokenizer: options.tokenizer, model: options.model, command: 'eval', allowMismatch: options.allowMismatch,
    maxHistory: options.maxHistory, quiet: options.progress === false,
  });
  try {
    // A signal stops the job before its next batch of users; the report is written whole at the end, so nothing is.
    const report = await withStopOnSignals(EVAL_STOP_MESSAGES, (stop) => evaluationJob(options, opened, stop)).catch((err: unknown) => {
      if (err instanceof Stopped) throw new Stopped(err.reason, `eval: stopped (${err.reason}) before the end; nothing was written to ${options.out} (the report is written whole when the job ends); run the same command again to evaluate`);
      throw err;
    });
    await writeJsonAtomic(options.out, report);
    return report;
  } finally {
    opened.model.dispose();
  }
}

const EVAL_STOP_MESSAGES = { finishing: 'stopping after the current batch of users (nothing is written)', atOnce: 'exiting now (nothing is written)' };

/** The job `eval` runs: search, the preference checks, or the plain ranking with baselines. */
async function evaluationJob(options: EvaluationRunOptions, opened: Awaited<ReturnType<typeof openTrainedModel>>, stop: StopRequest): Promise<Record<string, unknown>> {
  const ks = options.ks ?? [5, 10, 20];
  const beamSize = options.beamSize ?? 20;
  const where = { data: options.data, tokenizer: options.tokenizer, modelDir: options.model, createdAt: new Date().toISOString() };
  if ((options.task === 'search' || options.preferenceModes) && domainIndex(opened.dataset)) {
    throw new Error(`${options.data} is a multi-domain data set: --task search and --preference-mode rank without domains (not built yet); evaluate one domain's data set`);
  }
  if (options.task === 'search') {
    if (options.preferenceModes) throw new Error('--task search and --preference-mode are separate evaluations: run eval once for each');
    return { ...(await evaluateSearch(opened, { ks, beamSize, queries: options.queries ?? options.users, batchSize: options.batchSize, progress: options.progress, stop })), ...where };
  }
  if (options.task !== undefined && options.task !== 'recommend') throw new Error(`--task must be recommend or search, got "${String(options.task)}"`);
  if (options.preferenceModes) {
    const report = await evaluatePreferenceModes(opened, {
      data: options.data, split: options.split, modes: options.preferenceModes, ks, beamSize, users: options.users, batchSize: options.batchSize,
      excludeHistory: options.excludeHistory ?? false, preferences: options.preferences, maxHistory: options.maxHistory, progress: options.progress, stop,
    });
    return { task: 'preferences', modes: options.preferenceModes, ...report, ...where };
  }
  return evaluate(options, opened, stop);
}

/** The item embeddings' HNSW index, built on first use and shared by the dense baseline and the fallback. */
function sharedItemIndex(options: EvaluationRunOptions, topK: number): () => Promise<ItemIndex> {
  let built: Promise<ItemIndex> | null = null;
  return () => (built ??= readEmbeddings(options.data, options.embeddings ?? 'default').then((embeddings) => ({ embeddings, index: itemNeighbourIndex(embeddings, Math.max(100, 2 * topK)) })));
}

async function evaluate(options: EvaluationRunOptions, opened: Awaited<ReturnType<typeof openTrainedModel>>, stop: StopRequest): Promise<Record<string, unknown>> {
  const { dataset, itemCodes, model, ranker: scorer } = opened;
  const ks = [...(options.ks ?? [5, 10, 20])].sort((a, b) => a - b);
  const beamSize = options.beamSize ?? 20;
  const topK = ks[ks.length - 1];
  const excludeHistory = options.excludeHistory ?? false;
  const log = (m: string): void => {
    if (options.progress !== false) process.stderr.write(`${m}\n`);
  };
  checkTopK(scorer, topK, beamSize);
  const domains = domainIndex(dataset);
  const domain = options.domain === undefined ? null : domainId(domains, options.domain);
  // Examples computed on access (lazyExamples: 12 bytes a user), and all of them unless --users samples some.
  const all = lazyExamples(dataset.sequences, options.split, {
    maxHistory: options.maxHistory ?? model.config.maxHistory, keepUser: domain === null ? undefined : (u) => domains!.userDomain[u] === domain,
  });
  const examples = options.users === undefined || options.users >= all.length ? all : evenSample(all.length, options.users).map((i) => all[i]);
  if (examples.length === 0) throw new Error(`${options.data}${domain === null ? '' : ` (domain ${options.domain})`}: no ${options.split} examples (every user is too short)`);
  const trie = PrefixTrie.build(itemCodes);
  const itemIndex = sharedItemIndex(options, topK);
  let fallback: InvalidIdFallback | undefined;
  if (options.fallback) {
    if (!options.unconstrained) throw new Error('--fallback needs --unconstrained (constrained search never generates an invalid ID)');
    const { embeddings, index } = await itemIndex();
    fallback = nearestItemFallback(await loadTokenizer(options.tokenizer), embeddings, { index });
  }
  // Recommended lists are kept only for the exact-scoring audit's sample (the rest of the report needs ranks).
  const auditSample = options.exactSample && options.exactSample > 0 && !isCatalogScorer(scorer) ? evenSample(examples.length, options.exactSample) : [];
  const audited = new Set(auditSample);
  const rank = (exclude: boolean, keep: (i: number) => boolean): Promise<ModelRanks> => rankWithModel({
    scorer, trie, examples, topK, beamSize, batchSize: options.batchSize, excludeHistory: exclude, progress: options.progress,
    label: `eval ${options.split}${exclude ? ' (history masked)' : ''}`, constrained: !options.unconstrained, fallback, domains, keepRecommended: keep, stop,
  } satisfies RankOptions);
  const modelRun = await rank(excludeHistory, (i) => audited.has(i));
  const otherRun = await rank(!excludeHistory, () => false);
  const [unmasked, masked] = excludeHistory ? [otherRun, modelRun] : [modelRun, otherRun];

  const popularity = trainingPopularity(dataset.sequences, dataset.items.keys.length);
  const context: BaselineContext = {
    examples, topK, excludeHistory, popularity, itemIndex, sequences: dataset.sequences, itemCodes, maxHistory: model.config.maxHistory, log, domains, stop,
    rankModel: async (s) => (await rankWithModel({ scorer: rankerOf(s), trie, examples, topK, beamSize, excludeHistory, progress: false, domains, stop })).ranks,
    options: {
      data: options.data, embeddings: options.embeddings, denseLastItems: options.denseLastItems, sasrecSteps: options.sasrecSteps, sasrecMinutes: options.sasrecMinutes,
    },
  };
  const baselines: Record<string, BaselineResult> = {};
  for (const baseline of BASELINES) {
    throwIfStopped(stop, `before the ${baseline.name} baseline`);
    const result = await baseline.run(context);
    if (result === null) continue;
    baselines[baseline.name] = result;
    if ('skipped' in result) log(`eval: ${baseline.name} baseline skipped: ${result.skipped}`);
  }
  const ranks: Record<string, Int32Array> = { model: modelRun.ranks };
  for (const [name, result] of Object.entries(baselines)) if ('ranks' in result) ranks[name] = result.ranks;

  let beamMiss: BeamMissReport | null = null;
  if (auditSample.length > 0 && !isCatalogScorer(scorer)) {
    const sample = auditSample;
    beamMiss = await beamMissRates({
      scorer, trie, ks, excludeHistory, progress: options.progress, domains, stop,
      examples: sample.map((i) => examples[i]),
      recommended: sample.map((i) => modelRun.recommended[i]),
    });
  }

  return {
    split: options.split,
    users: examples.length,
    usersInSplit: all.length,
    ks,
    beamSize,
    excludeHistory,
    ...metricsFromRanks(modelRun.ranks, ks),
    usersPerSecond: modelRun.usersPerSecond,
    constrained: !options.unconstrained,
    invalidRate: modelRun.stats.invalidRate,
    ...(options.unconstrained ? { invalidIds: modelRun.stats.invalid, generatedIds: modelRun.stats.generated, fallbackMapped: modelRun.stats.fallbackMapped } : {}),
    searchMsPerUser: modelRun.stats.searchMs / examples.length,
    protocols: {
      unmasked: { note: 'history items may be recommended (TIGER)', ...metricsFromRanks(unmasked.ranks, ks) },
      masked: { note: 'history items never recommended (S3-Rec full-sort: SASRec, S3-Rec)', ...metricsFromRanks(masked.ranks, ks) },
    },
    baselines: Object.fromEntries(Object.entries(baselines).map(([name, r]) => [name, baselineReport(r, ks)])),
    byPopularity: metricsByPopularity(popularity, examples, ks, ranks),
    ...(domains ? { domains: domains.names, ...(domain === null ? {} : { domain: options.domain }), byDomain: metricsByDomain(domains, examples, ks, ranks) } : {}),
    ...(beamMiss ? { beamMiss } : {}),
    data: options.data,
    tokenizer: options.tokenizer,
    model: options.model,
    createdAt: new Date().toISOString(),
  };
}

function baselineReport(r: BaselineResult, ks: readonly number[]): Record<string, unknown> {
  return 'skipped' in r ? { skipped: r.skipped } : { ...metricsFromRanks(r.ranks, ks), ...(r.settings ?? {}) };
}

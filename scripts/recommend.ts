// `semid recommend`: top-K items per user from the model, as Parquet rows (user_key, rank, item_key, score).
import type { Argv, CommandModule } from 'yargs';
import { runRecommend, untilStopped } from '../pipelines/index.js';

export const recommendCommand: CommandModule = {
  command: 'recommend',
  describe: 'batch inference: top-K items per user to Parquet (sharded, resumable)',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory (catalog and, without --input, the users)' })
    .option('tokenizer', { type: 'string', demandOption: true, describe: 'tokenizer directory TOKDIR (codes.parquet)' })
    .option('model', { type: 'string', demandOption: true, describe: 'model directory' })
    .option('input', { type: 'string', describe: 'users.parquet: user_key, optional history (list of item keys), optional preference (text; empty = none)' })
    .option('preference', { type: 'string', describe: 'a preference text for every user, e.g. "no OPI" or "looking for nail polish" (a model trained with --text-tokens)' })
    .option('out', { type: 'string', demandOption: true, describe: 'output recs.parquet (shards: recs-0000i-of-0000n.parquet)' })
    .option('top-k', { type: 'number', default: 10, describe: 'items per user' })
    .option('beam', { type: 'number', default: 20, describe: 'beam size (>= top-k)' })
    .option('batch-size', { type: 'number', default: 256, describe: 'users per beam-search batch' })
    .option('shard', { type: 'string', describe: 'run only shard i of n, "i/n" (0-based), e.g. for parallel workers' })
    .option('shards', { type: 'number', default: 1, describe: 'cut the job into n shards, run them in turn; finished shards are skipped on rerun' })
    .option('exclude-history', { type: 'boolean', default: true, describe: 'never recommend items of the user\'s history' })
    .option('max-history', { type: 'number', describe: 'history items per user (default and maximum: the model maxHistory)' })
    .option('allow-mismatch', { type: 'boolean', default: false, describe: 'use the model although the data set or tokenizer differ from those it was trained on' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const done = await untilStopped(runRecommend({
      data: a.data as string,
      tokenizer: a.tokenizer as string,
      model: a.model as string,
      input: a.input as string | undefined,
      out: a.out as string,
      topK: a.topK as number,
      beamSize: a.beam as number,
      batchSize: a.batchSize as number,
      shard: a.shard as string | undefined,
      shards: a.shards as number,
      excludeHistory: a.excludeHistory as boolean,
      maxHistory: a.maxHistory as number,
      allowMismatch: a.allowMismatch as boolean,
      preference: a.preference as string | undefined,
    }));
    if (done === null) return;
    const { shards, issues, reportPath } = done;
    for (const s of shards) {
      process.stdout.write(s.skipped
        ? `shard ${s.index}/${s.count}: ${s.path} already done, skipped\n`
        : `shard ${s.index}/${s.count}: ${s.rows} rows for ${s.users} users, ${s.usersPerSecond.toFixed(1)} users/s -> ${s.path}\n`);
    }
    process.stdout.write(`users with unknown items: ${issues.unknownItems.users}, empty histories: ${issues.emptyHistory.users}, unknown users: ${issues.unknownUsers.users} (details: ${reportPath})\n`);
  },
};

// `semid search` (DSI): a text query -> the model's constrained beam search -> items with their text.
import type { Argv, CommandModule } from 'yargs';
import { runSearch } from '../pipelines/index.js';

export const searchCommand: CommandModule = {
  command: 'search',
  describe: 'search the catalog with a text query through a model trained with --text-tokens --index-items (DSI)',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory (the catalog)' })
    .option('tokenizer', { type: 'string', demandOption: true, describe: 'tokenizer directory TOKDIR (codes.parquet)' })
    .option('model', { type: 'string', demandOption: true, describe: 'model directory (trained with --text-tokens and --index-items)' })
    .option('query', { type: 'string', describe: 'one query, e.g. "matte red lipstick"' })
    .option('queries', { type: 'string', describe: 'batch: Parquet file with a `query` column (and optional `query_id`)' })
    .option('out', { type: 'string', describe: 'with --queries: results Parquet (query_id, query, rank, item_key, score, text)' })
    .option('top-k', { type: 'number', default: 10, describe: 'items per query' })
    .option('beam', { type: 'number', default: 20, describe: 'beam size (>= top-k)' })
    .option('allow-mismatch', { type: 'boolean', default: false, describe: 'use the model although the data set or tokenizer differ from those it was trained on' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const { results, out } = await runSearch({
      data: a.data as string, tokenizer: a.tokenizer as string, model: a.model as string,
      query: a.query as string | undefined, queries: a.queries as string | undefined, out: a.out as string | undefined,
      topK: a.topK as number, beamSize: a.beam as number, allowMismatch: a.allowMismatch as boolean,
    });
    if (out) {
      process.stdout.write(`${results.length} queries, ${results.reduce((n, r) => n + r.hits.length, 0)} rows -> ${out}\n`);
      return;
    }
    for (const r of results) {
      process.stdout.write(`query: ${r.query}${r.truncated ? ' (words past the limit ignored)' : ''}\n`);
      for (const h of r.hits) process.stdout.write(`${String(h.rank).padStart(3)}. ${h.itemKey}  ${h.text}  (${h.score.toFixed(3)})\n`);
    }
  },
};

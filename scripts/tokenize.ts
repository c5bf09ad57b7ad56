// `semid tokenize fit|encode|report`: item embeddings -> semantic IDs, and the codebook health report.
import type { Argv, CommandModule } from 'yargs';
import { encodeItems, fitTokenizer, formatTokenizerReport, tokenizerReport } from '../pipelines/index.js';
import { tokenizerMethods } from '../tokenizer/index.js';

/** `--set key=value` pairs (values parsed as JSON when they are JSON: numbers, booleans, lists). */
function parseSets(sets: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`--set expects key=value, got "${s}"`);
    const value = s.slice(eq + 1);
    try {
      out[s.slice(0, eq)] = JSON.parse(value);
    } catch {
      out[s.slice(0, eq)] = value;
    }
  }
  return out;
}

function parseIntList(value: string | undefined, flag: string): number[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((v) => Number(v.trim()));
  if (list.some((v) => !Number.isInteger(v))) throw new Error(`${flag} expects integers separated by commas, got "${value}"`);
  return list;
}

const fit: CommandModule = {
  command: 'fit',
  describe: 'fit a tokenizer on a data set\'s embeddings and write TOKDIR (tokenizer, codes.parquet, report.json)',
  builder: (y: Argv) => y
    .option('data', { type: 'string', describe: 'data set directory (reads DIR/embeddings/NAME.parquet)' })
    .option('embeddings', { type: 'string', default: 'default', describe: 'embeddings name in the data set' })
    .option('method', { type: 'string', demandOption: true, describe: `tokenizer method: ${tokenizerMethods().join(', ')}` })
    .option('levels', { type: 'number', describe: 'code positions (residual levels; FSQ groups), default 3' })
    .option('codebook-size', { type: 'number', describe: 'codes per position, default 256 (FSQ: picks the level set)' })
    .option('fsq-levels', { type: 'string', describe: 'FSQ levels per latent dimension, e.g. 8,6,5' })
    .option('epochs', { type: 'number', describe: 'training epochs (rqvae, fsq, rfsq)' })
    .option('balanced', { type: 'boolean', describe: 'rqkmeans: balanced assignment (at most n/k items per code)' })
    .option('uniform-last-level', { type: 'boolean', describe: 'rqkmeans, rqvae, rfsq: items sharing a prefix take distinct last codes while there is room (default on; --no-uniform-last-level for nearest codes only)' })
    .option('from', { type: 'string', describe: 'fixed: IDs made elsewhere (sids JSON or Parquet item -> list<int>)' })
    .option('domain-contrastive', { type: 'number', describe: 'rqvae, multi-domain data: weight of the InfoNCE term that makes same-domain items positives (0 = off)' })
    .option('temperature', { type: 'number', describe: 'rqvae: temperature of --domain-contrastive (default 0.1)' })
    .option('dedup-size', { type: 'number', describe: 'disambiguation codes per ID (default: the codebook size)' })
    .option('set', { type: 'string', array: true, describe: 'other method config, key=value (repeatable), e.g. --set batchSize=512' })
    .option('seed', { type: 'number', default: 0 })
    .option('out', { type: 'string', demandOption: true, describe: 'output directory TOKDIR' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const config: Record<string, unknown> = {
      ...(a.levels !== undefined ? { levels: a.levels } : {}),
      ...(a.codebookSize !== undefined ? { codebookSize: a.codebookSize } : {}),
      ...(a.fsqLevels !== undefined ? { fsqLevels: parseIntList(a.fsqLevels as string, '--fsq-levels') } : {}),
      ...(a.epochs !== undefined ? { epochs: a.epochs } : {}),
      ...(a.balanced !== undefined ? { balanced: a.balanced } : {}),
      ...(a.uniformLastLevel !== undefined ? { uniformLastLevel: a.uniformLastLevel } : {}),
      ...(a.domainContrastive !== undefined ? { domainContrastive: a.domainContrastive } : {}),
      ...(a.temperature !== undefined ? { temperature: a.temperature } : {}),
      ...parseSets(a.set as string[] | undefined),
    };
    const { report } = await fitTokenizer({
      data: a.data as string | undefined, embeddings: a.embeddings as string, method: a.method as string, config,
      from: a.from as string | undefined, dedupSize: a.dedupSize as number | undefined, seed: a.seed as number, out: a.out as string,
    });
    process.stdout.write(`${formatTokenizerReport(report)}\n\nwrote ${a.out as string}\n`);
  },
};

const encode: CommandModule = {
  command: 'encode <tokdir>',
  describe: 'assign semantic IDs to the items of a data set with a fitted tokenizer (existing IDs are kept; new items get new ones)',
  builder: (y: Argv) => y
    .positional('tokdir', { type: 'string', demandOption: true, describe: 'tokenizer directory from `tokenize fit`' })
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory' })
    .option('embeddings', { type: 'string', default: 'default' })
    .option('out', { type: 'string', describe: 'write codes here instead of updating TOKDIR/codes.parquet' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const r = await encodeItems({ tokDir: a.tokdir as string, data: a.data as string, embeddings: a.embeddings as string, out: a.out as string | undefined });
    process.stdout.write(`kept ${r.kept} IDs, added ${r.added} new items${r.drifted ? `; ${r.drifted} kept items would now encode differently (their IDs were kept)` : ''}\n`);
  },
};

const report: CommandModule = {
  command: 'report <tokdir>',
  describe: 'print the codebook health report of a tokenizer directory',
  builder: (y: Argv) => y
    .positional('tokdir', { type: 'string', demandOption: true })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const r = await tokenizerReport(a.tokdir as string);
    process.stdout.write(a.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatTokenizerReport(r)}\n`);
  },
};

export const tokenizeCommand: CommandModule = {
  command: 'tokenize',
  describe: 'item tokenizers: fit, encode new items, codebook health report',
  builder: (y: Argv) => y.command(fit).command(encode).command(report).demandCommand(1, 'Name a subcommand: fit, encode or report.'),
  handler: () => {},
};

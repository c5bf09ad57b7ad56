// `semid data import|generate|info`: the data layer's commands (parse, then call pipelines/data).
import type { Argv, CommandModule } from 'yargs';
import {
  DEFAULT_GENERATE, DEFAULT_GENERATED_DIR, DEFAULT_TEXT_TEMPLATE, IMPORT_FORMATS, checkDatasetOutput, datasetInfo, generateDataset, importDataset,
  mergeDatasets, parseDomainFlag,
} from '../pipelines/data/index.js';
import type { ImportFormat, Manifest } from '../pipelines/data/index.js';

function counts(m: Manifest): string {
  return `${m.users} users, ${m.items} items, ${m.interactions} interactions`;
}

const importCommand: CommandModule = {
  command: 'import',
  describe: 'import a public data format into a data set directory (items.parquet, sequences.parquet, manifest.json)',
  builder: (y: Argv) => y
    .option('format', { type: 'string', choices: [...IMPORT_FORMATS], demandOption: true, describe: 'input format' })
    .option('out', { type: 'string', demandOption: true, describe: 'data set directory to write: a new or empty directory, or a semid data set (replaced as a whole, embeddings included)' })
    .option('sequences', { type: 'string', describe: 's3rec: "user item item ..." lines (e.g. Beauty.txt)' })
    .option('interactions', { type: 'string', describe: 'inter-json: {"user": [items]} JSON; csv/parquet: interaction table' })
    .option('items', { type: 'string', describe: 'items file: JSON/JSONL records, or a csv/parquet table' })
    .option('ratings', { type: 'string', describe: 'movielens: u.data, ratings.dat or ratings.csv' })
    .option('movies', { type: 'string', describe: 'movielens: u.item, movies.dat or movies.csv' })
    .option('reviews', { type: 'string', describe: 'amazon: reviews_*.json(.gz)' })
    .option('meta', { type: 'string', describe: 'amazon: meta_*.json(.gz)' })
    .option('text-template', { type: 'string', describe: `item text from fields, e.g. "{title} | {brand}" (default "${DEFAULT_TEXT_TEMPLATE}")` })
    .option('min-interactions', { type: 'number', describe: 'k-core: drop users/items with fewer interactions, repeatedly (amazon default 5, else off)' })
    .option('min-rating', { type: 'number', describe: 'movielens/amazon/csv/parquet: drop interactions rated below this' })
    .option('all-items', { type: 'boolean', describe: 'keep items of the items file that nobody interacted with' })
    .option('skip-invalid', { type: 'boolean', default: false, describe: 'skip bad rows and count them in manifest.skipped instead of stopping' })
    .option('item-key-field', { type: 'string', describe: 'JSONL items: field with the item id (default: id, item_id, asin, item, key)' })
    .option('user-column', { type: 'string', describe: 'csv/parquet: user column (default: user_id, user, userId, ...)' })
    .option('item-column', { type: 'string', describe: 'csv/parquet: item column (default: item_id, item, itemId, movieId, asin, ...)' })
    .option('time-column', { type: 'string', describe: 'csv/parquet: time column (default: timestamp, time, ...; none: file order)' })
    .option('rating-column', { type: 'string', describe: 'csv/parquet: rating column for --min-rating' })
    .option('item-key-column', { type: 'string', describe: 'items table: item id column (default: the --item-column name)' })
    .option('categories-column', { type: 'string', describe: 'items table: category column (default: categories, category, genres)' })
    .option('delimiter', { type: 'string', describe: 'csv: field delimiter (default "," or tab for .tsv)' })
    .option('list-separator', { type: 'string', describe: 'csv: separator of lists inside a cell (default "|")' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const str = (k: string) => a[k] as string | undefined;
    // Before reading anything: the output may be written and the inputs are there.
    await checkDatasetOutput(a.out as string, { sequences: str('sequences'), interactions: str('interactions'), items: str('items'), ratings: str('ratings'), movies: str('movies'), reviews: str('reviews'), meta: str('meta') });
    const result = await importDataset({
      format: a.format as ImportFormat, out: a.out as string,
      sequences: str('sequences'), interactions: str('interactions'), items: str('items'), ratings: str('ratings'),
      movies: str('movies'), reviews: str('reviews'), meta: str('meta'), textTemplate: str('textTemplate'),
      minInteractions: a.minInteractions as number | undefined, minRating: a.minRating as number | undefined,
      allItems: a.allItems as boolean | undefined, skipInvalid: a.skipInvalid as boolean,
      itemKeyField: str('itemKeyField'), userColumn: str('userColumn'), itemColumn: str('itemColumn'), timeColumn: str('timeColumn'),
      ratingColumn: str('ratingColumn'), itemKeyColumn: str('itemKeyColumn'), categoriesColumn: str('categoriesColumn'),
      delimiter: str('delimiter'), listSeparator: str('listSeparator'),
    });
    for (const w of result.warnings) process.stderr.write(`${w}\n`);
    process.stdout.write(`imported ${counts(result.manifest)} into ${a.out as string} in ${result.seconds.toFixed(2)} s\n`);
  },
};

const generateCommand: CommandModule = {
  command: 'generate',
  describe: 'generate the synthetic default data set (category hierarchy, series, user habits; deterministic)',
  builder: (y: Argv) => y
    .option('out', { type: 'string', default: DEFAULT_GENERATED_DIR, describe: 'data set directory to write' })
    .option('seed', { type: 'number', default: DEFAULT_GENERATE.seed })
    .option('users', { type: 'number', default: DEFAULT_GENERATE.users })
    .option('items', { type: 'number', default: DEFAULT_GENERATE.items })
    .option('min-history', { type: 'number', default: DEFAULT_GENERATE.minHistory, describe: 'shortest user history' })
    .option('max-history', { type: 'number', default: DEFAULT_GENERATE.maxHistory, describe: 'longest user history' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const { manifest, seconds } = await generateDataset(a.out as string, {
      seed: a.seed as number, users: a.users as number, items: a.items as number,
      minHistory: a.minHistory as number, maxHistory: a.maxHistory as number,
    });
    process.stdout.write(`generated ${counts(manifest)} into ${a.out as string} in ${seconds.toFixed(2)} s\n`);
  },
};

const mergeCommand: CommandModule = {
  command: 'merge',
  describe: 'merge data sets of several domains into one multi-domain data set (keys namespaced "NAME:key", a domain column on items and users)',
  builder: (y: Argv) => y
    .option('domain', { type: 'string', array: true, demandOption: true, describe: 'NAME=DIR: a domain and its data set directory (give it once per domain, at least twice)' })
    .option('out', { type: 'string', demandOption: true, describe: 'data set directory to write: a new or empty directory, or a semid data set (replaced as a whole)' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const { manifest, warnings, seconds } = await mergeDatasets({ domains: (a.domain as string[]).map(parseDomainFlag), out: a.out as string });
    for (const w of warnings) process.stderr.write(`${w}\n`);
    const per = (manifest.domains as { name: string; users: number; items: number }[]).map((d) => `${d.name} ${d.users} users / ${d.items} items`).join(', ');
    process.stdout.write(`merged ${counts(manifest)} (${per}) into ${a.out as string} in ${seconds.toFixed(2)} s\n`);
  },
};

const infoCommand: CommandModule = {
  command: 'info <dir>',
  describe: 'print a data set\'s manifest and simple statistics',
  builder: (y: Argv) => y.positional('dir', { type: 'string', demandOption: true, describe: 'data set directory' }),
  handler: async (argv) => {
    process.stdout.write(`${await datasetInfo((argv as Record<string, unknown>).dir as string)}\n`);
  },
};

const preferencesCommand: CommandModule = {
  command: 'preferences',
  describe: 'write preference texts (user_key, text) made from each user\'s items but the last (README "Preferences")',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory' })
    .option('out', { type: 'string', describe: 'output Parquet file (default DIR/preferences.parquet)' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const { writePreferences } = await import('../pipelines/index.js'); // the text pipeline (TensorFlow.js), only here
    const { path, users, withText } = await writePreferences({ data: a.data as string, out: a.out as string | undefined });
    process.stdout.write(`wrote preferences of ${withText} of ${users} users to ${path}\n`);
  },
};

export const dataCommand: CommandModule = {
  command: 'data <command>',
  describe: 'data sets: import public formats, generate the synthetic default, merge domains, show info, make preference texts',
  builder: (y: Argv) => y.command(importCommand).command(generateCommand).command(mergeCommand).command(infoCommand).command(preferencesCommand).demandCommand(1),
  handler: () => undefined,
};

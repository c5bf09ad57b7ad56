// `semid embed text|import|report|train-spm`: item embeddings for a data set (DIR/embeddings/NAME.parquet).
import type { Argv, CommandModule } from 'yargs';
import {
  EMBED_METHODS, embedText, embeddingReport, formatEmbeddingReport, importEmbeddings, trainSentencePiece,
} from '../pipelines/index.js';

const text: CommandModule = {
  command: 'text',
  describe: 'embed item texts offline (TF-IDF + truncated randomized SVD); writes embeddings NAME and its report',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory' })
    .option('method', { type: 'string', default: 'tfidf-svd', choices: [...EMBED_METHODS], describe: 'embedding method' })
    .option('dim', { type: 'number', default: 256, describe: 'embedding dimension (clamped to the TF-IDF rank when smaller)' })
    .option('name', { type: 'string', default: 'default', describe: 'embeddings name: DIR/embeddings/NAME.parquet' })
    .option('seed', { type: 'number', default: 0, describe: 'seed of the randomized SVD (same seed, same bytes)' })
    .option('spm-model', { type: 'string', describe: 'tokenize with this SentencePiece model (see `embed train-spm`) instead of word + character n-grams' })
    .option('word-ngrams', { type: 'string', describe: 'built-in tokenizer: word n-gram range, e.g. 1-2 (default)' })
    .option('char-ngrams', { type: 'string', describe: 'built-in tokenizer: character n-gram range, e.g. 3-5 (default), or "none"' })
    .option('min-df', { type: 'number', describe: 'drop terms found in fewer items (default 2)' })
    .option('power-iterations', { type: 'number', describe: 'randomized SVD power iterations (default 2)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'print only the output path' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const range = (value: unknown, flag: string): [number, number] | null | undefined => {
      if (value === undefined) return undefined;
      if (value === 'none') return null;
      const m = /^(\d+)(?:-(\d+))?$/.exec(String(value));
      if (!m) throw new Error(`${flag} expects a range like 3-5 (or a single number${flag === '--char-ngrams' ? ', or none' : ''}), got "${String(value)}"`);
      return [Number(m[1]), Number(m[2] ?? m[1])];
    };
    const wordNgrams = range(a.wordNgrams, '--word-ngrams');
    if (wordNgrams === null) throw new Error('--word-ngrams cannot be none');
    const r = await embedText({
      data: a.data as string, name: a.name as string, spmModel: a.spmModel as string | undefined, silent: a.quiet as boolean,
      config: {
        method: a.method as 'tfidf-svd', dim: a.dim as number, seed: a.seed as number,
        wordNgrams, charNgrams: range(a.charNgrams, '--char-ngrams'),
        minDf: a.minDf as number | undefined, powerIterations: a.powerIterations as number | undefined,
      },
    });
    if (!a.quiet) process.stdout.write(`${formatEmbeddingReport(r.report)}\n\n`);
    process.stdout.write(`wrote ${r.path} (${r.info.dim} dimensions, ${r.info.seconds.toFixed(1)} s) and ${r.reportPath}\n`);
  },
};

const importVectors: CommandModule = {
  command: 'import',
  describe: 'import item vectors made elsewhere (.parquet, .jsonl, .npy), matched to items by key',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory' })
    .option('from', { type: 'string', demandOption: true, describe: 'vectors file: .parquet (key + list column), .jsonl ({"key", "embedding"} per line) or .npy (row r = item r, or --keys)' })
    .option('name', { type: 'string', default: 'default', describe: 'embeddings name: DIR/embeddings/NAME.parquet' })
    .option('key-column', { type: 'string', describe: 'column/field with the item key (default: key, item_key or item_id; item_id = semid\'s 0-based id)' })
    .option('embedding-column', { type: 'string', describe: 'column/field with the vector (default: embedding)' })
    .option('keys', { type: 'string', describe: '.npy only: text file with one item key per line, naming the item of each row' })
    .option('allow-missing', { type: 'boolean', default: false, describe: 'give items without a vector the mean vector (counted in the report)' })
    .option('ignore-unknown', { type: 'boolean', default: false, describe: 'skip vectors whose key is not an item (counted)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'print only the output path' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const r = await importEmbeddings({
      data: a.data as string, name: a.name as string, from: a.from as string, keyColumn: a.keyColumn as string | undefined,
      embeddingColumn: a.embeddingColumn as string | undefined, keys: a.keys as string | undefined,
      allowMissing: a.allowMissing as boolean, ignoreUnknown: a.ignoreUnknown as boolean,
    });
    const m = r.matched;
    if (!a.quiet) process.stdout.write(`${formatEmbeddingReport(r.report)}\n\n`);
    process.stdout.write(`imported ${m.vectors} vectors (${m.format}) for ${m.rows} items x ${m.dim} dimensions`
      + `${m.filled ? `; ${m.filled} items filled with the mean vector` : ''}${m.unknown ? `; ${m.unknown} vectors of unknown keys skipped` : ''}\n`
      + `wrote ${r.path} and ${r.reportPath}\n`);
  },
};

const report: CommandModule = {
  command: 'report',
  describe: 'embedding quality report: norms, same-category vs random-pair cosine, nearest neighbours of sample items',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory' })
    .option('name', { type: 'string', default: 'default', describe: 'embeddings name' })
    .option('samples', { type: 'number', default: 5, describe: 'sample items whose neighbours are listed' })
    .option('neighbours', { type: 'number', default: 5, describe: 'neighbours per sample item' })
    .option('seed', { type: 'number', default: 0 })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of text' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const { report: r, reportPath } = await embeddingReport({
      data: a.data as string, name: a.name as string, samples: a.samples as number, neighbours: a.neighbours as number, seed: a.seed as number,
    });
    process.stdout.write(a.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatEmbeddingReport(r)}\n\nwrote ${reportPath}\n`);
  },
};

const trainSpm: CommandModule = {
  command: 'train-spm',
  describe: 'train a SentencePiece model on the item texts with spm_train (Debian/Ubuntu: apt-get install sentencepiece)',
  builder: (y: Argv) => y
    .option('data', { type: 'string', demandOption: true, describe: 'data set directory' })
    .option('vocab-size', { type: 'number', default: 8000, describe: 'pieces in the model (a soft limit for small corpora)' })
    .option('model-type', { type: 'string', default: 'unigram', choices: ['unigram', 'bpe'] })
    .option('seed', { type: 'number', default: 0 })
    .option('out', { type: 'string', demandOption: true, describe: 'model file to write (FILE.model; FILE.vocab beside it)' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const r = await trainSentencePiece({
      data: a.data as string, vocabSize: a.vocabSize as number, out: a.out as string, modelType: a.modelType as 'unigram' | 'bpe', seed: a.seed as number,
    });
    process.stdout.write(`trained ${r.pieces} pieces in ${r.seconds.toFixed(1)} s with ${r.spmTrain}\nwrote ${r.model} and ${r.vocab}\n`
      + `use it with: semid embed text --data ${a.data as string} --spm-model ${r.model}\n`);
  },
};

export const embedCommand: CommandModule = {
  command: 'embed',
  describe: 'item embeddings: embed text offline, import vectors, quality report, train a SentencePiece model',
  builder: (y: Argv) => y.command(text).command(importVectors).command(report).command(trainSpm)
    .demandCommand(1, 'Name a subcommand: text, import, report or train-spm.'),
  handler: () => {},
};

// `semid export`: a trained model as a static folder (weights, catalog, browser build, demo page) that
// recommends in the browser; `--serve` then serves it on 127.0.0.1.
import type { Argv, CommandModule } from 'yargs';
import { exportWeb, runExportPaths, serveStatic } from '../pipelines/index.js';

export const exportCommand: CommandModule = {
  command: 'export',
  describe: 'export a trained model as a static web folder that recommends in the browser (WebGPU or wasm); --serve to try it',
  builder: (y: Argv) => y
    .option('run', { type: 'string', describe: 'run directory of `semid run`/`semid demo`: its data set, tokenizer and model (out: RUN/web)' })
    .option('data', { type: 'string', describe: 'data set directory (item keys and texts)' })
    .option('tokenizer', { type: 'string', describe: 'tokenizer directory TOKDIR (codes.parquet)' })
    .option('model', { type: 'string', describe: 'model directory (model.json + weights.bin)' })
    .option('out', { type: 'string', describe: 'output folder WEBDIR (replaced as a whole)' })
    .option('items-text', { type: 'boolean', default: false, describe: 'include item texts (for display)' })
    .option('max-history', { type: 'number', default: 20, describe: 'history items per request, as semid recommend' })
    .option('serve', { type: 'boolean', default: false, describe: 'then serve WEBDIR on http://127.0.0.1:PORT/ until Ctrl-C' })
    .option('port', { type: 'number', default: 8080, describe: 'port for --serve (0: any free port)' })
    .check((a) => {
      const missing = ['data', 'tokenizer', 'model', 'out'].filter((k) => a[k] === undefined);
      if (a.run === undefined && missing.length) throw new Error(`give --run RUN, or --${missing.join(', --')}`);
      return true;
    }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const fromRun = typeof a.run === 'string' ? runExportPaths(a.run) : undefined;
    const pick = (k: 'data' | 'tokenizer' | 'model' | 'out') => (a[k] as string | undefined) ?? fromRun![k];
    const result = await exportWeb({
      data: pick('data'), tokenizer: pick('tokenizer'), model: pick('model'), out: pick('out'),
      itemsText: a.itemsText as boolean, maxHistory: a.maxHistory as number, log: (m) => process.stderr.write(`${m}\n`),
    });
    process.stdout.write(`${result.out}: ${(result.totalBytes / 1e6).toFixed(2)} MB in all, ${(result.gzipBytes / 1e6).toFixed(2)} MB gzipped; `
      + `a page on wasm loads ${(result.pageBytes.gzip / 1e6).toFixed(2)} MB gzipped\n`);
    if (!a.serve) return;
    const server = await serveStatic(result.out, { port: a.port as number });
    process.stdout.write(`serving ${result.out} at ${server.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => { void server.close().then(resolve); }));
  },
};

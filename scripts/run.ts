// `semid run --config pipeline.json`: every stage from one config, cached by content hash.
import type { CommandModule } from 'yargs';
import { loadPipelineConfig, runPipeline, defaultRunDir } from '../pipelines/index.js';

interface Args {
  config: string;
  'run-dir'?: string;
  force?: string[];
  until?: string;
  report: boolean;
}

export const runCommand: CommandModule<object, Args> = {
  command: 'run',
  describe: 'run a whole pipeline (data, embed, tokenize, train, eval, recommend) from one JSON config; unchanged stages are reused',
  builder: (y) =>
    y
      .option('config', { type: 'string', demandOption: true, describe: 'pipeline config (JSON); examples in pipelines/configs/' })
      .option('run-dir', { type: 'string', describe: 'run directory (default: runs/<config name>)' })
      .option('force', { type: 'string', array: true, describe: 'redo these stages (and everything downstream) even when unchanged' })
      .option('until', { type: 'string', describe: 'stop after this stage' })
      .option('report', { type: 'boolean', default: true, describe: 'write RUN/report.html at the end (--no-report to skip)' }) as never,
  handler: async (argv) => {
    const config = await loadPipelineConfig(argv.config);
    const result = await runPipeline({
      config,
      runDir: argv['run-dir'] ?? defaultRunDir(argv.config),
      force: argv.force,
      until: argv.until,
      report: argv.report,
    });
    process.stdout.write(`${result.summary}\n`);
  },
};

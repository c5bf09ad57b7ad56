// `semid report RUN`: the run's HTML report (plots as inline SVG), written to RUN/report.html.
import type { CommandModule } from 'yargs';
import { writeRunReport } from '../pipelines/index.js';

interface Args {
  run: string;
  out?: string;
}

export const reportCommand: CommandModule<object, Args> = {
  command: 'report <run>',
  describe: 'write a run directory\'s self-contained HTML report (training curves, codebooks, metrics vs baselines)',
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'run directory (from semid run or semid demo)' })
      .option('out', { type: 'string', describe: 'output file (default RUN/report.html)' }) as never,
  handler: async (argv) => {
    const path = await writeRunReport(argv.run, argv.out);
    process.stdout.write(`${path}\n`);
  },
};

// `semid demo`: the whole pipeline on the built-in generated data set, offline, then sample
// recommendations and the metric table.
import type { CommandModule } from 'yargs';
import { runDemo, type DemoPreset } from '../pipelines/index.js';

interface Args {
  'run-dir': string;
  preset?: DemoPreset;
  users: number;
  force?: string[];
  text: boolean;
}

export const demoCommand: CommandModule<object, Args> = {
  command: 'demo',
  describe: 'the whole pipeline offline on generated data: embed, tokenize, train, evaluate and recommend, in a few minutes; prints recommendations and metrics',
  builder: (y) =>
    y
      .option('run-dir', { type: 'string', default: 'runs/demo', describe: 'run directory (re-running reuses finished stages)' })
      .option('preset', { choices: ['causal', 'tiny', 'small'] as const, describe: 'model (default: the config\'s, the causal model; tiny/small: the encoder-decoder with beam search)' })
      .option('users', { type: 'number', default: 5, describe: 'users to print recommendations for' })
      .option('text', { type: 'boolean', default: true, describe: 'also train the small text model (RUN/text) and show a steered recommendation and a search (--no-text skips it)' })
      .option('force', { type: 'string', array: true, describe: 'redo these stages (and everything downstream)' }) as never,
  handler: async (argv) => {
    await runDemo({ runDir: argv['run-dir'], preset: argv.preset, showUsers: argv.users, force: argv.force, text: argv.text });
  },
};

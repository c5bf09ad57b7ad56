// Every CLI command, one file each. A new command is one file plus one line here.
import type { CommandModule } from 'yargs';
import { dataCommand } from './data.js';
import { embedCommand } from './embed.js';
import { tokenizeCommand } from './tokenize.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { recommendCommand } from './recommend.js';
import { searchCommand } from './search.js';
import { exportCommand } from './export.js';
import { reportCommand } from './report.js';
import { compareCommand } from './compare.js';
import { runCommand } from './run.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { benchCommand } from './bench.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const COMMANDS: CommandModule<any, any>[] = [
  dataCommand,
  embedCommand,
  tokenizeCommand,
  trainCommand,
  evalCommand,
  recommendCommand,
  searchCommand,
  exportCommand,
  reportCommand,
  compareCommand,
  runCommand,
  demoCommand,
  doctorCommand,
  benchCommand,
];

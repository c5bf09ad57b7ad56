// The semid command line: parse, then call a pipeline function. Each command lives in its own file,
// listed in commands.ts and loaded only when named.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commandsFor } from './commands.js';

const cli = yargs(hideBin(process.argv))
  .scriptName('semid')
  .usage('$0 <command> [options]\n\nGenerative retrieval with semantic IDs.')
  .option('backend', {
    type: 'string',
    describe: 'tfjs backend: tensorflow (tfjs-node-gpu/tfjs-node), webgpu, wasm or cpu (default: fastest present; env SEMID_BACKEND)',
    global: true,
  })
  .middleware((argv) => {
    if (typeof argv.backend === 'string') process.env.SEMID_BACKEND = argv.backend;
  })
  .demandCommand(1, 'Name a command: semid --help lists them.')
  .strict()
  .recommendCommands()
  .wrap(Math.min(110, process.stdout.columns || 110))
  .fail((message, error, y) => {
    if (error) {
      process.stderr.write(`semid: ${error.message}\n`);
      if (process.env.SEMID_DEBUG) process.stderr.write(`${error.stack}\n`);
    } else {
      process.stderr.write(`${y.help()}\n\nsemid: ${message}\n`);
    }
    process.exit(1);
  });

for (const command of await commandsFor(hideBin(process.argv))) cli.command(command);

await cli.parseAsync();

// Every CLI command, one file each. A new command is one file plus one line here. Each is loaded when it is
// the one named (cli.ts): `semid data import` does not load TensorFlow.js, which costs 100 MiB of RSS
// (`semid data --help` 141 MiB peak, `semid train --help` 241 MiB).
import type { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Command = CommandModule<any, any>;

export const COMMANDS: Record<string, () => Promise<Command>> = {
  data: async () => (await import('./data.js')).dataCommand,
  embed: async () => (await import('./embed.js')).embedCommand,
  tokenize: async () => (await import('./tokenize.js')).tokenizeCommand,
  train: async () => (await import('./train.js')).trainCommand,
  eval: async () => (await import('./eval.js')).evalCommand,
  recommend: async () => (await import('./recommend.js')).recommendCommand,
  search: async () => (await import('./search.js')).searchCommand,
  export: async () => (await import('./export.js')).exportCommand,
  report: async () => (await import('./report.js')).reportCommand,
  compare: async () => (await import('./compare.js')).compareCommand,
  run: async () => (await import('./run.js')).runCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
};

/** The commands to register for these arguments: the one named first, or all of them (help, a typo to suggest for). */
export async function commandsFor(args: string[]): Promise<Command[]> {
  const first = args.find((a) => !a.startsWith('-'));
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  return Promise.all(names.map((name) => COMMANDS[name]()));
}

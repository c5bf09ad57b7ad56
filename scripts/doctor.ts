// `semid doctor`: the backends, GPU adapter, Vulkan driver and package versions of this machine, for bug
// reports. `--json` for machines.
import type { Argv, CommandModule } from 'yargs';
import { formatDoctorReport, runDoctor } from '../pipelines/index.js';

export const doctorCommand: CommandModule = {
  command: 'doctor',
  describe: 'show backends available and chosen, GPU adapter, Vulkan driver and package versions (for bug reports)',
  builder: (y: Argv) => y
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
  handler: async (argv) => {
    const report = await runDoctor({ backend: argv.backend as string | undefined });
    process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
  },
};

// `semid bench [suites..]`: speed benchmarks (parse, then call bench/). See BENCHMARKS.md.
import type { Argv, CommandModule } from 'yargs';
import { runBench, SUITE_NAMES } from '../bench/index.js';

export const benchCommand: CommandModule = {
  command: 'bench [suites..]',
  describe: `speed benchmarks: medians after warm-up, written to bench/results/<suite>.json (suites: ${SUITE_NAMES.join(', ')})`,
  builder: (y: Argv) => y
    .positional('suites', { type: 'string', array: true, choices: SUITE_NAMES, describe: 'suites to run (default: all)' })
    .option('quick', { type: 'boolean', default: false, describe: 'tiny sizes: every suite in seconds (checks the harness; figures mean little)' })
    .option('out', { type: 'string', describe: 'results directory (default bench/results)' })
    .option('with-reference', { type: 'boolean', describe: 'run the PyTorch reference in the same run (default: when /usr/bin/python3 imports torch; off with --quick)' })
    .option('python', { type: 'string', describe: 'python with torch for the reference (default /usr/bin/python3)' })
    .option('reference-script', { type: 'string', describe: 'tiger_ref.py (default SEMID_TORCH_REF or ../shared/reference/tiger_ref.py)' })
    .option('reference-dir', { type: 'string', describe: 'folder of the other reference scripts, e.g. sasrec_ref.py (default SEMID_TORCH_REF_DIR or tiger_ref.py\'s folder)' })
    .option('data-dir', { type: 'string', describe: 'public data folder with beauty/ (default SEMID_DATA_DIR or ../shared/data)' })
    .option('threads', { type: 'boolean', default: true, describe: 'also run train/decode on the threaded SIMD wasm build, 2 threads (--no-threads: skip)' })
    .option('webgpu', { type: 'boolean', default: true, describe: 'also run train/decode on webgpu when an adapter is present (--no-webgpu: skip)' })
    .option('timeout', { type: 'number', describe: 'kill a semid child process (one variant, one part) after this many seconds (default 3600, 300 with --quick; the reference gets at least 3600)' }),
  handler: async (argv) => {
    const a = argv as Record<string, unknown>;
    const results = await runBench({
      suites: a.suites as string[] | undefined, quick: a.quick as boolean, out: a.out as string | undefined,
      withReference: a.withReference as boolean | undefined, python: a.python as string | undefined,
      referenceScript: a.referenceScript as string | undefined, referenceDir: a.referenceDir as string | undefined, dataDir: a.dataDir as string | undefined,
      threads: a.threads as boolean, webgpu: a.webgpu as boolean, timeoutSeconds: a.timeout as number | undefined,
    });
    const failed = results.flatMap((r) => r.variants.filter((v) => v.error).map((v) => `${r.suite}/${v.id}`));
    if (failed.length) {
      process.stderr.write(`semid bench: ${failed.length} variant(s) failed: ${failed.join(', ')}\n`);
      process.exitCode = 1;
    }
  },
};

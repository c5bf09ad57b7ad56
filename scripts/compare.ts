// `semid compare --run LABEL=MODELDIR ... --out FILE`: validation Recall@10 of training runs against wall time
// (FILE.svg and FILE.json).
import type { CommandModule } from 'yargs';
import { parseCurveRun, writeRecallCurves } from '../pipelines/index.js';

interface Args {
  run: string[];
  out: string;
}

export const compareCommand: CommandModule<object, Args> = {
  command: 'compare',
  describe: 'compare training runs: validation Recall@10 against training wall time, as an SVG chart and a JSON table',
  builder: (y) =>
    y
      .option('run', { type: 'string', array: true, demandOption: true, describe: 'LABEL=MODELDIR (repeatable): a model directory from semid train, or LABEL=FILE: a reference script\'s JSONL log (e.g. sasrec_ref.py\'s stdout)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output path; writes OUT.svg and OUT.json' }) as never,
  handler: async (argv) => {
    const rows = await writeRecallCurves(argv.run.map(parseCurveRun), argv.out);
    for (const r of rows) process.stdout.write(`${r.run}\tstep ${r.step}\t${r.hours.toFixed(2)} h\trecall@10 ${r.recall10.toFixed(4)}\n`);
  },
};

// `semid train --resume` continues the run it finds: the saved config, not the preset's current defaults, is the
// base; fields given explicitly win (and are reported); a different model shape is refused before any work.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePipelineConfig } from '../../pipelines/runConfig.js';
import { runPipeline } from '../../pipelines/stages.js';
import { trainModel } from '../../pipelines/train.js';

const config = resolvePipelineConfig({
  name: 'resume config',
  data: { source: 'generate', generate: { users: 120, items: 60, seed: 5 } },
  embed: { dim: 16 },
  tokenize: { levels: 2, codebookSize: 8, dedupSize: 40 },
});

describe('trainModel --resume', () => {
  let dir: string;
  let data: string;
  let tokenizer: string;
  beforeAll(async () => {
    process.env.SEMID_QUIET = '1';
    dir = await mkdtemp(join(tmpdir(), 'semid-resume-'));
    await runPipeline({ config, runDir: join(dir, 'run'), until: 'tokenize', report: false, log: () => undefined });
    data = join(dir, 'run', 'embed');
    tokenizer = join(dir, 'run', 'tokenize');
  });
  afterAll(async () => {
    delete process.env.SEMID_QUIET;
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the saved trainer config over the preset, lets explicit fields win, refuses another model shape', async () => {
    const out = join(dir, 'model');
    const first = await trainModel({
      data, tokenizer, out, preset: 'tiny', silent: true, validUsers: 0,
      overrides: { steps: 6, batchSize: 16, warmupSteps: 2, schedule: 'rsqrt', lr: 0.02, checkpointEvery: 3 },
    });
    expect(first.step).toBe(6);
    expect(first.train.schedule).toBe('rsqrt');

    // The preset says cosine and lr 0.01; the run was started with rsqrt and 0.02, and keeps them.
    const resumed = await trainModel({ data, tokenizer, out, preset: 'tiny', silent: true, validUsers: 0, resume: true, overrides: { steps: 9 } });
    expect(resumed.step).toBe(9);
    expect(resumed.train).toMatchObject({ schedule: 'rsqrt', lr: 0.02, batchSize: 16, warmupSteps: 2, steps: 9 });
    const saved = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as { train: { steps: number; lr: number } };
    expect(saved.train).toMatchObject({ steps: 9, lr: 0.02 });

    await expect(trainModel({ data, tokenizer, out, preset: 'tiny', silent: true, validUsers: 0, resume: true, overrides: { dModel: 48 } }))
      .rejects.toThrow(/--resume: .*model.* was trained with another model config \(dModel 32 -> 48\)/);
  });
});

// `semid train --resume` continues the run it finds: the saved config, not the preset's current defaults, is the
// base; fields given explicitly win (and are reported); a different model shape is refused before any work.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tokenizedData, type TokenizedData } from './tokenizedData.js';
import { trainModel } from '../../pipelines/train.js';

describe('trainModel --resume', () => {
  let fixture: TokenizedData;
  let dir: string;
  let data: string;
  let tokenizer: string;
  beforeAll(async () => {
    fixture = await tokenizedData('resume config', 5);
    ({ dir, data, tokenizer } = fixture);
  });
  afterAll(async () => {
    await fixture.remove();
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

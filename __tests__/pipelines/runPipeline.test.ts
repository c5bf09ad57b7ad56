// The pipeline graph with fake stage implementations: which stages a config edit re-runs, the run
// directory layout (config.json, metrics.json, run.json, report.html), and resume of the train stage.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipelineWith, type StageImplementations } from '../../pipelines/run.js';
import { resolvePipelineConfig } from '../../pipelines/runConfig.js';

function fakeImpl(calls: string[], opts: { killTrainAt?: number } = {}): StageImplementations {
  const note = (name: string) => async () => {
    calls.push(name);
    return {};
  };
  return {
    validate(config) {
      if (config.train.trainer.steps === 0) throw new Error('`train.trainer.steps` must be >= 1, got 0');
    },
    data: note('data'),
    embed: note('embed'),
    async tokenize(_c, _d, ctx) {
      calls.push('tokenize');
      await writeFile(join(ctx.outDir, 'report.json'), JSON.stringify({ levels: [{ size: 4, used: 3 }], distinctIds: 9, collisionRate: 0.1, maxBucket: 2, bucketCounts: { 1: 8, 2: 1 } }));
    },
    async train(config, _d, ctx) {
      calls.push(ctx.resume ? 'train(resume)' : 'train');
      const steps = Number(config.train.trainer.steps ?? 4);
      const ckpt = join(ctx.outDir, 'checkpoint');
      let step = Number(await readFile(ckpt, 'utf8').catch(() => '0'));
      const log: string[] = [];
      for (; step < steps; step++) {
        if (opts.killTrainAt === step) throw new Error('interrupted');
        log.push(JSON.stringify({ step: step + 1, loss: 3 - step * 0.1 }));
        await writeFile(ckpt, String(step + 1));
      }
      await writeFile(join(ctx.outDir, 'metrics.jsonl'), `${log.join('\n')}\n`);
      return { step };
    },
    async eval(_c, dirs, ctx) {
      calls.push('eval');
      const trained = await readFile(join(dirs.train!, 'checkpoint'), 'utf8');
      await writeFile(join(ctx.outDir, 'metrics.json'), JSON.stringify({
        'recall@10': 0.1, 'ndcg@10': 0.05, trainedSteps: Number(trained),
        baselines: { popularity: { 'recall@10': 0.02, 'ndcg@10': 0.01 } },
      }));
    },
    recommend: note('recommend'),
  };
}

describe('runPipelineWith (fake stages)', () => {
  let dir: string;
  const log = () => {};
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'semid-pipe-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the run directory, reuses everything on a re-run, and re-runs only train/eval/recommend after a training edit', async () => {
    const runDir = join(dir, 'run');
    const config = resolvePipelineConfig({ name: 'fake', train: { preset: 'tiny', trainer: { steps: 3 } }, report: { dataset: 'amazon-beauty' } });
    const calls: string[] = [];
    const first = await runPipelineWith(fakeImpl(calls), { config, runDir, log });
    expect(calls).toEqual(['data', 'embed', 'tokenize', 'train', 'eval', 'recommend']);
    expect(JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(config)));
    const metrics = JSON.parse(await readFile(join(runDir, 'metrics.json'), 'utf8'));
    expect(metrics['recall@10']).toBe(0.1);
    expect(metrics.stages.map((s: { name: string }) => s.name)).toEqual(['data', 'embed', 'tokenize', 'train', 'eval', 'recommend']);
    const html = await readFile(first.reportPath!, 'utf8');
    // loss, codebook, collisions, baselines, published (no validation curve in this fake log).
    expect((html.match(/<svg[\s>]/g) ?? []).length).toBe(5);

    calls.length = 0;
    const again = await runPipelineWith(fakeImpl(calls), { config, runDir, log, report: false });
    expect(calls).toEqual([]);
    expect(again.outcomes.map((o) => o.status)).toEqual(Array(6).fill('reused'));

    calls.length = 0;
    const edited = resolvePipelineConfig({ name: 'fake', train: { preset: 'tiny', trainer: { steps: 5 } }, report: { dataset: 'amazon-beauty' } });
    const third = await runPipelineWith(fakeImpl(calls), { config: edited, runDir, log, report: false });
    expect(calls).toEqual(['train', 'eval', 'recommend']);
    expect(third.metrics!.trainedSteps).toBe(5);

    calls.length = 0;
    await runPipelineWith(fakeImpl(calls), { config: edited, runDir, log, report: false, force: ['tokenize'] });
    expect(calls).toEqual(['tokenize', 'train', 'eval', 'recommend']);

    calls.length = 0;
    const evalEdit = resolvePipelineConfig({ ...JSON.parse(JSON.stringify(edited)), eval: { ...edited.eval, beam: 30 } });
    await runPipelineWith(fakeImpl(calls), { config: evalEdit, runDir, log, report: false });
    expect(calls).toEqual(['eval']);
  });

  it('continues an interrupted run: finished stages reused, train resumed from its checkpoint', async () => {
    const runDir = join(dir, 'run');
    const config = resolvePipelineConfig({ train: { trainer: { steps: 6 } } });
    const calls: string[] = [];
    await expect(runPipelineWith(fakeImpl(calls, { killTrainAt: 4 }), { config, runDir, log })).rejects.toThrow(/interrupted/);
    const status = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
    expect(status.ok).toBe(false);
    expect(status.stages.map((s: { name: string }) => s.name)).toEqual(['data', 'embed', 'tokenize']);

    calls.length = 0;
    const result = await runPipelineWith(fakeImpl(calls), { config, runDir, log, report: false });
    expect(calls).toEqual(['train(resume)', 'eval', 'recommend']);
    expect(result.outcomes.find((o) => o.name === 'train')!.status).toBe('resumed');
    // Resumed at step 4: only steps 5 and 6 were trained in the second attempt.
    const lines = (await readFile(join(runDir, 'train', 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).step)).toEqual([5, 6]);
  });

  it('validates stage configs before running anything', async () => {
    const runDir = join(dir, 'run');
    const calls: string[] = [];
    const config = resolvePipelineConfig({ train: { trainer: { steps: 0 } } });
    await expect(runPipelineWith(fakeImpl(calls), { config, runDir, log })).rejects.toThrow(/`train.trainer.steps` must be >= 1, got 0/);
    expect(calls).toEqual([]);
  });
});

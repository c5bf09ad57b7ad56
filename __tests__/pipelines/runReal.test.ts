// The real stages end to end on a tiny generated data set (seconds): every stage runs, a re-run
// reuses all of them, a training edit re-runs train/eval/recommend only, and the report holds one
// SVG per plot. Also the demo's text output.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePipelineConfig } from '../../pipelines/runConfig.js';
import { bucketCounts, runPipeline, validatePipelineConfig } from '../../pipelines/stages.js';
import { loadPipelineConfig } from '../../pipelines/runConfig.js';
import { fileURLToPath } from 'node:url';
import { formatMetricTable, formatRecommendations } from '../../pipelines/demo.js';
import { collectReportInputs, plotsFor } from '../../pipelines/report/index.js';

const tinyRun = (steps: number) => resolvePipelineConfig({
  name: 'tiny real run',
  data: { source: 'generate', generate: { users: 150, items: 80, seed: 3 } },
  embed: { dim: 16 },
  tokenize: { levels: 2, codebookSize: 8, dedupSize: 40 },
  train: { preset: 'tiny', trainer: { steps, batchSize: 32, evalEvery: 10, checkpointEvery: 10, warmupSteps: 5 }, validUsers: 20, validBeam: 10 },
  eval: { k: [5, 10], beam: 10, maxUsers: 40 },
  recommend: { users: 6, topK: 5, beam: 10 },
});

describe('semid run with the real stages (tiny)', () => {
  let dir: string;
  const lines: string[] = [];
  const log = (m: string) => { lines.push(m); };
  beforeAll(async () => {
    process.env.SEMID_QUIET = '1';
    dir = await mkdtemp(join(tmpdir(), 'semid-real-'));
  });
  afterAll(async () => {
    delete process.env.SEMID_QUIET;
    await rm(dir, { recursive: true, force: true });
  });

  it('runs, reuses, and re-runs only downstream of a training edit', async () => {
    const runDir = join(dir, 'run');
    const first = await runPipeline({ config: tinyRun(20), runDir, log });
    expect(first.outcomes.map((o) => o.status)).toEqual(Array(6).fill('ran'));
    const metrics = first.metrics!;
    for (const key of ['recall@5', 'ndcg@5', 'recall@10', 'ndcg@10']) {
      expect(metrics[key]).toBeGreaterThanOrEqual(0);
      expect(metrics[key]).toBeLessThanOrEqual(1);
    }
    expect(Object.keys(metrics.baselines as object)).toEqual(expect.arrayContaining(['popularity', 'dense']));
    const sample = JSON.parse(await readFile(join(runDir, 'recommend', 'sample.json'), 'utf8'));
    expect(sample.length).toBe(6);
    for (const user of sample) expect(user.items.length).toBe(5);

    const inputs = await collectReportInputs(runDir);
    const html = await readFile(first.reportPath!, 'utf8');
    expect((html.match(/<svg[\s>]/g) ?? []).length).toBe(plotsFor(inputs).length);
    expect(plotsFor(inputs).map((p) => p.id)).toEqual(['loss', 'valid-recall', 'codebook', 'collisions', 'baselines']);

    const again = await runPipeline({ config: tinyRun(20), runDir, log, report: false });
    expect(again.outcomes.map((o) => o.status)).toEqual(Array(6).fill('reused'));

    const edited = await runPipeline({ config: tinyRun(30), runDir, log, report: false });
    expect(edited.outcomes.map((o) => `${o.name}:${o.status}`)).toEqual([
      'data:reused', 'embed:reused', 'tokenize:reused', 'train:ran', 'eval:ran', 'recommend:ran',
    ]);
    expect((edited.outcomes[3].record.summary as { step: number }).step).toBe(30);

    expect(formatMetricTable(edited.metrics!, 'semid tiny')).toMatch(/^method\s+recall@5\s+ndcg@5\s+recall@10\s+ndcg@10\n[- ]+\nsemid tiny\s+0\.\d{4}/);
    expect(formatRecommendations(sample.slice(0, 1))).toContain('recommended:\n     1. ');
  });

  it('rejects a bad trainer field before running any stage', async () => {
    const runDir = join(dir, 'bad');
    const config = resolvePipelineConfig({ train: { trainer: { stepz: 3 } } });
    await expect(runPipeline({ config, runDir, log })).rejects.toThrow(/`train.trainer`: unknown train config field "stepz"/);
  });

  it.each(['generated.json', 'beauty.json', 'scientific.json', 'multidomain.json'])('example config %s passes every stage owner\'s validation', async (file) => {
    const config = await loadPipelineConfig(fileURLToPath(new URL(`../../pipelines/configs/${file}`, import.meta.url)));
    expect(() => validatePipelineConfig(config)).not.toThrow();
  });

  it('names a bad tokenizer option through the tokenizer\'s own validation', () => {
    const config = resolvePipelineConfig({ tokenize: { method: 'rqkmeans', options: { iterationz: 3 } } });
    expect(() => validatePipelineConfig(config)).toThrow(/`tokenize`: .*iterationz/);
    expect(() => validatePipelineConfig(resolvePipelineConfig({ tokenize: { method: 'magic' } }))).toThrow(/`tokenize`: unknown tokenizer method "magic"/);
  });

  it('counts collision buckets before the disambiguation position', () => {
    // 4 items, 2 positions + disambiguation: (0,1) twice, (2,3) once, (1,1) once.
    const codes = Int32Array.from([0, 1, 0, 0, 1, 1, 2, 3, 0, 1, 1, 0]);
    expect(bucketCounts(codes, 2)).toEqual({ 1: 2, 2: 1 });
  });
});

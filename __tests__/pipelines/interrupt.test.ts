// Issue 20 cases 2, 3 and 6 with real processes: two `semid train` runs on one MODELDIR (the second fails at once,
// naming the first), Ctrl-C and kill -9 during a new run into an existing model (the old model stays whole; the
// new run resumes from its checkpoint and replaces it only when finished), and a second Ctrl-C exits at once.
import { access, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startSemid, type SemidProcess } from '../support/semidProcess.js';
import { tokenizedData, type TokenizedData } from './tokenizedData.js';
import { trainModel } from '../../pipelines/train.js';
import { lockPath } from '../../tokenizer/io/index.js';

type Run = SemidProcess;

function semid(args: string[]): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, SEMID_LOG_INTERVAL: '1000' };
  delete env.SEMID_QUIET;
  return startSemid(args, env);
}

async function waitFor(path: string, run: Run, seconds = 90): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await access(path).then(() => true, () => false)) return;
    if (run.child.exitCode !== null || run.child.signalCode !== null) throw new Error(`semid exited ${run.child.exitCode} before ${path} appeared:\n${run.err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} did not appear in ${seconds} s:\n${run.err()}`);
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files = ['model.json', 'weights.bin', 'config.json', 'metrics.jsonl', join('checkpoints', 'last', 'state.json'), join('checkpoints', 'last', 'weights.bin')];
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, (await readFile(join(dir, f))).toString('base64')])));
}

describe('interrupted and concurrent training runs (child processes)', () => {
  let fixture: TokenizedData;
  let dir: string;
  let data: string;
  let tokenizer: string;
  let model: string;
  const train = (seed: number, extra: string[] = ['--steps', '100000', '--batch-size', '16']): string[] => [
    'train', '--data', data, '--tokenizer', tokenizer, '--out', model, '--preset', 'tiny',
    '--warmup-steps', '1', '--checkpoint-every', '5', '--valid-users', '0', '--seed', String(seed), ...extra,
  ];
  beforeAll(async () => {
    fixture = await tokenizedData('interrupt', 5);
    ({ dir, data, tokenizer } = fixture);
    model = join(dir, 'model');
    await trainModel({ data, tokenizer, out: model, preset: 'tiny', silent: true, validUsers: 0, overrides: { steps: 6, batchSize: 16, warmupSteps: 1, checkpointEvery: 3, seed: 7 } });
  });
  afterAll(async () => {
    await fixture.remove();
  });

  test('cases 2, 3, 6: a second run fails fast naming the first; Ctrl-C checkpoints, keeps the old model and says how to resume', async () => {
    const before = await snapshot(model);
    const first = semid(train(11));
    try {
      await waitFor(join(`${model}.staging`, 'checkpoints', 'last', 'state.json'), first);
      const second = semid(train(12));
      expect(await second.exit).toBe(1);
      expect(second.err()).toContain(`semid: ${model} is in use by another semid run (pid ${first.child.pid} on `);
      expect(second.err()).toMatch(/: semid train .*--seed 11 .*\); wait for it to finish/);
      first.child.kill('SIGINT');
      expect(await first.exit).toBe(130);
    } finally {
      first.child.kill('SIGKILL');
    }
    expect(first.err()).toContain('SIGINT: finishing the current step and writing a checkpoint');
    expect(first.out()).toMatch(new RegExp(`stopped at step \\d+ of 100000 \\(SIGINT\\); checkpoint in ${model}.staging/checkpoints/last\\nresume with: semid train .*--seed 11 .*--resume\\n`));
    expect(await snapshot(model)).toEqual(before); // nothing of the new run in MODELDIR
    const stopped = JSON.parse(await readFile(join(`${model}.staging`, 'checkpoints', 'last', 'state.json'), 'utf8'));
    expect(stopped.step).toBeGreaterThanOrEqual(5);
    expect(stopped.config.seed).toBe(11);
    await expect(access(lockPath(model))).rejects.toThrow(/ENOENT/);

    // --resume continues the staged run and swaps it in only when it finishes.
    const resumed = await trainModel({ data, tokenizer, out: model, preset: 'tiny', silent: true, resume: true, overrides: { steps: stopped.step + 3 } });
    expect(resumed.step).toBe(stopped.step + 3);
    const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8'));
    expect(config.train).toMatchObject({ seed: 11, steps: stopped.step + 3 });
    await expect(access(`${model}.staging`)).rejects.toThrow(/ENOENT/);
  }, 300_000);

  test('case 3: kill -9 during a new run leaves the old model whole; the next run takes over the stale lock', async () => {
    await rm(`${model}.staging`, { recursive: true, force: true }); // this run's checkpoint is the one waited for
    const before = await snapshot(model);
    const run = semid(train(13));
    await waitFor(join(`${model}.staging`, 'checkpoints', 'last', 'state.json'), run);
    run.child.kill('SIGKILL');
    await run.exit;
    expect(await snapshot(model)).toEqual(before);
    expect(JSON.parse(await readFile(lockPath(model), 'utf8')).pid).toBe(run.child.pid);

    const again = semid(train(14, ['--steps', '7', '--batch-size', '16']));
    expect([await again.exit, again.err()]).toEqual([0, expect.any(String)]);
    expect(again.err()).toContain(`took over the lock ${lockPath(model)} of a run that is no longer running (pid ${run.child.pid}`);
    expect(again.err()).toContain(`discarding the unfinished run in ${model}.staging`);
    const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8'));
    expect(config.train).toMatchObject({ seed: 14, steps: 7 });
  }, 300_000);

  test('a second Ctrl-C exits at once', async () => {
    // Larger batches, so that the second signal comes while the first step and its checkpoint are finishing.
    await rm(`${model}.staging`, { recursive: true, force: true });
    const run = semid(train(15, ['--steps', '100000', '--batch-size', '256']));
    try {
      await waitFor(join(`${model}.staging`, 'checkpoints', 'last', 'state.json'), run);
      run.child.kill('SIGINT');
      while (!run.err().includes('SIGINT: finishing') && run.child.exitCode === null && run.child.signalCode === null) await new Promise((r) => setTimeout(r, 5));
      run.child.kill('SIGINT');
      expect(await run.exit).toBe(130);
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(run.err()).toContain('SIGINT again: exiting now without a checkpoint');
  }, 300_000);
});

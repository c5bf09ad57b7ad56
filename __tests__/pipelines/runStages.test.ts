// The stage runner with fake (injected) stages: caching, invalidation, --force, resume after an interruption.
import { mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, runStages, type StageDefinition } from '../../pipelines/runner.js';

interface Fake {
  stages: StageDefinition[];
  calls: string[];
  resumed: string[];
}

/** a -> b -> c, plus d reading an external file; each writes out.txt from its upstream's output. */
function fakeStages(config: Record<string, unknown>, inputFile: string, failIn?: string): Fake {
  const calls: string[] = [];
  const resumed: string[] = [];
  const make = (name: string, after: string[], extra: Partial<StageDefinition> = {}): StageDefinition => ({
    name,
    after,
    config: config[name],
    ...extra,
    async run(ctx) {
      calls.push(name);
      if (ctx.resume) resumed.push(name);
      const upstreamText = await Promise.all(after.map((n) => readFile(join(ctx.upstream[n].outDir, 'out.txt'), 'utf8')));
      // A resumable stage keeps a checkpoint: an interrupted attempt leaves it behind.
      let step = 0;
      if (extra.resumable) {
        step = Number(await readFile(join(ctx.outDir, 'ckpt'), 'utf8').catch(() => '0'));
        await writeFile(join(ctx.outDir, 'ckpt'), String(step + 1));
      }
      if (failIn === name) throw new Error(`killed in ${name}`);
      await writeFile(join(ctx.outDir, 'out.txt'), `${name}(${JSON.stringify(config[name])};${upstreamText.join(',')})`);
      return { step };
    },
  });
  return {
    calls,
    resumed,
    stages: [
      make('a', []),
      make('b', ['a'], { resumable: true }),
      make('c', ['b']),
      make('d', ['a'], { inputFiles: [inputFile] }),
    ],
  };
}

describe('stage runner', () => {
  let dir: string;
  let runDir: string;
  let input: string;
  const quiet = { log: () => {} };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'semid-run-'));
    runDir = join(dir, 'run');
    input = join(dir, 'input.txt');
    await writeFile(input, 'v1');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('runs every stage once, then reuses all of them', async () => {
    const config = { a: 1, b: { x: 1 }, c: 'c', d: null };
    const first = fakeStages(config, input);
    const out1 = await runStages(first.stages, { runDir, ...quiet });
    expect(first.calls).toEqual(['a', 'b', 'c', 'd']);
    expect(out1.map((o) => o.status)).toEqual(['ran', 'ran', 'ran', 'ran']);
    const second = fakeStages(config, input);
    const out2 = await runStages(second.stages, { runDir, ...quiet });
    expect(second.calls).toEqual([]);
    expect(out2.map((o) => o.status)).toEqual(['reused', 'reused', 'reused', 'reused']);
    expect(await readFile(join(runDir, 'c', 'out.txt'), 'utf8')).toBe('c("c";b({"x":1};a(1;)))');
  });

  it('re-runs a stage whose config changed and everything downstream of it, nothing else', async () => {
    await runStages(fakeStages({ a: 1, b: { x: 1 }, c: 'c' }, input).stages, { runDir, ...quiet });
    const changed = fakeStages({ a: 1, b: { x: 2 }, c: 'c' }, input);
    await runStages(changed.stages, { runDir, ...quiet });
    expect(changed.calls).toEqual(['b', 'c']);
    expect(await readFile(join(runDir, 'c', 'out.txt'), 'utf8')).toBe('c("c";b({"x":2};a(1;)))');
  });

  it('hashes configs canonically: key order does not matter', async () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(canonicalJson({ a: [1, { c: 3, d: 2 }], b: 1 }));
    await runStages(fakeStages({ b: { x: 1, y: 2 } }, input).stages, { runDir, ...quiet });
    const again = fakeStages({ b: { y: 2, x: 1 } }, input);
    await runStages(again.stages, { runDir, ...quiet });
    expect(again.calls).toEqual([]);
  });

  it('re-runs a stage whose input file content changed', async () => {
    await runStages(fakeStages({}, input).stages, { runDir, ...quiet });
    await writeFile(input, 'v1'); // same content: still reused
    const same = fakeStages({}, input);
    await runStages(same.stages, { runDir, ...quiet });
    expect(same.calls).toEqual([]);
    await writeFile(input, 'v2');
    const changed = fakeStages({}, input);
    await runStages(changed.stages, { runDir, ...quiet });
    expect(changed.calls).toEqual(['d']);
  });

  it('--force STAGE redoes it and everything downstream', async () => {
    await runStages(fakeStages({}, input).stages, { runDir, ...quiet });
    const forced = fakeStages({}, input);
    await runStages(forced.stages, { runDir, force: ['b'], ...quiet });
    expect(forced.calls).toEqual(['b', 'c']);
    const forcedRoot = fakeStages({}, input);
    await runStages(forcedRoot.stages, { runDir, force: ['a'], ...quiet });
    expect(forcedRoot.calls).toEqual(['a', 'b', 'c', 'd']);
    await expect(runStages(fakeStages({}, input).stages, { runDir, force: ['nope'], ...quiet })).rejects.toThrow(/unknown stage "nope"/);
  });

  it('continues an interrupted run from the last finished stage; a resumable stage keeps its checkpoint', async () => {
    const interrupted = fakeStages({}, input, 'b');
    await expect(runStages(interrupted.stages, { runDir, ...quiet })).rejects.toThrow(/killed in b/);
    expect(interrupted.calls).toEqual(['a', 'b']);
    // No completion marker for the interrupted stage, only its partial output.
    await expect(access(join(runDir, 'b', '.stage.json'))).rejects.toThrow();
    await expect(access(join(runDir, 'a', '.stage.json'))).resolves.toBeUndefined();

    const resumed = fakeStages({}, input);
    const outcomes = await runStages(resumed.stages, { runDir, ...quiet });
    expect(resumed.calls).toEqual(['b', 'c', 'd']);
    expect(resumed.resumed).toEqual(['b']);
    expect(outcomes.find((o) => o.name === 'b')!.status).toBe('resumed');
    expect(outcomes.find((o) => o.name === 'b')!.record.summary).toEqual({ step: 1 }); // continued from the checkpoint
  });

  it('starts a resumable stage afresh when its inputs changed since the interruption', async () => {
    await expect(runStages(fakeStages({ b: 1 }, input, 'b').stages, { runDir, ...quiet })).rejects.toThrow();
    const changed = fakeStages({ b: 2 }, input);
    const outcomes = await runStages(changed.stages, { runDir, ...quiet });
    expect(changed.resumed).toEqual([]);
    expect(outcomes.find((o) => o.name === 'b')!.record.summary).toEqual({ step: 0 });
  });

  it('rejects a graph that reads from a later or unknown stage', async () => {
    const stages: StageDefinition[] = [
      { name: 'x', after: ['y'], config: null, run: async () => {} },
      { name: 'y', after: [], config: null, run: async () => {} },
    ];
    await expect(runStages(stages, { runDir, ...quiet })).rejects.toThrow(/stage "x" reads from "y", which is not an earlier stage/);
  });
});

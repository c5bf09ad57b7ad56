// The benchmark harness end to end with --quick sizes: every suite runs in its own child process, writes
// bench/results-style JSON with backend, machine and memory, and the reference comparison works, checked
// with a stand-in for the PyTorch reference (the real one is never run by tests).
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, runBench, SUITE_NAMES, type SuiteResult, type VariantResult } from '../../bench/index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'semid-bench-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stand-in `python` for tiger_ref.py: answers the torch probe and writes records for `--bench train`. */
const FAKE_PYTHON = `#!/usr/bin/env node
const args = process.argv.slice(2);
if (args[0] === '-c') { console.log('0.0-fake'); process.exit(0); }
const get = (name) => args[args.indexOf(name) + 1];
const preset = get('--preset');
const step = preset === 'tiger' ? 4 : 1;
const record = { bench: get('--bench'), preset, step_s: { min: step, median: step, max: step, n: 5 },
  seq_per_s: { median: 256 / step }, tok_per_s: { median: 256 * 85 / step } };
require('node:fs').appendFileSync(get('--out'), JSON.stringify(record) + '\\n');
`;

/**
 * A stand-in `python` for sasrec_ref.py: prints its records on stdout, spaced in time as the real one's are (each
 * epoch's record arrives after its training seconds plus a validation; the test record after one more evaluation).
 */
const FAKE_SASREC_PYTHON = `#!/usr/bin/env node
const args = process.argv.slice(2);
if (args[0] === '-c') { console.log('0.0-fake'); process.exit(0); }
const epochs = Number(args[args.indexOf('--epochs') + 1]);
const print = (r) => process.stdout.write(JSON.stringify(r) + '\\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  print({ users: 200, items: 120, trainRows: 180, trainTargets: 900, params: 1, torch: '0.0-fake', threads: Number(args[args.indexOf('--threads') + 1]) });
  for (let e = 1; e <= epochs; e++) {
    await sleep(500);
    print({ epoch: e, trainSeconds: 0.1 * e, loss: 1, valid: { 'ndcg@10': 0.1 } });
  }
  await sleep(400);
  print({ test: { 'ndcg@10': 0.1 }, trainSeconds: 0.1 * epochs });
})();
`;

describe('semid bench --quick', () => {
  it('runs every suite and writes one result file per suite', async () => {
    const out = join(dir, 'all');
    const results = await runBench({ quick: true, out, withReference: false, threads: false, webgpu: false, quiet: true, dataDir: null });
    expect(results.map((r) => r.suite)).toEqual(SUITE_NAMES);
    expect((await readdir(out)).sort()).toEqual(SUITE_NAMES.map((s) => `${s}.json`).sort());
    for (const name of SUITE_NAMES) {
      const r = JSON.parse(await readFile(join(out, `${name}.json`), 'utf8')) as SuiteResult;
      expect(r.quick).toBe(true);
      expect(r.machine.start.node).toBe(process.version);
      expect(r.machine.start.cores).toBeGreaterThan(0);
      expect(r.reference.measured).toBe(false);
      expect(r.reference.reason).toMatch(/\S/);
      for (const v of r.variants) {
        expect(v.error).toBeNull();
        expect(v.peakRssMiB).toBeGreaterThan(10);
        expect(v.load?.loadavgStart).toHaveLength(3);
        if (['tokenize', 'kmeans', 'train', 'decode'].includes(name)) expect(v.backend?.name).toMatch(/wasm|cpu|tensorflow|webgpu/);
        for (const f of v.figures ?? []) {
          expect(Number.isFinite(f.value) && f.value > 0).toBe(true);
          if (f.samples) expect(f.samples.min).toBeLessThanOrEqual(f.samples.median);
        }
      }
    }
    const figures = (name: string) => results.find((r) => r.suite === name)!.variants.flatMap((v) => v.figures ?? []).map((f) => f.key);
    expect(figures('train')).toEqual(['train.tiny.seqPerSec', 'train.tiny.tokPerSec', 'train.tiny+item.seqPerSec', 'train.tiny+item.tokPerSec']);
    // per-code layout: user + 3 items x 4 codes; item layout: user + 3 items
    const trainDetail = (key: string) => results.find((r) => r.suite === 'train')!.variants.flatMap((v) => v.figures ?? []).find((f) => f.key === key)!.detail as { encoderTokens: number; layout: string };
    expect(trainDetail('train.tiny.seqPerSec')).toMatchObject({ encoderTokens: 13, layout: 'codes' });
    expect(trainDetail('train.tiny+item.seqPerSec')).toMatchObject({ encoderTokens: 4, layout: 'item' });
    expect(figures('decode')).toEqual(expect.arrayContaining([
      'decode.tiny.usersPerSec', 'decode.tiny+item.usersPerSec', 'decode.trie.buildSeconds', 'decode.trie.megabytes',
    ]));
    expect(figures('kmeans')).toContain('kmeans.residual.seconds');
    expect(figures('data')).toEqual(['data.import.seconds', 'data.generate.seconds']);
    expect(figures('embed')).toContain('embed.tfidfSvd.seconds');
    expect(figures('tokenize')).toContain('tokenize.rqkmeans.fitSeconds');
    expect(figures('causal')).toEqual([
      ...['causal-ar', 'causal-par', 'causal-par+id', 'causal-par+id+cat', 'sasrec'].flatMap((m) => ['windowsPerSec', 'targetsPerSec', 'targetsPerCpuSec'].map((f) => `causal.train.${m}.${f}`)),
      ...['causal-ar', 'causal-par', 'causal-par+id+cat', 'sasrec'].flatMap((m) => [`causal.rank.${m}.usersPerSec`, `causal.rank.${m}.usersPerCpuSec`]),
    ]);
    expect(figures('web').slice(0, 3)).toEqual(['web.demo.exportBytes', 'web.demo.exportGzipBytes', 'web.demo.pageGzipBytes']);
  }, 300_000);

  it('compares with the reference measured in the same run', async () => {
    const python = join(dir, 'fake-python');
    await writeFile(python, FAKE_PYTHON);
    await chmod(python, 0o755);
    const [r] = await runBench({
      suites: ['train'], quick: true, out: join(dir, 'ref'), withReference: true, python, referenceScript: python,
      threads: false, webgpu: false, quiet: true, dataDir: null,
    });
    expect(r.reference.measured).toBe(true);
    expect(r.reference.torch).toBe('0.0-fake');
    expect(r.reference.runs.map((run) => run.argv.slice(2, 6))).toEqual([['--preset', 'small', '--bench', 'train'], ['--preset', 'tiger', '--bench', 'train']]);
    expect(r.reference.runs[0].figures.find((f) => f.key === 'train.small.seqPerSec')?.value).toBe(256);
    // --quick trains `tiny`, which the reference has no figure for: nothing is compared across presets.
    expect(r.comparisons).toEqual([]);
  }, 60_000);

  it('runs a reference that prints its records on stdout (sasrec_ref.py) and times its evaluations from their arrival', async () => {
    const python = join(dir, 'fake-sasrec-python');
    await writeFile(python, FAKE_SASREC_PYTHON);
    await chmod(python, 0o755);
    const referenceDir = join(dir, 'reference');
    await mkdir(referenceDir, { recursive: true });
    await writeFile(join(referenceDir, 'sasrec_ref.py'), '# stand-in: the fake python ignores it\n');
    const [r] = await runBench({
      suites: ['causal'], quick: true, out: join(dir, 'sasrec-ref'), withReference: true, python, referenceDir,
      threads: false, webgpu: false, quiet: true, dataDir: null,
    });
    expect(r.reference.measured).toBe(true);
    const [run] = r.reference.runs;
    expect(run.error).toBeNull();
    expect(run.argv[1]).toBe(join(referenceDir, 'sasrec_ref.py'));
    // the default variant is single-threaded wasm: the reference gets the same thread count
    expect(run.argv[run.argv.indexOf('--threads') + 1]).toBe('1');
    expect(run.records).toHaveLength(4);
    expect(run.arrivalSeconds).toHaveLength(4);
    expect(run.cpuSeconds).toHaveLength(4);
    const value = (key: string) => run.figures.find((f) => f.key === key)?.value;
    // epoch 2 (the timed one) took 0.1 s of training
    expect(value('causal.train.sasrec.windowsPerSec')).toBeCloseTo(1800, 6);
    expect(value('causal.train.sasrec.targetsPerSec')).toBeCloseTo(9000, 6);
    // evaluations: ~0.4 s each (0.5 s between epoch records less 0.1 s of training; 0.4 s before the test record)
    const users = value('causal.rank.sasrec.usersPerSec')!;
    expect(users).toBeGreaterThan(200 / 10);
    expect(users).toBeLessThan(200 / 0.3);
    // (per CPU-second figures too when the idle stand-in used a measurable CPU share)
    expect(r.comparisons.map((c) => c.key)).toEqual(expect.arrayContaining(['causal.rank.sasrec.usersPerSec', 'causal.train.sasrec.targetsPerSec', 'causal.train.sasrec.windowsPerSec']));
  }, 120_000);

  it('states the ratio as semid speed over PyTorch speed, for throughputs and for times', () => {
    const variant = {
      id: 'default', part: null, label: 'default backend', env: {}, backend: { name: 'wasm', detail: 'threads=1' }, load: null, peakRssMiB: 100, seconds: 1, error: null,
      figures: [
        { key: 'a', label: 'a', value: 50, unit: 'seq/s', higherIsBetter: true },
        { key: 'b', label: 'b', value: 2, unit: 's', higherIsBetter: false },
        { key: 'c', label: 'c', value: 1, unit: 's', higherIsBetter: false },
      ],
    } as VariantResult;
    const ratios = compare([variant], [
      { key: 'a', label: 'a', value: 40, unit: 'seq/s', higherIsBetter: true },
      { key: 'b', label: 'b', value: 4, unit: 's', higherIsBetter: false },
    ]).map((c) => [c.key, c.speedRatio]);
    expect(ratios).toEqual([['a', 1.25], ['b', 2]]);
  });

  it('rejects an unknown suite before running anything', async () => {
    await expect(runBench({ suites: ['nope'], quick: true, out: join(dir, 'x'), quiet: true })).rejects.toThrow(/unknown benchmark suite "nope"/);
  });
});

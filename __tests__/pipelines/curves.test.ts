// `semid compare`: validation Recall@10 against wall time from the trainer's JSONL metrics.
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCurveRun, parseReferenceCurve, parseValidationCurve, writeRecallCurves } from '../../pipelines/index.js';

const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + minutes * 60_000).toISOString();
const line = (o: Record<string, unknown>) => JSON.stringify(o);

test('wall time counts from the first logged step, includes validation, and leaves out a resume pause', () => {
  const text = [
    line({ step: 10, kind: 'train', loss: 5, time: at(0) }),
    line({ step: 100, kind: 'train', loss: 4, time: at(6) }),
    line({ step: 100, kind: 'valid', 'recall@10': 0.02, 'ndcg@10': 0.01, time: at(6) }),
    '{"step": 110, "kind": "tra', // cut by a kill
    line({ step: 100, kind: 'resume', time: at(66) }), // resumed an hour later: not training time
    line({ step: 110, kind: 'train', loss: 3.9, time: at(67) }),
    line({ step: 200, kind: 'train', loss: 3.5, time: at(72) }),
    line({ step: 200, kind: 'valid', 'recall@10': 0.04, time: at(75) }),
  ].join('\n');
  const rows = parseValidationCurve('a', text, 'a.jsonl');
  expect(rows.map((r) => r.step)).toEqual([100, 200]);
  expect(rows[0].hours).toBeCloseTo(6 / 60, 10);
  expect(rows[1].hours).toBeCloseTo((6 + 9) / 60, 10);
  expect(rows[0]).toMatchObject({ run: 'a', recall10: 0.02, ndcg10: 0.01 });
  expect(rows[1].ndcg10).toBeUndefined();
});

test('a log without validation rows, a bad --run and a missing directory are errors that name them', async () => {
  expect(() => parseValidationCurve('a', line({ step: 1, kind: 'train', loss: 1, time: at(0) }), 'x/metrics.jsonl')).toThrow(/x\/metrics\.jsonl: no validation rows/);
  expect(() => parseCurveRun('nolabel')).toThrow(/--run "nolabel": expected LABEL=MODELDIR/);
  expect(parseCurveRun('small=/a/b=c')).toEqual({ label: 'small', modelDir: '/a/b=c' });
  await expect(writeRecallCurves([{ label: 'm', modelDir: '/nonexistent/semid' }], '/tmp/x')).rejects.toThrow(/--run m=\/nonexistent\/semid: cannot read/);
});

test('writes OUT.svg and OUT.json with one line per run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'semid-curves-'));
  for (const [name, r] of [['a', 0.02], ['b', 0.03]] as const) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'metrics.jsonl'), [
      line({ step: 1, kind: 'train', loss: 5, time: at(0) }),
      line({ step: 50, kind: 'valid', 'recall@10': r, time: at(30) }),
    ].join('\n'));
  }
  const rows = await writeRecallCurves([{ label: 'a', modelDir: join(dir, 'a') }, { label: 'b', modelDir: join(dir, 'b') }], join(dir, 'curve.svg'));
  expect(rows.map((r) => [r.run, r.hours])).toEqual([['a', 0.5], ['b', 0.5]]);
  const svg = await readFile(join(dir, 'curve.svg'), 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('Recall@10');
  const json = JSON.parse(await readFile(join(dir, 'curve.json'), 'utf8'));
  expect(json.points).toHaveLength(2);
});

test("a reference script's log (sasrec_ref.py's stdout) is a run too: its training seconds are the hours", async () => {
  const log = [
    line({ users: 3, items: 5 }),
    line({ epoch: 5, trainSeconds: 360, loss: 10, valid: { 'recall@10': 0.05, 'ndcg@10': 0.02 } }),
    line({ epoch: 10, trainSeconds: 720, loss: 9, valid: { 'recall@10': 0.07 } }),
    line({ test: { 'recall@10': 0.06 }, bestValidNdcg10: 0.02, trainSeconds: 720 }),
  ].join('\n');
  const rows = parseReferenceCurve('ref', log, 'ref.jsonl');
  expect(rows).toEqual([
    { run: 'ref', step: 5, hours: 0.1, recall10: 0.05, ndcg10: 0.02 },
    { run: 'ref', step: 10, hours: 0.2, recall10: 0.07 },
  ]);
  expect(() => parseReferenceCurve('ref', line({ test: {} }), 'x.jsonl')).toThrow(/x\.jsonl: no lines with "trainSeconds"/);
  const dir = await mkdtemp(join(tmpdir(), 'semid-curves-'));
  await writeFile(join(dir, 'ref.jsonl'), log);
  await mkdir(join(dir, 'm'));
  await writeFile(join(dir, 'm', 'metrics.jsonl'), [line({ step: 1, kind: 'train', time: at(0) }), line({ step: 9, kind: 'valid', 'recall@10': 0.04, time: at(12) })].join('\n'));
  const both = await writeRecallCurves([{ label: 'ref', modelDir: join(dir, 'ref.jsonl') }, { label: 'm', modelDir: join(dir, 'm') }], join(dir, 'c'));
  expect(both.map((r) => [r.run, r.hours])).toEqual([['ref', 0.1], ['ref', 0.2], ['m', 0.2]]);
});

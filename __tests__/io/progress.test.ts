// Progress lines: a resumed run's earlier steps count neither in the rate nor in the ETA.
import { Progress } from '../../tokenizer/io/index.js';

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = { isTTY: false, write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

test('the rate and ETA of a resumed run count only the steps done in this process', () => {
  const { stream, text } = capture();
  let clock = 1000;
  const progress = new Progress({ label: 'train', total: 100, unit: 'step', stream, logIntervalS: 0, initial: 90, now: () => clock });
  progress.update(90);
  clock += 2000; // 5 steps in 2 s: 2.5 step/s (counting all 95 would give 47.5), 5 steps left: ETA 2 s
  progress.update(95);
  const lines = text().trim().split('\n');
  expect(lines[lines.length - 1]).toMatch(/95\/100 .* 2\.50? step\/s .*ETA 2s/);
  clock += 2000;
  expect(progress.finish()).toBeCloseTo(4);
});

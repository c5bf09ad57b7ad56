// Progress lines: a resumed run's earlier steps count neither in the rate nor in the ETA.
import { Progress } from '../../tokenizer/index.js';

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = { isTTY: false, write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

test('the rate of a resumed run counts only the steps done in this process', async () => {
  const { stream, text } = capture();
  const t0 = performance.now();
  const progress = new Progress({ label: 'train', total: 100, unit: 'step', stream, logIntervalS: 0, initial: 90 });
  progress.update(90);
  await new Promise((resolve) => setTimeout(resolve, 60));
  progress.update(95);
  const seconds = (performance.now() - t0) / 1000;
  const rates = [...text().matchAll(/ ([0-9.e+]+) step\/s/g)].map((m) => Number(m[1]));
  const last = rates[rates.length - 1];
  // 5 steps in about `seconds` (counting all 95 would give 95 / seconds or more)
  expect(last).toBeGreaterThan(0);
  expect(last).toBeLessThanOrEqual(5 / 0.06 + 1e-6);
  expect(last).toBeLessThan(95 / seconds);
  expect(text()).toContain('95/100');
});

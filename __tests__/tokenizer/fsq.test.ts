import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../seq2seq/backend/index.js';
import { FsqLevel, fsqBound, fsqDigitsToIndex, fsqIndexToDigits, fsqLevelsFor, createTokenizer } from '../../tokenizer/index.js';
import { blobs, mse } from './helpers.js';

beforeAll(async () => { await initBackend({ quiet: true }); });

describe('FSQ index <-> code maps', () => {
  it.each([[[8, 6, 5]], [[8, 8, 8, 6, 5]], [[3, 2]]])('are exact inverses over every code of %j', (levels) => {
    const size = levels.reduce((a, b) => a * b, 1);
    const seen = new Set<string>();
    for (let i = 0; i < size; i++) {
      const digits = fsqIndexToDigits(i, levels);
      digits.forEach((d, j) => expect(d).toBeLessThan(levels[j]));
      expect(fsqDigitsToIndex(digits, levels)).toBe(i);
      seen.add(digits.join(','));
    }
    expect(seen.size).toBe(size);
    expect(() => fsqIndexToDigits(size, levels)).toThrow(/outside/);
  });

  it('quantize and lookup agree, codes stay in range, and the bound keeps every value on the grid', () => {
    const levels = [8, 6, 5];
    const before = tf.memory().numTensors;
    const q = new FsqLevel(levels, [1, 1, 1]);
    const [codes, quantized, looked] = tf.tidy(() => {
      const z = tf.randomNormal([500, 3], 0, 3, 'float32', 7) as tf.Tensor2D; // [rows, 3]
      const out = q.quantize(fsqBound(z, levels));
      return [out.codes, out.quantized, q.lookup(out.codes)];
    });
    const c = codes.dataSync();
    for (const v of c) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThan(240); }
    expect(Array.from(looked.dataSync(), (v) => v + 0)).toEqual(Array.from(quantized.dataSync(), (v) => v + 0));
    expect(new Set(c).size).toBeGreaterThan(100);
    tf.dispose([codes, quantized, looked]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('chooses the paper level set for a codebook size', () => {
    expect(fsqLevelsFor(256)).toEqual([8, 6, 5]);
    expect(fsqLevelsFor(16384)).toEqual([8, 8, 8, 6, 5]);
  });
});

describe('fsq and rfsq tokenizers', () => {
  it.each(['fsq', 'rfsq'])('%s fits, encodes in range, decodes better than the mean, without leaking tensors', async (method) => {
    const x = blobs(400, 16, 10, 3);
    const before = tf.memory().numTensors;
    const tok = createTokenizer(method, { levels: 2, fsqLevels: [5, 4], hidden: [32], epochs: 15, batchSize: 64, learningRate: 3e-3 });
    const report = await tok.fit(x, { seed: 1, silent: true });
    const ids = tok.encode(x);
    expect(ids.levels).toEqual([20, 20]);
    for (const c of ids.codes) { expect(c).toBeGreaterThanOrEqual(0); expect(c).toBeLessThan(20); }
    expect(report.curve!.length).toBe(15);
    expect(report.curve![14].reconstruction).toBeLessThan(report.curve![0].reconstruction);
    expect(report.relativeReconstruction).toBeLessThan(0.8);
    expect(mse(x, tok.decode(ids))).toBeCloseTo(report.reconstruction, 3);
    (tok as unknown as { dispose(): void }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

// One suite variant in its own process, so that its peak memory (VmHWM) and its tfjs backend are its own.
// Started by runner.ts as `node --import tsx bench/child.ts '<json request>'`; writes its result as JSON.
import { writeJsonAtomic } from '../tokenizer/io/index.js';
import { initBackend } from '../seq2seq/index.js';
import { LoadMeter, peakRssMiB } from './measure.js';
import { getSuite } from './suites.js';
import type { SuiteOptions, Variant, VariantOutput } from './types.js';

export interface ChildRequest {
  suite: string;
  variant: Variant;
  options: SuiteOptions;
  resultPath: string;
}

export interface ChildResult extends Partial<VariantOutput> {
  backend: { name: string; detail: string } | null;
  load: ReturnType<LoadMeter['finish']> | null;
  peakRssMiB: number;
  seconds: number;
  error: string | null;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as ChildRequest;
  const t0 = performance.now();
  let result: ChildResult;
  try {
    const suite = getSuite(request.suite);
    const backend = suite.usesBackend ? await initBackend({ quiet: true }) : null;
    const meter = new LoadMeter();
    const output = await suite.run(request.options, request.variant);
    result = {
      ...output, backend: backend ? { name: backend.name, detail: backend.detail } : null,
      load: meter.finish(), peakRssMiB: peakRssMiB(), seconds: (performance.now() - t0) / 1000, error: null,
    };
  } catch (err) {
    const e = err as Error;
    result = {
      backend: null, load: null, peakRssMiB: peakRssMiB(), seconds: (performance.now() - t0) / 1000,
      error: process.env.SEMID_DEBUG ? `${e.stack ?? e.message}` : e.message,
    };
  }
  await writeJsonAtomic(request.resultPath, result);
}

await main();
// The threaded wasm pool and Dawn can hold the event loop open; the result is written, so leave.
process.exit(0);

// Every benchmark suite, in the order `semid bench` runs them. A new suite is one file plus one line here.
import { causalSuite } from './causal.js';
import { dataSuite } from './data.js';
import { decodeSuite } from './decode.js';
import { embedSuite } from './embed.js';
import { kmeansSuite } from './kmeans.js';
import { scaleSuite } from './scale.js';
import { tokenizeSuite } from './tokenize.js';
import { trainSuite } from './train.js';
import { webSuite } from './web.js';
import type { Suite } from './types.js';

export const SUITES: Suite[] = [dataSuite, embedSuite, tokenizeSuite, kmeansSuite, trainSuite, decodeSuite, causalSuite, webSuite, scaleSuite];

export const SUITE_NAMES = SUITES.map((s) => s.name);

export function getSuite(name: string): Suite {
  const suite = SUITES.find((s) => s.name === name);
  if (!suite) throw new Error(`unknown benchmark suite "${name}": expected one of ${SUITE_NAMES.join(', ')}`);
  return suite;
}

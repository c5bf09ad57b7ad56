// A tiny encoder-decoder with text tokens, trained through `semid train`'s pipeline on generated data with
// preferences and DSI's indexing task: it follows a steering preference (recall with the target's own brand and
// category above recall with another item's), a negative preference pushes the named brand out of the top 10,
// search finds items from their exact text; and the bad inputs (empty, non-UTF-8 or unknown-word texts, unknown
// users in a preference file, a model without text) fail with messages that name them, writing nothing.
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PrefixTrie } from '../../decoding/index.js';
import { makeTable, utf8Vector, writeParquetTable } from '../../pipelines/data/index.js';
import { evaluatePreferenceModes, evaluateSearch } from '../../pipelines/evaluate/index.js';
import { runRecommend } from '../../pipelines/recommend.js';
import { runSearch, searchQueries } from '../../pipelines/search.js';
import { MAX_TEXT_WORDS, writePreferences } from '../../pipelines/text/index.js';
import { trainModel } from '../../pipelines/train.js';
import { openTrainedModel, type TrainedModel } from '../../pipelines/trainedModel.js';
import { tokenizedData, type TokenizedData } from '../pipelines/tokenizedData.js';

let fixture: TokenizedData;
let modelDir: string;
let plainDir: string;
let opened: TrainedModel;

beforeAll(async () => {
  fixture = await tokenizedData('text model', 11);
  modelDir = join(fixture.dir, 'model');
  plainDir = join(fixture.dir, 'plain');
  await trainModel({
    data: fixture.data, tokenizer: fixture.tokenizer, out: modelDir, preset: 'tiny', indexItems: true, validUsers: 0, silent: true,
    overrides: { textTokens: 2, steps: 500, batchSize: 64, warmupSteps: 20, evalEvery: 0, checkpointEvery: 500, seed: 1 },
  });
  await trainModel({
    data: fixture.data, tokenizer: fixture.tokenizer, out: plainDir, preset: 'tiny', validUsers: 0, silent: true,
    overrides: { steps: 2, batchSize: 8, evalEvery: 0, checkpointEvery: 2 },
  });
  opened = await openTrainedModel({ data: fixture.data, tokenizer: fixture.tokenizer, model: modelDir, command: 'test', quiet: true });
}, 600_000);

afterAll(async () => {
  opened?.model.dispose();
  await fixture?.remove();
});

const options = { split: 'test' as const, ks: [10], beamSize: 20, excludeHistory: false, progress: false };

test('steering: recall@10 with the target\'s own brand and category is above recall with another item\'s, and above none', async () => {
  const r = await evaluatePreferenceModes(opened, { ...options, data: fixture.data, modes: ['steer'] });
  const steer = r.steer as { right: Record<string, number>; wrong: Record<string, number>; withPreference: number };
  const none = r.none as Record<string, number>;
  expect(steer.withPreference).toBeGreaterThan(100);
  expect(steer.right['recall@10']).toBeGreaterThan(steer.wrong['recall@10'] + 0.2);
  expect(steer.right['recall@10']).toBeGreaterThan(none['recall@10']);
});

test('negative: "no BRAND" pushes the brand the model recommended most out of the top 10', async () => {
  const r = await evaluatePreferenceModes(opened, { ...options, data: fixture.data, modes: ['negative'] });
  const brand = (r.negative as Record<string, Record<string, number>>).brand;
  expect(brand.users).toBeGreaterThan(100);
  expect(brand['shareBefore@10']).toBeGreaterThan(0.2);
  expect(brand['shareAfter@10']).toBeLessThan(brand['shareBefore@10'] * 0.8); // measured .40 -> .26 (a model deaf to negation keeps the share)
});

test('history mode reads DIR/preferences.parquet once `data preferences` wrote it', async () => {
  const written = await writePreferences({ data: fixture.data });
  expect(written.withText).toBe(written.users);
  const r = await evaluatePreferenceModes(opened, { ...options, data: fixture.data, modes: ['history'] });
  const history = r.history as Record<string, unknown>;
  expect(history.source).toBe(written.path);
  expect(history.withPreference).toBe(r.users);
});

test('search: an item\'s exact text finds it; the noisy-query evaluation reports the model and BM25', async () => {
  const { dataset, itemCodes, ranker, textEncoder } = opened;
  const items = Array.from({ length: 20 }, (_, i) => i * 3);
  const results = await searchQueries(items.map((i) => dataset.items.texts[i]), {
    scorer: ranker, trie: PrefixTrie.build(itemCodes), encoder: textEncoder!, itemKeys: dataset.items.keys, itemTexts: dataset.items.texts, topK: 10,
  });
  const found = results.filter((r, q) => r.hits.some((h) => h.item === items[q])).length;
  expect(found).toBeGreaterThanOrEqual(14);
  for (const r of results) for (const h of r.hits) expect(h.item).toBeLessThan(dataset.items.keys.length); // catalog items only
  const report = await evaluateSearch(opened, { ks: [10], beamSize: 20, queries: 40, progress: false });
  const model = report.model as Record<string, number>;
  const bm25 = report.bm25 as Record<string, number>;
  expect(model.queries).toBe(40);
  expect(bm25['recall@10']).toBeGreaterThan(0.3);
  expect(model.mrr).toBeGreaterThan(0);
  expect(model.mrr).toBeLessThanOrEqual(model['recall@10']);
});

test('bad input: empty, non-UTF-8 and unknown-word texts, unknown users, a model without text; long queries are truncated', async () => {
  const common = { data: fixture.data, tokenizer: fixture.tokenizer, progress: false };
  const out = join(fixture.dir, 'recs.parquet');
  await expect(runRecommend({ ...common, model: modelDir, out, preference: '' })).rejects.toThrow(/--preference is empty/);
  await expect(runRecommend({ ...common, model: modelDir, out, preference: 'qqzx wvvk' })).rejects.toThrow(/the preference of user .* has no word the model's text encoder knows/);
  await expect(runRecommend({ ...common, model: plainDir, out, preference: 'no Lumen' })).rejects.toThrow(/reads no text \(trained without --text-tokens\)/);
  const input = join(fixture.dir, 'input.parquet');
  await writeParquetTable(input, makeTable({ user_key: utf8Vector([opened.dataset.sequences.userKeys[0], opened.dataset.sequences.userKeys[1]]), preference: utf8Vector(['', 'caf\uFFFD']) }));
  await expect(runRecommend({ ...common, model: modelDir, out, input })).rejects.toThrow(/input.parquet row 1 .* preference is not valid UTF-8/);
  await expect(access(out)).rejects.toThrow(); // nothing written
  const prefs = join(fixture.dir, 'prefs.parquet');
  await writeParquetTable(prefs, makeTable({ user_key: utf8Vector(['nobody']), text: utf8Vector(['no Lumen']) }));
  await expect(evaluatePreferenceModes(opened, { ...options, data: fixture.data, modes: ['history'], preferences: prefs })).rejects.toThrow(/1 of 1 user keys are not users of the data set \(e.g. "nobody"\)/);
  await expect(runSearch({ ...common, model: modelDir, query: '  ' })).rejects.toThrow(/--query is empty/);
  await expect(runSearch({ ...common, model: plainDir, query: 'lens' })).rejects.toThrow(/reads no text/);
  const word = opened.dataset.items.texts[0].split(' ')[0];
  const long = Array.from({ length: MAX_TEXT_WORDS + 10 }, () => word).join(' ');
  const { results } = await runSearch({ ...common, model: modelDir, query: long, quiet: true });
  expect(results[0].truncated).toBe(true);
  expect(results[0].hits.length).toBe(10);
  // a served preference: rows written for every user, with the history and the preference
  await mkdir(join(fixture.dir, 'ok'), { recursive: true });
  await writeFile(join(fixture.dir, 'ok', '.keep'), '');
  const done = await runRecommend({ ...common, model: modelDir, out: join(fixture.dir, 'ok', 'recs.parquet'), preference: opened.dataset.items.texts[0].split(' | ')[1] });
  expect(done.shards[0].rows).toBe(opened.dataset.sequences.userKeys.length * 10);
});

// Each importer on small files written here, the text template, k-core, and every bad-input case
// (an error naming file, line and value; with skipInvalid, a count in manifest.skipped).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ImportOptions } from '../../pipelines/data/index.js';
import {
  compileTextTemplate, importDataset, int32Vector, makeTable, parseCsv, parseJsonOrPython, readDataset,
  utf8ListVector, utf8Vector, writeParquetTable, float64Vector,
} from '../../pipelines/data/index.js';

let dir: string;
let n = 0;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'semid-import-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function run(options: Omit<ImportOptions, 'out'>) {
  const out = join(dir, `out${n++}`);
  const result = await importDataset({ quiet: true, ...options, out } as ImportOptions);
  return { ...result, ds: await readDataset(out) };
}

const seqOf = (ds: Awaited<ReturnType<typeof run>>['ds'], u: number) => [...ds.sequences.items[u]].map((i) => ds.items.keys[i]);

describe('text template', () => {
  test('fields, alternatives, lists, and dropped empty fields with their separator', () => {
    const t = compileTextTemplate('{title|title_words} | {brand} | {categories}');
    expect(t({ title_words: 'red  polish', brand: 'OPI', categories: ['Makeup', 'Nails'] }, 'k')).toBe('red polish | OPI | Makeup, Nails');
    expect(t({ title: 'X', categories: [] }, 'k')).toBe('X');
    expect(t({ brand: 'OPI' }, 'k')).toBe('OPI');
    expect(t({}, 'key-7')).toBe('key-7');
    expect(compileTextTemplate('Title: {title}. Price: {price}.')({ title: 'A', price: 9.5 }, 'k')).toBe('Title: A. Price: 9.5.');
    expect(compileTextTemplate('Item: {title}, by {brand}.')({ brand: 'B' }, 'k')).toBe('Item: B.');
    expect(() => compileTextTemplate('{title')).toThrow('"{" at position 0 is not closed');
    expect(() => compileTextTemplate('no fields')).toThrow('names no field');
    expect(() => compileTextTemplate('{ti tle}')).toThrow('bad field name');
  });
});

describe('parsers', () => {
  test('Python dict literals of the old Amazon dumps', () => {
    expect(parseJsonOrPython(`{'asin': 'B1', 'categories': [['Beauty', "Men's"]], 'price': 12.5, 'x': None, 'y': True, 't': (1, 2), 's': 'it\\'s \\xe9'}`))
      .toEqual({ asin: 'B1', categories: [['Beauty', "Men's"]], price: 12.5, x: null, y: true, t: [1, 2], s: "it's é" });
    expect(() => parseJsonOrPython("{'a': }")).toThrow(/unexpected "}" at column 7/);
  });
  test('CSV with quotes, escaped quotes, embedded newlines and CRLF', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n"multi\nline",2\n')).toEqual([
      { fields: ['a', 'b'], line: 1 }, { fields: ['x, y', 'say "hi"'], line: 2 }, { fields: ['multi\nline', '2'], line: 3 },
    ]);
    expect(() => parseCsv('a\n"open')).toThrow('unterminated quoted field starting on line 2');
  });
});

describe('importers', () => {
  test('s3rec with a JSONL items file: dense ids in numeric key order, text from the template', async () => {
    const sequences = await file('s.txt', '1 3 1 2\n2 10 3\n10 2 2 1\n');
    const items = await file('s.jsonl', [
      { id: 1, title_words: 'nail polish', brand: 'OPI', categories: ['Makeup', 'Nails'] },
      { id: 2, title_words: 'face cream', brand: 'Unknown', categories: ['Skin'] },
      { id: 3, title_words: 'shampoo' },
      { id: 10, title_words: 'brush', categories: [] },
    ].map((o) => JSON.stringify(o)).join('\n'));
    const { ds, manifest } = await run({ format: 's3rec', sequences, items });
    expect(manifest).toMatchObject({ users: 3, items: 4, interactions: 8 });
    expect(ds.items.keys).toEqual(['1', '2', '3', '10']);
    expect(ds.sequences.userKeys).toEqual(['1', '2', '10']);
    expect(seqOf(ds, 0)).toEqual(['3', '1', '2']);
    expect(ds.items.texts).toEqual(['nail polish | OPI | Makeup, Nails', 'face cream | Unknown | Skin', 'shampoo', 'brush']);
    expect(ds.items.categories[0]).toEqual(['Makeup', 'Nails']);
    expect(ds.sequences.timestamps).toBeNull();
  });

  test('s3rec without items: text is the key', async () => {
    const { ds } = await run({ format: 's3rec', sequences: await file('s2.txt', 'a x y\nb y\n') });
    expect(ds.items.texts).toEqual(['x', 'y']);
  });

  test('inter-json with an item JSON keyed by id and comma-separated categories', async () => {
    const interactions = await file('i.json', JSON.stringify({ 0: [0, 1, 2], 1: [2, 0] }));
    const items = await file('it.json', JSON.stringify({
      0: { title: 'Relay kit', description: 'long', brand: 'Supco', categories: 'Industrial & Scientific,Electrical,Relays' },
      1: { title: 'Staples', brand: '', categories: '' },
      2: { title: 'Gloves', brand: 'Ansell', categories: 'Safety' },
    }));
    const { ds, manifest } = await run({ format: 'inter-json', interactions, items, textTemplate: '{title} ({brand}): {description}' });
    expect(manifest).toMatchObject({ users: 2, items: 3, interactions: 5 });
    expect(ds.items.categories[0]).toEqual(['Industrial & Scientific', 'Electrical', 'Relays']);
    expect(ds.items.texts).toEqual(['Relay kit (Supco): long', 'Staples', 'Gloves (Ansell']);
    expect(seqOf(ds, 1)).toEqual(['2', '0']);
  });

  test('movielens ml-100k: u.data sorted by time (ties keep file order), Latin-1 u.item with genre flags', async () => {
    const ratings = await file('u.data', '1\t20\t5\t300\n1\t10\t3\t100\n2\t10\t4\t50\n1\t30\t1\t300\n');
    const flags = (on: number[]) => Array.from({ length: 19 }, (_, g) => (on.includes(g) ? '1' : '0')).join('|');
    const movie = (id: number, title: string, on: number[]) => `${id}|${title}|01-Jan-1995||http://x|${flags(on)}`;
    const movies = await file('u.item', Buffer.from(`${[movie(10, 'Toy Story (1995)', [3, 4]), movie(20, 'Café (1990)', [8]), movie(30, 'Heat (1995)', [1, 6])].join('\n')}\n`, 'latin1'));
    const { ds, manifest } = await run({ format: 'movielens', ratings, movies });
    expect(manifest).toMatchObject({ users: 2, items: 3, interactions: 4, timestamps: true });
    expect(seqOf(ds, 0)).toEqual(['10', '20', '30']);
    expect([...ds.sequences.timestamps![0]]).toEqual([100, 300, 300]);
    expect(ds.items.texts).toEqual(["Toy Story (1995) | Animation, Children's", 'Café (1990) | Drama', 'Heat (1995) | Action, Crime']);
    const filtered = await run({ format: 'movielens', ratings, movies, minRating: 3 });
    expect(filtered.manifest.interactions).toBe(3);
  });

  test('movielens ml-latest: ratings.csv + movies.csv with quoted titles', async () => {
    const ratings = await file('ratings.csv', 'userId,movieId,rating,timestamp\n1,2,4.0,20\n1,1,3.5,10\n');
    const movies = await file('movies.csv', 'movieId,title,genres\n1,"American President, The (1995)",Comedy|Drama|Romance\n2,Heat (1995),(no genres listed)\n');
    const { ds } = await run({ format: 'movielens', ratings, movies });
    expect(seqOf(ds, 0)).toEqual(['1', '2']);
    expect(ds.items.texts).toEqual(['American President, The (1995) | Comedy, Drama, Romance', 'Heat (1995)']);
  });

  test('amazon: gzipped JSON reviews, Python-literal meta, time order, 2-core', async () => {
    const review = (u: string, a: string, t: number) => JSON.stringify({ reviewerID: u, asin: a, overall: 5, unixReviewTime: t });
    const reviews = await file('reviews_Test.json.gz', gzipSync([
      review('U1', 'A', 3), review('U1', 'B', 1), review('U2', 'A', 5), review('U2', 'B', 6), review('U3', 'A', 1), review('U3', 'C', 2),
    ].join('\n')));
    const meta = await file('meta_Test.json', [
      "{'asin': 'A', 'title': 'Lipstick', 'brand': 'Acme', 'categories': [['Beauty', 'Makeup'], ['Sale']], 'related': {'also_bought': ['B']}}",
      "{'asin': 'B', 'title': 'Mascara', 'categories': [['Beauty', 'Makeup', 'Eyes']]}",
      "{'asin': 'C', 'title': 'Soap'}",
      "{'asin': 'Z', 'title': 'never reviewed'}",
    ].join('\n'));
    const { ds, manifest } = await run({ format: 'amazon', reviews, meta, minInteractions: 2 });
    // C has one review: removed; then U3 has one item: removed.
    expect(manifest).toMatchObject({ users: 2, items: 2, interactions: 4 });
    expect(manifest.source).toMatchObject({ kCore: { minInteractions: 2, removed: { users: 1, items: 1, interactions: 2 } } });
    expect(seqOf(ds, 0)).toEqual(['B', 'A']);
    expect(ds.items.texts).toEqual(['Lipstick | Acme | Beauty, Makeup', 'Mascara | Beauty, Makeup, Eyes']);
  });

  test('csv: interactions + items table with column flags, ISO dates, list separator', async () => {
    const interactions = await file('inter.csv', 'uid,sku,when\nbob,s2,2024-01-02T00:00:00Z\nbob,s1,2024-01-01T00:00:00Z\nann,s1,1704067200\n');
    const items = await file('items.csv', 'sku,name,cats\ns1,"Desk, oak",Home|Office\ns2,Lamp,Home\n');
    const { ds } = await run({
      format: 'csv', interactions, items, userColumn: 'uid', itemColumn: 'sku', timeColumn: 'when',
      categoriesColumn: 'cats', textTemplate: '{name} | {categories}',
    });
    expect(ds.sequences.userKeys).toEqual(['ann', 'bob']);
    expect(seqOf(ds, 1)).toEqual(['s1', 's2']);
    expect(ds.sequences.timestamps![1][0]).toBe(1704067200);
    expect(ds.items.texts).toEqual(['Desk, oak | Home, Office', 'Lamp | Home']);
  });

  test('parquet: interactions and items tables', async () => {
    const interactions = join(dir, 'inter.parquet');
    await writeParquetTable(interactions, makeTable({
      user_id: int32Vector([7, 7, 8]), item_id: int32Vector([2, 1, 1]), timestamp: float64Vector([20, 10, 5]),
    }));
    const items = join(dir, 'items.parquet');
    await writeParquetTable(items, makeTable({ item_id: int32Vector([1, 2]), title: utf8Vector(['one', 'two']), categories: utf8ListVector([['A', 'B'], []]) }));
    const { ds } = await run({ format: 'parquet', interactions, items });
    expect(seqOf(ds, 0)).toEqual(['1', '2']);
    expect(ds.items.texts).toEqual(['one | A, B', 'two']);
    expect(ds.items.categories).toEqual([['A', 'B'], []]);
  });

  test('--all-items keeps catalog items nobody interacted with', async () => {
    const sequences = await file('s3.txt', 'u 1 2\n');
    const items = await file('s3.jsonl', '{"id": 1}\n{"id": 2}\n{"id": 3, "title": "unseen"}\n');
    expect((await run({ format: 's3rec', sequences, items })).manifest.items).toBe(2);
    expect((await run({ format: 's3rec', sequences, items, allItems: true })).manifest.items).toBe(3);
  });

  test('k-core drops keys between others: ids renumbered densely in numeric order, ties in file order, --all-items', async () => {
    // Items 5 and 4 have one interaction each: removed; then user 7 has none left. Users 2 and 10 stay (2 before 10).
    const interactions = await file('renumber.csv', 'user,item,time\n10,5,3\n10,9,1\n10,3,1\n2,3,2\n2,9,2\n7,4,1\n');
    const { ds, manifest } = await run({ format: 'csv', interactions, minInteractions: 2 });
    expect(manifest).toMatchObject({ users: 2, items: 2, interactions: 4 });
    expect(manifest.source).toMatchObject({ kCore: { removed: { users: 1, items: 2, interactions: 2 } } });
    expect(ds.sequences.userKeys).toEqual(['2', '10']);
    expect(ds.items.keys).toEqual(['3', '9']);
    expect(ds.sequences.items.map((s) => [...s])).toEqual([[0, 1], [1, 0]]); // user 10: 9 and 3 tie at t=1, file order
    expect(ds.sequences.timestamps!.map((t) => [...t])).toEqual([[2, 2], [1, 1]]);
    const items = await file('renumber-items.csv', 'item,title\n3,three\n4,four\n5,five\n9,nine\n100,hundred\n');
    const all = await run({ format: 'csv', interactions, items, minInteractions: 2, allItems: true });
    expect(all.ds.items.keys).toEqual(['3', '4', '5', '9', '100']);
    expect(all.ds.sequences.items.map((s) => [...s])).toEqual([[0, 3], [3, 0]]);
  });

  test('k-core on a small exact case', async () => {
    const sequences = await file('kcore.txt', 'a x y z\nb x y\nc z\n');
    // c is too short; then z has one interaction left, so it goes from a too.
    const { ds, manifest } = await run({ format: 's3rec', sequences, minInteractions: 2 });
    expect(manifest.source).toMatchObject({ kCore: { before: { users: 3, interactions: 6 }, removed: { users: 1, items: 1, interactions: 2 } } });
    expect(ds.sequences.userKeys).toEqual(['a', 'b']);
    expect(seqOf(ds, 0)).toEqual(['x', 'y']);
  });
});

describe('bad input: a clear error, or a count with skipInvalid', () => {
  test('missing file', async () => {
    await expect(run({ format: 's3rec', sequences: join(dir, 'absent.txt') })).rejects.toThrow(/--sequences .*absent\.txt: file not found/);
    await expect(run({ format: 's3rec' })).rejects.toThrow('--sequences FILE is required for this format');
  });

  test('wrong format', async () => {
    const json = await file('w.json', '{"0": [1, 2]}');
    await expect(run({ format: 's3rec', sequences: json })).rejects.toThrow(/w\.json: looks like JSON.*use --format inter-json/);
    await expect(run({ format: 'inter-json', interactions: await file('w.txt', '1 2 3\n') })).rejects.toThrow(/w\.txt: not valid JSON/);
    await expect(run({ format: 'parquet', interactions: await file('w.csv', 'user,item\n1,2\n') })).rejects.toThrow(/w\.csv: not a Parquet file/);
    await expect(run({ format: 'inter-json', interactions: json, items: await file('w-items.txt', 'id title\n1 a\n') })).rejects.toThrow(/w-items\.txt: not an items file of JSON objects/);
    await expect(run({ format: 'movielens', ratings: await file('r.csv', 'user,item\n1,2\n') })).rejects.toThrow(/expected the ratings\.csv header userId,movieId,rating,timestamp/);
  });

  test('unparsable line', async () => {
    const ratings = await file('bad.data', '1\t10\t5\t100\n1\t11\tfive\t200\n2\t10\t4\n2\t11\t3\t50\n');
    await expect(run({ format: 'movielens', ratings })).rejects.toThrow(/bad\.data:2: rating and time must be numbers, got "five" and "200"/);
    const { manifest } = await run({ format: 'movielens', ratings, skipInvalid: true });
    expect(manifest.skipped).toEqual({ 'unparsable line': 2 });
    expect(manifest.interactions).toBe(2);
    const items = await file('bad.jsonl', '{"id": 1}\n{"id": 2,\n');
    const sequences = await file('ok.txt', 'u 1\n');
    await expect(run({ format: 's3rec', sequences, items })).rejects.toThrow(/bad\.jsonl:2: not JSON/);
  });

  test('unknown item id in a sequence', async () => {
    const sequences = await file('unk.txt', 'u1 1 2\nu2 1 99 2\n');
    const items = await file('unk.jsonl', '{"id": 1}\n{"id": 2}\n');
    await expect(run({ format: 's3rec', sequences, items })).rejects.toThrow(/unk\.txt:2 user "u2": item id "99" is not in the items file/);
    const { manifest } = await run({ format: 's3rec', sequences, items, skipInvalid: true });
    expect(manifest).toMatchObject({ skipped: { 'unknown item': 1 }, interactions: 4 });
  });

  test('empty history', async () => {
    const sequences = await file('empty.txt', 'u1 1 2\nu2\n');
    await expect(run({ format: 's3rec', sequences })).rejects.toThrow(/empty\.txt:2: user "u2" has an empty history/);
    expect((await run({ format: 's3rec', sequences, skipInvalid: true })).manifest).toMatchObject({ users: 1, skipped: { 'empty history': 1 } });
    const interactions = await file('empty.json', '{"a": [1], "b": []}');
    await expect(run({ format: 'inter-json', interactions })).rejects.toThrow(/empty\.json user "b": has an empty history/);
  });

  test('duplicate ids', async () => {
    const sequences = await file('dup.txt', 'u1 1 2\nu1 2\n');
    await expect(run({ format: 's3rec', sequences })).rejects.toThrow(/dup\.txt:2: duplicate user "u1"/);
    const items = await file('dup.jsonl', '{"id": 1, "title": "a"}\n{"id": 2}\n{"id": 1, "title": "b"}\n');
    const ok = await file('dup-ok.txt', 'u 1 2\n');
    await expect(run({ format: 's3rec', sequences: ok, items })).rejects.toThrow(/dup\.jsonl:3: duplicate item id "1"/);
    const { manifest, ds } = await run({ format: 's3rec', sequences: ok, items, skipInvalid: true });
    expect(manifest.skipped).toEqual({ 'duplicate item': 1 });
    expect(ds.items.texts[0]).toBe('a');
  });

  test('bad flags and values', async () => {
    const sequences = await file('f.txt', 'u 1\n');
    await expect(run({ format: 's3rec', sequences, textTemplate: '{oops' })).rejects.toThrow(/text template/);
    await expect(run({ format: 'csv', interactions: await file('c.csv', 'a,b\n1,2\n') })).rejects.toThrow(/none of the columns user_id, user.* is present; name one with --user-column/);
    await expect(run({ format: 'csv', interactions: await file('c2.csv', 'user,item\n1,2\n'), timeColumn: 'ts' })).rejects.toThrow(/no column "ts" \(--time-column\); columns: user, item/);
    await expect(run({ format: 'csv', interactions: await file('c3.csv', 'user,item,time\n1,2,yesterday\n') })).rejects.toThrow(/c3\.csv:2: time "yesterday" in column "time" is not a number or date/);
    await expect(run({ format: 's3rec', sequences, minInteractions: 3 })).rejects.toThrow(/no users left after 3-core filtering/);
  });
});

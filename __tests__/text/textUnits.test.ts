// pipelines/text without a model: the text encoder folds an item's own text in to exactly the embedder's row, splits
// polarity, saves and loads bit for bit; bad texts are refused with the input named; facets, preference templates and
// files; BM25 on a small exact case; typos and noisy queries.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateData, makeTable, utf8Vector, writeParquetTable } from '../../pipelines/data/index.js';
import { embedTexts, seededRandom } from '../../pipelines/embed/index.js';
import {
  Bm25Index, checkText, decodeUtf8, historyPreference, itemFacets, MAX_TEXT_WORDS, negativePreference, noisyQueries, polarityWords, readPreferences,
  steerPreference, TextEncoder, typo, userPreferences,
} from '../../pipelines/text/index.js';

const generated = generateData({ users: 60, items: 90, seed: 3 });
const dataset = { items: generated.items, sequences: generated.sequences, manifest: { source: {} } as never };
const facets = itemFacets(dataset);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'semid-text-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('text encoder', () => {
  const texts = generated.items.texts;
  const encoder = TextEncoder.fit(texts, { dim: 12, seed: 5 });

  it('folds an item text in to its TF-IDF + SVD embedding (the embedder with the same settings; equal up to the randomized SVD)', () => {
    const { matrix } = embedTexts(texts, { dim: 12, seed: 5, wordNgrams: [1, 1], charNgrams: [3, 5], minDf: 2, maxFeatures: 40_000 });
    expect(matrix.dim).toBe(encoder.dim);
    for (const i of [0, 7, 42, 89]) {
      const v = encoder.encode(texts[i]).vector;
      let dot = 0;
      for (let k = 0; k < encoder.dim; k++) dot += v[k] * matrix.data[i * matrix.dim + k];
      expect(dot).toBeGreaterThan(0.999); // both unit vectors: cosine
      expect(Math.hypot(...v.subarray(0, encoder.dim))).toBeCloseTo(1, 5);
      expect(Array.from(v.subarray(encoder.dim))).toEqual(new Array(encoder.dim).fill(0)); // no negation: empty negative half
    }
  });

  it('puts negated words in the second half: "no B" is B\'s positive half moved over', () => {
    const brand = facets.find((f) => f.brand)!.brand!;
    const pos = encoder.encode(brand).vector;
    const neg = encoder.encode(`no ${brand}`).vector;
    const d = encoder.dim;
    expect(Array.from(neg.subarray(0, d))).toEqual(new Array(d).fill(0));
    for (let k = 0; k < d; k++) expect(neg[d + k]).toBeCloseTo(pos[k], 6);
    expect(polarityWords("I like OPI, but not nail polish; don't want Essie")).toEqual({ positive: ['i', 'like', 'opi'], negative: ['nail', 'polish', 'want', 'essie'], truncated: false });
    const long = Array.from({ length: MAX_TEXT_WORDS + 5 }, () => 'mascara').join(' ');
    expect(encoder.encode(long).truncated).toBe(true);
  });

  it('saves and loads the same encoder; refuses a text it knows no word of, empty text and text that was not UTF-8', async () => {
    await encoder.save(dir);
    const back = await TextEncoder.load(dir);
    expect(back.fingerprint()).toBe(encoder.fingerprint());
    expect(back.encode(texts[3]).vector).toEqual(encoder.encode(texts[3]).vector);
    expect(() => encoder.encodeKnown('zzqx vvbn', 'the query')).toThrow(/the query "zzqx vvbn" has no word the model's text encoder knows/);
    expect(() => encoder.encode('   ', '--preference')).toThrow(/--preference is empty/);
    expect(() => checkText('caf\uFFFD', 'row 3 text')).toThrow(/row 3 text is not valid UTF-8: it holds U\+FFFD/);
    expect(() => checkText('a\uD800b', 'q')).toThrow(/q is not valid Unicode: a lone surrogate at character 1/);
    expect(() => decodeUtf8(Uint8Array.from([0x61, 0xff, 0x62]), 'queries.txt')).toThrow(/queries.txt is not valid UTF-8 text/);
    await expect(TextEncoder.load(join(dir, 'nowhere'))).rejects.toThrow(/has no text encoder .*train with --text-tokens/);
  });
});

describe('facets and preferences', () => {
  it('reads title, brand and categories back from the default template', () => {
    const f = facets[0];
    expect(generated.items.texts[0]).toBe(`${f.title} | ${f.brand} | ${f.categories.join(', ')}`);
    expect(f.leaf).toBe(f.categories[f.categories.length - 1]);
    expect(f.titleWords.length).toBeGreaterThan(0);
    const other = itemFacets({ items: { keys: ['a', 'b'], texts: ['Red lipstick | Makeup', 'x | Unknown | Makeup'], categories: [['Makeup'], ['Makeup']] }, manifest: { source: {} } as never });
    expect(other.map((o) => [o.title, o.brand])).toEqual([['Red lipstick', null], ['x', null]]);
  });

  it('makes the documented templates', () => {
    const f = { title: 'Matte red lipstick', brand: 'OPI', categories: ['Makeup', 'Lips'], leaf: 'Lips', titleWords: ['matte', 'red', 'lipstick'] };
    const g = { ...f, brand: 'Essie', leaf: 'Nails' };
    expect(historyPreference([f, g], [0, 1, 1])).toBe("I like Essie and OPI; I'm into Nails and Lips");
    expect(steerPreference(f, 'brand-category')).toBe('looking for OPI Lips');
    expect(steerPreference(f, 'brand')).toBe('something from OPI');
    expect(steerPreference({ ...f, brand: null }, 'brand')).toBe('I want Lips');
    expect(steerPreference(f, 'title', () => 0)).toBe("I'd like matte red Lips");
    expect(negativePreference({ brand: 'OPI' })).toBe('no OPI');
    expect(negativePreference({ category: 'Lips' })).toBe('not Lips');
    const prefs = userPreferences(dataset, facets);
    const u = 4;
    const seq = generated.sequences.items[u];
    expect(prefs[u]).toBe(historyPreference(facets, seq.subarray(0, seq.length - 1))); // never the test target's
  });

  it('reads a preference file; unknown users, duplicates, empty and undecodable texts are errors naming row and value', async () => {
    const keys = generated.sequences.userKeys;
    const path = join(dir, 'prefs.parquet');
    await writeParquetTable(path, makeTable({ user_key: utf8Vector([keys[2], keys[5]]), text: utf8Vector(['no OPI', 'nail polish']) }));
    expect([...(await readPreferences(path, keys)).entries()]).toEqual([[2, 'no OPI'], [5, 'nail polish']]);
    await writeParquetTable(path, makeTable({ user_key: utf8Vector([keys[2], 'ghost-1', 'ghost-2']), text: utf8Vector(['a', 'b', 'c']) }));
    await expect(readPreferences(path, keys)).rejects.toThrow(/2 of 3 user keys are not users of the data set \(e.g. "ghost-1", "ghost-2"\)/);
    await writeParquetTable(path, makeTable({ user_key: utf8Vector([keys[2], keys[2]]), text: utf8Vector(['a', 'b']) }));
    await expect(readPreferences(path, keys)).rejects.toThrow(new RegExp(`user "${keys[2]}" has more than one preference \\(row 1\\)`));
    await writeParquetTable(path, makeTable({ user_key: utf8Vector([keys[1]]), text: utf8Vector([' ']) }));
    await expect(readPreferences(path, keys)).rejects.toThrow(/row 0 .* text is empty/);
    await writeParquetTable(path, makeTable({ user_key: utf8Vector([keys[1]]), text: utf8Vector(['bad \uFFFD']) }));
    await expect(readPreferences(path, keys)).rejects.toThrow(/row 0 .* text is not valid UTF-8/);
    await writeParquetTable(path, makeTable({ user_key: utf8Vector([keys[1]]) }));
    await expect(readPreferences(path, keys)).rejects.toThrow(/no column "text"/);
  });
});

describe('BM25 and queries', () => {
  it('scores a small case exactly', () => {
    const index = new Bm25Index(['red red lipstick', 'blue lipstick', 'red nail polish']);
    // avgdl 8/3; "red": df 2, idf ln(1 + 1.5/2.5); doc 0: tf 2, |d| 3
    const idfRed = Math.log(1 + 1.5 / 2.5);
    const s = index.scores('red');
    expect(s[0]).toBeCloseTo((idfRed * 2 * 2.2) / (2 + 1.2 * (1 - 0.75 + (0.75 * 3) / (8 / 3))), 10);
    expect(s[1]).toBe(0);
    expect(index.search('red lipstick', 3).map((h) => h.item)).toEqual([0, 1, 2]); // equal idf: the shorter doc 1 wins over doc 2
    expect(index.search('zzz', 3)).toEqual([]);
  });

  it('a typo is one edit; noisy queries are seeded, 3 title words with one typo', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 50; i++) {
      const t = typo('mascara', random);
      expect(t).not.toBe('mascara');
      expect(Math.abs(t.length - 7)).toBeLessThanOrEqual(1);
    }
    const a = noisyQueries(facets, 20, 9);
    expect(noisyQueries(facets, 20, 9)).toEqual(a);
    expect(a.length).toBe(20);
    for (const q of a) {
      const words = q.query.split(' ');
      expect(words.length).toBe(Math.min(3, facets[q.item].titleWords.length));
      expect(words.filter((w) => !facets[q.item].titleWords.includes(w)).length).toBeLessThanOrEqual(1);
    }
  });
});

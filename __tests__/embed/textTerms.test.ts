// The built-in tokenizer and the TF-IDF matrix on small exact cases.
import { ngramTerms, normalizeText, resolveNgramTokenizer, splitWords } from '../../pipelines/embed/textTerms.js';
import { tfidfMatrix } from '../../pipelines/embed/tfidf.js';
import { checkCsr } from '../../pipelines/embed/sparse.js';

describe('n-gram tokenizer', () => {
  it('normalises: NFKC, HTML tags and entities, lower case', () => {
    expect(normalizeText('<b>Ｃａｆé</b>&amp;Crème&nbsp;Brûlée')).toBe(' café &crème brûlée');
    expect(splitWords('  red-blue, 2x  ')).toEqual(['red', 'blue', '2x']);
  });

  it('gives word n-grams and character n-grams within word boundaries', () => {
    const terms = ngramTerms({ wordNgrams: [1, 2], charNgrams: [3, 4] })('Nail Polish');
    expect(terms.filter((t) => t.startsWith('w:'))).toEqual(['w:nail', 'w:polish', 'w:nail polish']);
    const chars = terms.filter((t) => t.startsWith('c:'));
    expect(chars.slice(0, 7)).toEqual(['c: na', 'c:nai', 'c:ail', 'c:il ', 'c: nai', 'c:nail', 'c:ail ']);
    expect(chars).toHaveLength(7 + 11); // " nail " -> 4 + 3; " polish " -> 6 + 5
  });

  it('counts a word shorter than the smallest n-gram once, whole', () => {
    expect(ngramTerms({ wordNgrams: [1, 1], charNgrams: [4, 5] })('a')).toEqual(['w:a', 'c: a ']);
    expect(ngramTerms({ wordNgrams: [1, 1], charNgrams: null })('A b')).toEqual(['w:a', 'w:b']);
  });

  it('validates ranges, naming the field', () => {
    expect(() => resolveNgramTokenizer({ charNgrams: [5, 3] })).toThrow('`charNgrams` must be two integers [min, max] with 1 <= min <= max, got [5, 3]');
  });
});

describe('tfidfMatrix', () => {
  const docs = [
    ['w:a', 'w:a', 'w:b'],
    ['w:a', 'w:c'],
    ['w:b', 'w:c', 'w:d'],
  ];

  it('weights by sublinear tf and smoothed idf, rows unit length', () => {
    const r = tfidfMatrix(docs, { minDf: 1 });
    checkCsr(r.matrix);
    expect(r.vocabulary).toEqual(['w:a', 'w:b', 'w:c', 'w:d']);
    const idf = (df: number) => Math.log(4 / (1 + df)) + 1;
    expect(Array.from(r.idf)).toEqual([idf(2), idf(2), idf(2), idf(1)].map((v) => expect.closeTo(v, 12)));
    // Row 0: a twice (1 + ln 2), b once.
    const a0 = (1 + Math.log(2)) * idf(2), b0 = idf(2);
    const norm = Math.hypot(a0, b0);
    expect(Array.from(r.matrix.indices.subarray(0, 2))).toEqual([0, 1]);
    expect(r.matrix.values[0]).toBeCloseTo(a0 / norm, 12);
    expect(r.matrix.values[1]).toBeCloseTo(b0 / norm, 12);
    for (let i = 0; i < 3; i++) {
      let sq = 0;
      for (let p = r.matrix.indptr[i]; p < r.matrix.indptr[i + 1]; p++) sq += r.matrix.values[p] ** 2;
      expect(sq).toBeCloseTo(1, 12);
    }
  });

  it('prunes by minDf and maxFeatures, and reports rows left empty', () => {
    const r = tfidfMatrix([...docs, ['w:zzz']], { minDf: 2 });
    expect(r.vocabulary).toEqual(['w:a', 'w:b', 'w:c']);
    expect(r.termsSeen).toBe(5);
    expect(r.emptyRows).toEqual([3]);
    const top = tfidfMatrix([['w:x', 'w:y'], ['w:y', 'w:z'], ['w:y', 'w:z']], { minDf: 1, maxFeatures: 2 });
    expect(top.vocabulary).toEqual(['w:y', 'w:z']);
  });

  it('gives each term family an equal share of the row norm', () => {
    const r = tfidfMatrix([['w:a', 'c:x', 'c:y', 'c:z'], ['w:a', 'c:x', 'c:y', 'c:z']], { minDf: 1 });
    const families = { w: 0, c: 0 };
    for (let p = 0; p < 4; p++) families[r.vocabulary[r.matrix.indices[p]][0] as 'w' | 'c'] += r.matrix.values[p] ** 2;
    expect(families.w).toBeCloseTo(0.5, 12);
    expect(families.c).toBeCloseTo(0.5, 12);
    const weighted = tfidfMatrix([['w:a', 'c:x'], ['w:a', 'c:x']], { minDf: 1, familyWeights: { w: 3, c: 1 } });
    expect(weighted.matrix.values[0] ** 2).toBeCloseTo(0.75, 12);
  });

  it('rejects bad settings', () => {
    expect(() => tfidfMatrix(docs, { minDf: 0 })).toThrow('`minDf` must be an integer >= 1, got 0');
    expect(() => tfidfMatrix(docs, { maxDfRatio: 2 })).toThrow('`maxDfRatio` must be in (0, 1], got 2');
  });
});

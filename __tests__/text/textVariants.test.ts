// Issue 17's later parts: the token variant (SentencePiece pieces as context tokens: encoder, layout, a model that
// trains, saves, loads and searches; skipped with a message where spm_train is not installed) and the demo's text
// part (the steering target is new to the user; the printed forms).
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { PrefixTrie } from '../../decoding/index.js';
import { generateData } from '../../pipelines/data/index.js';
import { findSpmTrain } from '../../pipelines/embed/index.js';
import { formatSearch, formatSteered, pickSteering, titleQuery } from '../../pipelines/demoText.js';
import { recommendBatch } from '../../pipelines/evaluate/index.js';
import { searchQueries } from '../../pipelines/search.js';
import { itemFacets, loadTextEncoder, PieceTextEncoder, pieceTrainingTexts } from '../../pipelines/text/index.js';
import { trainModel } from '../../pipelines/train.js';
import { openTrainedModel } from '../../pipelines/trainedModel.js';
import { Batcher, initBackend, resolveModelConfig, Vocab } from '../../seq2seq/index.js';
import { textMarker } from '../../seq2seq/textContext.js';
import { tinyCatalog } from '../seq2seq/helpers.js';
import { tokenizedData, type TokenizedData } from '../pipelines/tokenizedData.js';

const SPM_MISSING = 'spm_train is not installed (Debian/Ubuntu: apt-get install sentencepiece)';
const spmTrain = await findSpmTrain();
if (!spmTrain) console.warn(`skipped: ${SPM_MISSING}`);
function itWithSpm(name: string, fn: () => Promise<unknown>, timeout?: number): void {
  if (spmTrain) it(name, fn, timeout);
  else it.skip(`${name} (skipped: ${SPM_MISSING})`, fn);
}

const generated = generateData({ users: 60, items: 90, seed: 3 });
const dataset = { items: generated.items, sequences: generated.sequences, manifest: { source: {} } as never };
const facets = itemFacets(dataset);

beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('token variant: layout', () => {
  const cat = tinyCatalog();

  it('config: pieces need textDim = textTokens and a piece table', () => {
    expect(() => resolveModelConfig({ textTokens: 4, textDim: 6, textVariant: 'pieces', textVocab: 50 })).toThrow(/`textDim` must equal textTokens \(4\) with textVariant "pieces".*got 6/);
    expect(() => resolveModelConfig({ textTokens: 4, textDim: 4, textVariant: 'pieces', textVocab: 0 })).toThrow(/`textVocab` must be an integer >= 2 with textVariant "pieces".*got 0/);
    expect(() => resolveModelConfig({ textTokens: 4, textDim: 4, textVariant: 'words' as never })).toThrow(/`textVariant` must be one of embedding, pieces, got "words"/);
    expect(resolveModelConfig({}).textVariant).toBe('embedding');
  });

  it('without spm_train, the token variant says how to install it', async () => {
    const saved = process.env.SEMID_SPM_TRAIN;
    process.env.SEMID_SPM_TRAIN = '/nonexistent/spm_train';
    try {
      await expect(PieceTextEncoder.fit(['a b c'], { pieces: 4 })).rejects.toThrow(/the token variant \(--text-variant pieces\) needs the spm_train program, which is not installed: .*apt-get install sentencepiece/);
    } finally {
      if (saved === undefined) delete process.env.SEMID_SPM_TRAIN;
      else process.env.SEMID_SPM_TRAIN = saved;
    }
  });

  it('a piece id 0 leaves its position masked; ids outside the table are refused with the row named', () => {
    const vocab = new Vocab({ levels: cat.levels, userBuckets: 4 });
    const b = new Batcher(vocab, cat, 3, 'item', 4, 4, 20);
    const ctx = b.contexts([{ user: 3, history: Int32Array.from([1]), text: Float32Array.from([5, 7, 0, 0]) }]);
    expect(Array.from(ctx.srcMask.subarray(0, 4))).toEqual([1, 1, 0, 0]);
    expect(ctx.src[0]).toBe(textMarker(0));
    expect(ctx.src[ctx.slots]).toBe(textMarker(1));
    expect(() => b.contexts([{ user: 3, history: Int32Array.from([1]), text: Float32Array.from([5, 20, 0, 0]) }]))
      .toThrow(/context of user 3: text piece 1 is 20, the model's piece table has ids 0\.\.19/);
    expect(() => b.contexts([{ user: 3, history: Int32Array.from([1]), text: Float32Array.from([1.5, 0, 0, 0]) }])).toThrow(/text piece 0 is 1\.5/);
  });
});

describe('token variant: SentencePiece encoder', () => {
  let encoder: PieceTextEncoder;
  beforeAll(async () => {
    if (spmTrain) encoder = await PieceTextEncoder.fit(pieceTrainingTexts(facets, generated.items.texts), { pieces: 12, vocabSize: 300, seed: 1 });
  }, 60_000);

  itWithSpm('encodes a text to piece ids in order (word order kept: "no X" differs from "X"), padding with 0, and flags truncation', async () => {
    const brand = facets.find((f) => f.brand)!.brand!;
    const plain = encoder.encode(brand);
    const negated = encoder.encode(`no ${brand}`);
    expect(plain.knownTerms).toBeGreaterThan(0);
    expect(Array.from(negated.vector)).not.toEqual(Array.from(plain.vector));
    expect(Array.from(negated.vector.subarray(negated.knownTerms + 1))).toEqual(new Array(12 - negated.knownTerms - 1).fill(0));
    for (const v of negated.vector) expect(Number.isInteger(v) && v >= 0 && v < encoder.tableRows).toBe(true);
    expect(plain.truncated).toBe(false);
    expect(encoder.encode(generated.items.texts.slice(0, 6).join(' ')).truncated).toBe(true);
    expect(() => encoder.encode('', 'the query')).toThrow(/the query is empty/);
    expect(() => encoder.encodeKnown('§§§ ¤¤', 'the query')).toThrow(/the query "§§§ ¤¤" has no piece the model's SentencePiece model knows/);
  });

  itWithSpm('saves and loads (through loadTextEncoder) to the same ids and fingerprint', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'semid-pieces-'));
    try {
      await encoder.save(dir);
      const back = await loadTextEncoder(dir);
      expect(back.kind).toBe('pieces');
      expect(back.fingerprint()).toBe(encoder.fingerprint());
      for (const t of ['I like OPI; not Nail Polish', generated.items.texts[5]]) expect(Array.from(back.encode(t).vector)).toEqual(Array.from(encoder.encode(t).vector));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('token variant: a model', () => {
  let fixture: TokenizedData | undefined;
  afterAll(async () => {
    await fixture?.remove();
  });

  itWithSpm('trains with --text-variant pieces, records the variant, loads its encoder, and searches the catalog without leaking tensors', async () => {
    fixture = await tokenizedData('pieces model', 5);
    const out = join(fixture.dir, 'model');
    await trainModel({
      data: fixture.data, tokenizer: fixture.tokenizer, out, preset: 'tiny', indexItems: true, validUsers: 0, silent: true, textPieceVocab: 200,
      overrides: { textTokens: 8, textVariant: 'pieces', steps: 30, batchSize: 32, evalEvery: 0, checkpointEvery: 30 },
    });
    const opened = await openTrainedModel({ data: fixture.data, tokenizer: fixture.tokenizer, model: out, command: 'test', quiet: true });
    try {
      expect(opened.model.config.textVariant).toBe('pieces');
      expect(opened.textEncoder?.kind).toBe('pieces');
      expect(opened.model.config.textDim).toBe(8);
      const before = tf.memory().numTensors;
      const [r] = await searchQueries([opened.dataset.items.texts[3]], {
        scorer: opened.ranker, trie: PrefixTrie.build(opened.itemCodes), encoder: opened.textEncoder!, itemKeys: opened.dataset.items.keys, itemTexts: opened.dataset.items.texts, topK: 5,
      });
      expect(r.hits).toHaveLength(5);
      for (const h of r.hits) expect(h.item).toBeLessThan(opened.dataset.items.keys.length);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      opened.model.dispose();
    }
  }, 300_000);
});

describe('a text part on a frozen model (--init PLAIN --text-tokens K --train-only text)', () => {
  let fixture: TokenizedData | undefined;
  afterAll(async () => {
    await fixture?.remove();
  });

  it('keeps every weight of the plain model bit for bit, so without a text it recommends the plain model\'s items (scores to 1e-5); a text changes them', async () => {
    fixture = await tokenizedData('frozen text', 7);
    const plain = join(fixture.dir, 'plain');
    const text = join(fixture.dir, 'text');
    const common = { data: fixture.data, tokenizer: fixture.tokenizer, preset: 'tiny', validUsers: 0, silent: true };
    await trainModel({ ...common, out: plain, overrides: { steps: 20, batchSize: 32, evalEvery: 0, checkpointEvery: 20 } });
    await expect(trainModel({ ...common, out: join(fixture.dir, 'bad'), init: plain, overrides: { trainOnly: 'text', steps: 2 } }))
      .rejects.toThrow(/--train-only text trains the text weights, but the model reads no text: give --text-tokens/);
    await trainModel({ ...common, out: text, init: plain, indexItems: true, overrides: { textTokens: 2, trainOnly: 'text', steps: 20, batchSize: 32, evalEvery: 0, checkpointEvery: 20 } });
    const a = await openTrainedModel({ data: fixture.data, tokenizer: fixture.tokenizer, model: plain, command: 'test', quiet: true });
    const b = await openTrainedModel({ data: fixture.data, tokenizer: fixture.tokenizer, model: text, command: 'test', quiet: true });
    try {
      expect(b.model.config.textTokens).toBe(2);
      for (const [name, w] of a.model.params.vars) expect(Array.from(b.model.params.get(name).dataSync())).toEqual(Array.from(w.dataSync()));
      const trie = PrefixTrie.build(a.itemCodes);
      const users = Array.from({ length: 12 }, (_, u) => ({ user: u, history: a.dataset.sequences.items[u].slice(0, -2) }));
      const rank = async (m: typeof a) => (await recommendBatch({ scorer: m.ranker, trie, topK: 5, beamSize: 10 }, users.map((x) => ({ ...x, text: null })))).candidates;
      // The same items in the same order; scores equal up to float rounding (the masked text positions still widen
      // the attention's rows, which changes the summation order).
      const [withText, without] = [await rank(b), await rank(a)];
      expect(withText.map((r) => r.map((c) => c.item))).toEqual(without.map((r) => r.map((c) => c.item)));
      withText.forEach((r, u) => r.forEach((c, k) => expect(c.score).toBeCloseTo(without[u][k].score, 5)));
      // With a text the frozen model answers differently: the text weights reach it.
      const steered = (await recommendBatch({ scorer: b.ranker, trie, topK: 5, beamSize: 10 }, users.map((x) => ({ ...x, text: b.textEncoder!.encode(a.dataset.items.texts[0]).vector })))).candidates;
      expect(steered).not.toEqual(await rank(b));
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  }, 300_000);
});

describe('demo text part', () => {
  const popularity = new Float64Array(facets.length);
  for (const items of generated.sequences.items) for (const i of items) popularity[i] += 1;

  it('steers each user toward an item whose top category and brand the user never bought, or else a new category', () => {
    let checked = 0;
    generated.sequences.items.forEach((history) => {
      const s = pickSteering(facets, popularity, history);
      if (!s) return;
      const f = facets[s.item];
      const bought = Array.from(history, (i) => facets[i]);
      const freshTop = !bought.some((b) => b.categories[0] === f.categories[0]) && !bought.some((b) => b.brand === f.brand);
      expect(freshTop || !bought.some((b) => b.leaf === f.leaf)).toBe(true);
      expect(s.preference).toBe(`looking for ${f.brand} ${f.leaf}`);
      checked++;
    });
    expect(checked).toBeGreaterThan(50);
  });

  it('prints the steered list after "with the preference \'TEXT\':" beside the plain one, and a search with item texts', () => {
    const text = formatSteered({ user: 'u1', history: ['a'], preference: 'looking for X Y', plain: ['p1', 'p2'], steered: ['s1', 's2'], plainMatches: 0, steeredMatches: 2 });
    expect(text).toMatch(/recommended without a preference \(0 of 2 match it\):\n {4} 1\. p1\n {4} 2\. p2\n {2}with the preference 'looking for X Y' \(2 of 2 match it\):\n {4} 1\. s1/);
    expect(titleQuery(facets[0])).toBe(facets[0].titleWords.slice(0, 3).join(' '));
    const search = formatSearch({ query: 'red lipstick', truncated: false, hits: [{ rank: 1, item: 0, itemKey: 'k', score: -1, text: 'Red lipstick | B | C' }] });
    expect(search).toBe("query 'red lipstick':\n   1. Red lipstick | B | C\n");
  });
});

// Item text -> terms (the features TF-IDF counts). Two tokenizers:
//
// - The built-in word + character n-gram tokenizer (no model file needed):
//     1. normalise: Unicode NFKC, HTML tags and the common entities removed, lower case;
//     2. words: maximal runs of letters and digits (Unicode \p{L}\p{N}); everything else separates;
//     3. word n-grams: every run of `wordNgrams[0]..wordNgrams[1]` adjacent words, as `w:<words joined by " ">`;
//     4. character n-grams inside word boundaries (scikit-learn's "char_wb"): each word padded with one
//        space either side, every substring of `charNgrams[0]..charNgrams[1]` characters, as `c:<chars>`;
//        a padded word shorter than the smallest n counts once as a whole.
//   Character n-grams make "moisturizer" and "moisturizing" similar, and survive typos and model numbers.
// - SentencePiece (`--spm-model FILE`): the normalised text is split into the model's pieces, as `p:<piece>`.
//
// The first character of a term names its family (`w`, `c`, `p`): TF-IDF weights each family's block
// separately, so thousands of character n-grams do not drown the few words (see tfidf.ts).

export interface NgramTokenizerConfig {
  /** Smallest and largest word n-gram (default [1, 2]: words and adjacent word pairs). */
  wordNgrams: [number, number];
  /** Smallest and largest character n-gram inside word boundaries, or null for none (default [3, 5]). */
  charNgrams: [number, number] | null;
}

export const DEFAULT_NGRAM_TOKENIZER: NgramTokenizerConfig = { wordNgrams: [1, 2], charNgrams: [3, 5] };

/** Splits a text into terms. */
export type TermExtractor = (text: string) => string[];

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

/** NFKC, HTML tags and entities removed, lower case: the text every tokenizer sees. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/<\/?[a-zA-Z][^<>]{0,200}>/g, ' ')
    .replace(/&(amp|lt|gt|quot|apos|nbsp|#39);/g, (_, name: string) => ENTITIES[name])
    .toLowerCase();
}

const WORD = /[\p{L}\p{N}]+/gu;

/** The words of a normalised text: maximal runs of letters and digits. */
export function splitWords(normalized: string): string[] {
  return normalized.match(WORD) ?? [];
}

function checkRange(range: [number, number] | null, name: string): void {
  if (range === null) return;
  const [lo, hi] = range;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) {
    throw new Error(`\`${name}\` must be two integers [min, max] with 1 <= min <= max, got [${range.join(', ')}]`);
  }
}

/** Validates an n-gram tokenizer config (partial configs take the defaults). */
export function resolveNgramTokenizer(partial: Partial<NgramTokenizerConfig> = {}): NgramTokenizerConfig {
  const config = { ...DEFAULT_NGRAM_TOKENIZER, ...partial };
  checkRange(config.wordNgrams, 'wordNgrams');
  checkRange(config.charNgrams, 'charNgrams');
  return config;
}

/** The built-in tokenizer: word n-grams plus character n-grams within word boundaries. */
export function ngramTerms(config: NgramTokenizerConfig = DEFAULT_NGRAM_TOKENIZER): TermExtractor {
  const [wordLo, wordHi] = config.wordNgrams;
  return (text) => {
    const words = splitWords(normalizeText(text));
    const terms: string[] = [];
    for (let n = wordLo; n <= wordHi; n++) {
      for (let i = 0; i + n <= words.length; i++) {
        terms.push(`w:${n === 1 ? words[i] : words.slice(i, i + n).join(' ')}`);
      }
    }
    if (config.charNgrams) {
      const [charLo, charHi] = config.charNgrams;
      for (const word of words) {
        const padded = ` ${word} `;
        if (padded.length < charLo) {
          terms.push(`c:${padded}`);
          continue;
        }
        for (let n = charLo; n <= charHi && n <= padded.length; n++) {
          for (let i = 0; i + n <= padded.length; i++) terms.push(`c:${padded.slice(i, i + n)}`);
        }
      }
    }
    return terms;
  };
}

// What a user's text (a preference, a search query) must be before it reaches the model: a non-empty string of valid
// Unicode. Text read from a file as UTF-8 turns undecodable bytes into U+FFFD, so U+FFFD (or a lone surrogate, which
// a JS string can hold but UTF-8 cannot) means the input was not UTF-8: an error, never a silently different text.
// Length: a text becomes ONE vector whatever its length (textEncoder.ts), so it never overflows the model's context;
// words after the first MAX_TEXT_WORDS are ignored (documented truncation; the callers report it).

/** Words of a text the encoder reads; the rest is ignored (and reported as truncated). */
export const MAX_TEXT_WORDS = 256;

/** Throws naming `what` and the value when `text` is not a usable text. */
export function checkText(text: unknown, what: string): string {
  if (typeof text !== 'string') throw new Error(`${what} must be a text, got ${text === null ? 'null' : typeof text}`);
  if (text.trim().length === 0) throw new Error(`${what} is empty: give a few words (e.g. "no OPI" or "nail polish")`);
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) throw new Error(`${what} is not valid UTF-8: it holds U+FFFD (an undecodable byte) at character ${bad}: ${JSON.stringify(excerpt(text, bad))}`);
  const lone = loneSurrogate(text);
  if (lone >= 0) throw new Error(`${what} is not valid Unicode: a lone surrogate at character ${lone}: ${JSON.stringify(excerpt(text, lone))}`);
  return text;
}

function excerpt(text: string, at: number): string {
  return text.slice(Math.max(0, at - 20), at + 20);
}

/** Index of the first unpaired UTF-16 surrogate, or -1. */
function loneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/** Decodes bytes as strict UTF-8 (a file's preference or query text), naming the source when they are not. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${what} is not valid UTF-8 text`);
  }
}

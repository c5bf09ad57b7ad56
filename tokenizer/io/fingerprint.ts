// Content fingerprints: a short hash of what an output is made of, to tell whether a model, a data set and a
// tokenizer belong together.
import { createHash } from 'node:crypto';

/** sha256 (first 16 hex digits) of the parts, each length-prefixed so that ["ab", "c"] differs from ["a", "bc"]. */
export function fingerprint(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    hash.update(`${bytes.byteLength}:`);
    hash.update(bytes);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Full sha256 of a file's bytes (shard checksums). */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

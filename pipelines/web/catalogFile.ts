// `catalog.bin`: the item code table and the catalog trie of an exported model, in one little-endian binary
// file that a browser reads with one fetch (no node: imports here: the browser build uses the reader).
//
//   "SMDC" | u32 version | u32 L | u32 items | u32 levels[L]
//   sections: codes [items * L], childStart[0..L-1], childCode[0..L-1], leafItemStart, leafItems
//   each section: u32 width (1, 2 or 4 bytes per value) | u32 count | count * width bytes, padded to 4 bytes
//
// Every array is stored at the narrowest unsigned width that holds its largest value, so codes of levels up
// to 256 cost one byte each. The trie is stored (not rebuilt from the codes) so a large catalog opens
// without the build's sort.
import { PrefixTrie, type TrieParts } from '../../decoding/index.js';

export const CATALOG_MAGIC = 'SMDC';
export const CATALOG_VERSION = 1;

/** What catalog.bin holds: the semantic IDs (`codes[i * L + l]`) and the trie over them. */
export interface Catalog {
  levels: number[];
  codes: Int32Array;
  trie: PrefixTrie;
}

function widthFor(values: Int32Array): 1 | 2 | 4 {
  let max = 0;
  for (const v of values) {
    if (v < 0) throw new Error(`catalog.bin stores non-negative integers, got ${v}`);
    if (v > max) max = v;
  }
  return max < 2 ** 8 ? 1 : max < 2 ** 16 ? 2 : 4;
}

/** Encodes the codes and the trie built over them. */
export function encodeCatalog(catalog: Catalog): Uint8Array {
  const { levels, codes, trie } = catalog;
  const parts = trie.parts();
  const sections = [codes, ...parts.childStart, ...parts.childCode, parts.leafItemStart, parts.leafItems];
  const header = 16 + 4 * levels.length;
  let size = header;
  const widths = sections.map(widthFor);
  sections.forEach((s, i) => { size += 8 + Math.ceil((s.length * widths[i]) / 4) * 4; });
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = CATALOG_MAGIC.charCodeAt(i);
  view.setUint32(4, CATALOG_VERSION, true);
  view.setUint32(8, levels.length, true);
  view.setUint32(12, trie.items, true);
  levels.forEach((n, l) => view.setUint32(16 + 4 * l, n, true));
  let at = header;
  sections.forEach((s, i) => {
    const width = widths[i];
    view.setUint32(at, width, true);
    view.setUint32(at + 4, s.length, true);
    at += 8;
    const out = width === 1 ? new Uint8Array(bytes.buffer, at, s.length) : width === 2 ? new Uint16Array(s.length) : new Uint32Array(s.length);
    out.set(s);
    if (width !== 1) bytes.set(new Uint8Array(out.buffer), at);
    at += Math.ceil((s.length * width) / 4) * 4;
  });
  return bytes;
}

/** Decodes catalog.bin; `where` names the file in errors. Checks the trie's structure and the codes' range. */
export function decodeCatalog(bytes: Uint8Array, where = 'catalog.bin'): Catalog {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (detail: string): Error => new Error(`${where}: ${detail}`);
  if (bytes.length < 16 || String.fromCharCode(...bytes.subarray(0, 4)) !== CATALOG_MAGIC) throw fail('not a semid catalog file (no SMDC header)');
  const version = view.getUint32(4, true);
  if (version > CATALOG_VERSION) throw fail(`catalog format version ${version} is newer than this semid (${CATALOG_VERSION})`);
  const L = view.getUint32(8, true);
  const items = view.getUint32(12, true);
  if (L < 1 || 16 + 4 * L > bytes.length) throw fail(`bad semantic-ID length ${L}`);
  const levels = Array.from({ length: L }, (_, l) => view.getUint32(16 + 4 * l, true));
  let at = 16 + 4 * L;
  const next = (name: string): Int32Array => {
    if (at + 8 > bytes.length) throw fail(`ends before section ${name}`);
    const width = view.getUint32(at, true);
    const count = view.getUint32(at + 4, true);
    at += 8;
    if (width !== 1 && width !== 2 && width !== 4) throw fail(`section ${name} has value width ${width}`);
    const end = at + count * width;
    if (end > bytes.length) throw fail(`section ${name} needs ${count * width} bytes, ${bytes.length - at} are left`);
    const slice = bytes.slice(at, end); // a copy: aligned for the wider views
    const values = width === 1 ? slice : width === 2 ? new Uint16Array(slice.buffer) : new Uint32Array(slice.buffer);
    at += Math.ceil((count * width) / 4) * 4;
    return Int32Array.from(values);
  };
  const codes = next('codes');
  if (codes.length !== items * L) throw fail(`has ${codes.length} codes, expected items (${items}) x levels (${L})`);
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] >= levels[i % L]) throw fail(`item ${Math.floor(i / L)} has code ${codes[i]} at level ${i % L}, outside [0, ${levels[i % L]})`);
  }
  const childStart = levels.map((_, d) => next(`childStart[${d}]`));
  const childCode = levels.map((_, d) => next(`childCode[${d}]`));
  const parts: TrieParts = { levels, items, childStart, childCode, leafItemStart: next('leafItemStart'), leafItems: next('leafItems') };
  let trie: PrefixTrie;
  try {
    trie = PrefixTrie.fromParts(parts);
  } catch (err) {
    throw fail((err as Error).message);
  }
  for (let i = 0; i < items; i++) {
    const ids = trie.prefixOf(L, trie.itemLeaf[i]);
    for (let l = 0; l < L; l++) if (ids[l] !== codes[i * L + l]) throw fail(`the trie puts item ${i} at ${trie.formatPrefix(ids)}, its codes differ`);
  }
  return { levels, codes, trie };
}

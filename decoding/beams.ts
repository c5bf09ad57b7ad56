// The live beams of a search and one position's transition: each user keeps its `beamSize` best extensions
// (one TopK per user over the rows it owns), and the kept extensions become the next position's rows.
import { TopK } from './topK.js';
import type { PrefixTrie } from './trie.js';

/** The live rows at one position, grouped by user in user order. */
export interface Beams {
  rows: number;
  /** Codes chosen so far per row. */
  prefixes: Int32Array; // [rows, step]
  /** The session user each row belongs to. */
  rowUser: Int32Array; // [rows]
  /** The row of the previous position each row extends (-1 at position 0). */
  rowParent: Int32Array; // [rows]
  /** Trie node of each row's prefix, -1 where it is no catalog item's prefix. */
  nodes: Int32Array; // [rows]
  /** Sequence log-probability of each row's prefix. */
  scores: Float64Array; // [rows]
  /** Rows userStart[u] .. userStart[u + 1] - 1 belong to user u. */
  userStart: Int32Array; // [users + 1]
}

/** Position 0: one row per user, at the trie's root, score 0. */
export function initialBeams(users: number): Beams {
  const rowUser = new Int32Array(users);
  const userStart = new Int32Array(users + 1);
  for (let u = 0; u < users; u += 1) rowUser[u] = u;
  for (let u = 0; u <= users; u += 1) userStart[u] = u;
  return {
    rows: users, prefixes: new Int32Array(0), rowUser, rowParent: new Int32Array(users).fill(-1),
    nodes: new Int32Array(users), scores: new Float64Array(users), userStart,
  };
}

/**
 * The codes a row may take, as CSR over trie nodes: row r visits `code[start[node] .. start[node + 1] - 1]`
 * for its node. Null: every code of the position.
 */
export interface CodeRanges {
  start: Int32Array;
  code: Int32Array;
}

/** Each user's best extensions, best first: user u's are entries `userStart[u] .. userStart[u + 1] - 1`. */
export interface Selection {
  userStart: Int32Array; // [users + 1]
  /** row * width + code of each kept extension. */
  keys: Float64Array; // [kept]
  scores: Float64Array; // [kept]
}

/**
 * Every user's `beamSize` best finite extensions of its rows. `logProbs` are after the processors; with
 * `visit`, only those codes of each row are read (the others must already be -Infinity).
 */
export function selectExtensions(beams: Beams, logProbs: Float32Array, width: number, beamSize: number, step: number, visit: CodeRanges | null): Selection {
  const users = beams.userStart.length - 1;
  const userStart = new Int32Array(users + 1);
  const keys = new Float64Array(users * beamSize);
  const scores = new Float64Array(users * beamSize);
  const best = new TopK(beamSize);
  const codes = visit ? visit.code : allCodes(width);
  let total = 0;
  for (let u = 0; u < users; u += 1) {
    for (let row = beams.userStart[u]; row < beams.userStart[u + 1]; row += 1) {
      const base = row * width;
      const s0 = beams.scores[row];
      const node = beams.nodes[row];
      const lo = visit ? visit.start[node] : 0;
      const hi = visit ? visit.start[node + 1] : width;
      for (let j = lo; j < hi; j += 1) {
        const c = codes[j];
        const v = logProbs[base + c];
        if (v > -Infinity) best.offer(s0 + v, base + c);
        else if (v !== v) throw new Error(`the scorer returned NaN at position ${step}, row ${row}, code ${c}`);
      }
    }
    total += best.drainBestFirst(scores, keys, total);
    userStart[u + 1] = total;
  }
  return { userStart, keys: keys.subarray(0, total), scores: scores.subarray(0, total) };
}

function allCodes(width: number): Int32Array {
  const codes = new Int32Array(width);
  for (let c = 0; c < width; c += 1) codes[c] = c;
  return codes;
}

/** The next position's rows: one per selected extension, its prefix, parent, trie node and score. */
export function extendBeams(beams: Beams, selection: Selection, width: number, step: number, trie: PrefixTrie): Beams {
  const rows = selection.keys.length;
  const prefixes = new Int32Array(rows * (step + 1));
  const rowUser = new Int32Array(rows);
  const rowParent = new Int32Array(rows);
  const nodes = new Int32Array(rows);
  const users = selection.userStart.length - 1;
  for (let u = 0; u < users; u += 1) {
    for (let row = selection.userStart[u]; row < selection.userStart[u + 1]; row += 1) {
      const key = selection.keys[row];
      const parent = Math.floor(key / width);
      const code = key - parent * width;
      rowUser[row] = u;
      rowParent[row] = parent;
      const from = parent * step;
      const to = row * (step + 1);
      for (let d = 0; d < step; d += 1) prefixes[to + d] = beams.prefixes[from + d]; // no subarray per row
      prefixes[to + step] = code;
      const node = beams.nodes[parent];
      nodes[row] = node >= 0 ? trie.child(step, node, code) : -1;
    }
  }
  return { rows, prefixes, rowUser, rowParent, nodes, scores: selection.scores, userStart: selection.userStart };
}

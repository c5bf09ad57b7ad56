// `semid recommend --input FILE`: the users of an input table, resolved against the data set. The table is read one
// Parquet row group at a time (ParquetRowGroups, as readUserChunks reads sequences.parquet), so memory holds one
// group of requests however long the input. Resolving needs the catalog's item keys and the data set's user keys
// (a known user's id, its domain); only a table without a `history` column needs the data set's sequences (a known
// user's history is its sequence's tail).
import type { Dataset } from './data/index.js';
import { ParquetRowGroups, readUtf8Column, readUtf8ListColumn } from './data/index.js';
import { checkText } from './text/index.js';
import type { RecommendRequest } from './recommend.js';
import type { RequestSource } from './requestSource.js';

/** Rows of an input table: user keys, optionally histories (item keys, oldest first) and preference texts. */
export interface InputRows {
  userKeys: string[];
  histories: string[][] | null;
  preferences?: (string | null)[] | null;
}

/** What resolving input rows reads of the data set: key lookups, and the users' sequences for key-only inputs. */
export interface RequestLookup {
  userOf: Map<string, number>;
  itemOf: Map<string, number>;
  /** Each data set user's item ids (key-only inputs); null when the input brings its histories. */
  sequences: readonly Int32Array[] | null;
  maxHistory: number;
}

/** The lookup of `dataset` (its sequences' items only when `withSequences`). */
export function requestLookup(
  dataset: { items: { keys: readonly string[] }; sequences: Pick<Dataset['sequences'], 'userKeys'> & { items?: readonly Int32Array[] } },
  maxHistory: number,
): RequestLookup {
  return {
    userOf: new Map(dataset.sequences.userKeys.map((k, u) => [k, u])),
    itemOf: new Map(dataset.items.keys.map((k, i) => [k, i])),
    sequences: dataset.sequences.items ?? null,
    maxHistory,
  };
}

const tail = (h: Int32Array, maxHistory: number): Int32Array => h.slice(Math.max(0, h.length - maxHistory));

/** The requests of input rows: known items by id (unknown ones listed), a key-only row's history from the data set. */
export function resolveInputRows(lookup: RequestLookup, rows: InputRows): RecommendRequest[] {
  const { userOf, itemOf, sequences, maxHistory } = lookup;
  return rows.userKeys.map((userKey, row) => {
    const user = userOf.get(userKey) ?? -1;
    const preference = rows.preferences ? { preference: rows.preferences[row] } : {};
    if (!rows.histories) {
      if (!sequences) throw new Error('an input without a history column needs the data set\'s sequences (requestLookup of a full data set)');
      return { userKey, user, history: user >= 0 ? tail(sequences[user], maxHistory) : new Int32Array(0), unknownItems: [], ...preference };
    }
    const known: number[] = [];
    const unknownItems: string[] = [];
    for (const key of rows.histories[row]) {
      const item = itemOf.get(key);
      if (item === undefined) unknownItems.push(key);
      else known.push(item);
    }
    return { userKey, user, history: tail(Int32Array.from(known), maxHistory), unknownItems, ...preference };
  });
}

/**
 * Reads rows of an input table (`user_key` utf8, optional `history` list<utf8>, optional `preference` utf8: an empty
 * or blank cell = no preference; text that is not UTF-8 is an error naming the row). `at` places a row group in the
 * file (its index and first row) for messages.
 */
export function inputRows(
  table: Parameters<typeof readUtf8Column>[0], path: string, columns: { history: boolean; preference: boolean }, at?: { group: number; firstRow: number },
): InputRows {
  const source = at ? `${path} (row group ${at.group})` : path;
  const firstRow = at?.firstRow ?? 0;
  const userKeys = readUtf8Column(table, 'user_key', source);
  const histories = columns.history ? readUtf8ListColumn(table, 'history', source) : null;
  const preferences = columns.preference
    ? readUtf8Column(table, 'preference', source).map((t, row) => (t.trim() === '' ? null : checkText(t, `${path} row ${firstRow + row} (user ${JSON.stringify(userKeys[row])}) preference`)))
    : null;
  return { userKeys, histories, preferences };
}

/** An input table's shape, read from its footer: rows, and which optional columns it has. */
export interface InputTable {
  path: string;
  rows: number;
  hasHistory: boolean;
  hasPreference: boolean;
}

/** Opens `path`'s footer: refuses a table without `user_key`, and says whether it brings histories. */
export async function inspectInput(path: string): Promise<InputTable> {
  const groups = await ParquetRowGroups.open(path);
  try {
    if (!groups.hasColumn('user_key')) throw new Error(`${path}: missing column "user_key" (an --input table has user_key, optionally history and preference)`);
    return { path, rows: groups.numRows, hasHistory: groups.hasColumn('history'), hasPreference: groups.hasColumn('preference') };
  } finally {
    groups.close();
  }
}

/**
 * The input's users [from, to) as requests, one row group per chunk (the same requests, in order, as resolving the
 * whole table at once). `prepare` sees each chunk before it is used (preferences and their vectors).
 */
export function inputRequests(input: InputTable, lookup: RequestLookup, prepare?: (requests: RecommendRequest[]) => void): RequestSource {
  const columns = { history: input.hasHistory, preference: input.hasPreference };
  const names = ['user_key', ...(columns.history ? ['history'] : []), ...(columns.preference ? ['preference'] : [])];
  return {
    users: input.rows,
    async *chunks(from, to) {
      const groups = await ParquetRowGroups.open(input.path);
      try {
        if (groups.numRows !== input.rows) throw new Error(`${input.path}: it had ${input.rows} rows when the job started, it has ${groups.numRows} now`);
        let start = 0;
        for (let g = 0; g < groups.rowGroupRows.length && start < to; g++) {
          const end = start + groups.rowGroupRows[g];
          if (end > from) {
            const rows = inputRows(await groups.read(g, names), input.path, columns, { group: g, firstRow: start });
            const lo = Math.max(from, start) - start;
            const hi = Math.min(to, end) - start;
            const requests = resolveInputRows(lookup, {
              userKeys: rows.userKeys.slice(lo, hi), histories: rows.histories?.slice(lo, hi) ?? null, preferences: rows.preferences?.slice(lo, hi) ?? null,
            });
            prepare?.(requests);
            yield requests;
          }
          start = end;
        }
      } finally {
        groups.close();
      }
    },
  };
}

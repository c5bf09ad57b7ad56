// Where `semid recommend` gets its users: a list in memory (tests, library callers), the data set's users streamed
// from sequences.parquet a row group at a time (readUserChunks), or an --input table's users streamed by its row
// groups (inputRequests.ts), so that a job over every user holds
// one chunk of histories and one batch of results, not all of them. Shards cut [0, users) by position; a source
// yields the requests of a range in order, in chunks whose size does not change the output (writeShard batches
// across chunk boundaries).
import { readUserChunks } from './data/index.js';
import type { RecommendRequest } from './recommend.js';

export interface RequestSource {
  /** Users in the job. */
  readonly users: number;
  /** The requests of users [from, to), in order, in chunks. */
  chunks(from: number, to: number): AsyncIterable<readonly RecommendRequest[]>;
}

export function isRequestSource(x: readonly RecommendRequest[] | RequestSource): x is RequestSource {
  return typeof (x as RequestSource).chunks === 'function';
}

/** Requests held in memory, handed out `chunkUsers` at a time (default: the whole range at once). */
export function requestsSource(requests: readonly RecommendRequest[], chunkUsers = Infinity): RequestSource {
  if (!(chunkUsers >= 1)) throw new Error(`chunkUsers must be >= 1, got ${chunkUsers}`);
  return {
    users: requests.length,
    async *chunks(from, to) {
      for (let first = from; first < to; first += Math.min(chunkUsers, to - first)) yield requests.slice(first, Math.min(to, first + chunkUsers));
    },
  };
}

export interface DatasetRequestsOptions {
  /** Users in the data set (datasetUserCount). */
  users: number;
  /** Catalog size (item ids are checked against it). */
  items: number;
  /** History = the last `maxHistory` items of a user's sequence. */
  maxHistory: number;
  /** Called on each chunk before it is used (set preferences and their vectors). */
  prepare?: (requests: RecommendRequest[]) => void;
}

/**
 * Every user of the data set in `dir`, streamed from sequences.parquet (the same requests as
 * resolveRequests(dataset, null, maxHistory), one row group at a time).
 */
export function datasetRequests(dir: string, options: DatasetRequestsOptions): RequestSource {
  const { maxHistory } = options;
  if (!Number.isInteger(maxHistory) || maxHistory < 1) throw new Error(`maxHistory must be an integer >= 1, got ${maxHistory}`);
  return {
    users: options.users,
    async *chunks(from, to) {
      for await (const chunk of readUserChunks(dir, { from, to, items: options.items })) {
        const requests: RecommendRequest[] = chunk.userKeys.map((userKey, i) => {
          const seq = chunk.items[i];
          return { userKey, user: chunk.first + i, history: seq.slice(Math.max(0, seq.length - maxHistory)), unknownItems: [] };
        });
        options.prepare?.(requests);
        yield requests;
      }
    },
  };
}

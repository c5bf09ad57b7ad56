// MovieLens ratings as time-ordered histories: ml-100k (u.data: tab-separated user item rating time;
// u.item: "id|title|date||url|19 genre flags", Latin-1), ml-1m/10m (ratings.dat / movies.dat with "::"),
// and ml-latest / ml-25m (ratings.csv userId,movieId,rating,timestamp; movies.csv movieId,title,genres).
// Every rating is an interaction (--min-rating filters); ties in time keep file order. Ratings are read
// by DuckDB when every line is clean, else line by line in JS (native.ts).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ItemRecord, ReadResult } from './build.js';
import { loadCatalog } from './build.js';
import type { ImportContext } from './context.js';
import { streamOptions } from './context.js';
import { parseCsv } from './csv.js';
import type { InputIssues } from './issues.js';
import { nativeCsvRows } from './native.js';
import { knownItem } from './records.js';
import type { StreamOptions } from './read.js';
import { at, checkFile, fileHead, readLines, readText } from './read.js';

/** ml-100k's u.genre, in flag order (used when u.genre is not beside u.item). */
export const ML100K_GENRES = [
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy',
  'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
];

type Layout = 'csv' | 'dat' | 'tab';

function layoutOf(firstLine: string): Layout {
  if (firstLine.includes('::')) return 'dat';
  if (firstLine.includes(',')) return 'csv';
  return 'tab';
}

function movieFields(title: string, genres: string[], extra: Record<string, unknown> = {}): ItemRecord {
  const year = /\((\d{4})\)\s*$/.exec(title)?.[1];
  return { fields: { title, genres, ...(year ? { year } : {}), ...extra }, categories: genres };
}

async function readMovies(path: string, issues: InputIssues): Promise<Map<string, ItemRecord>> {
  const text = await readText(path);
  const movies = new Map<string, ItemRecord>();
  const add = (id: string, record: ItemRecord, where: string) => {
    if (movies.has(id)) return issues.reject('duplicate item', where, `duplicate movie id "${id}"`);
    movies.set(id, record);
  };
  const firstLine = text.split('\n', 1)[0];
  if (firstLine.includes('::')) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      const f = line.split('::');
      if (f.length < 3) return issues.reject('unparsable line', at(path, i + 1), `expected "id::title::genres", got "${line.slice(0, 80)}"`);
      add(f[0], movieFields(f[1], f[2].split('|').filter((g) => g && g !== '(no genres listed)')), at(path, i + 1));
    });
  } else if (firstLine.includes('|')) {
    const genrePath = join(dirname(path), 'u.genre');
    const genres = existsSync(genrePath)
      ? (await readText(genrePath)).split(/\r?\n/).filter((l) => l.includes('|')).map((l) => l.split('|')[0])
      : ML100K_GENRES;
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      const f = line.split('|');
      const where = at(path, i + 1);
      if (f.length !== 5 + genres.length) {
        return issues.reject('unparsable line', where, `expected ${5 + genres.length} "|"-separated fields (id|title|date||url|genre flags), got ${f.length}`);
      }
      const flags = f.slice(5);
      if (flags.some((x) => x !== '0' && x !== '1')) return issues.reject('bad value', where, `genre flags must be 0 or 1, got "${flags.join('|')}"`);
      add(f[0], movieFields(f[1], genres.filter((_, g) => flags[g] === '1'), { date: f[2], url: f[4] }), where);
    });
  } else {
    const rows = parseCsv(text);
    const header = rows.shift()?.fields ?? [];
    const [idCol, titleCol, genresCol] = ['movieId', 'title', 'genres'].map((c) => header.indexOf(c));
    if (idCol < 0 || titleCol < 0) throw new Error(`${path}: expected a movies.csv header with movieId,title,genres; got "${header.join(',')}"`);
    for (const row of rows) {
      const where = at(path, row.line);
      if (row.fields.length !== header.length) {
        issues.reject('unparsable line', where, `expected ${header.length} fields, got ${row.fields.length}`);
        continue;
      }
      const genres = genresCol < 0 ? [] : row.fields[genresCol].split('|').filter((g) => g && g !== '(no genres listed)');
      add(row.fields[idCol], movieFields(row.fields[titleCol], genres), where);
    }
  }
  return movies;
}

/** The first line of a (possibly gzipped) text file. */
async function firstLine(path: string, stream: StreamOptions): Promise<string> {
  for await (const [line] of readLines(path, stream)) return line;
  return '';
}

const NATIVE_LAYOUT: Record<Layout, { delimiter: string; header: boolean }> = {
  csv: { delimiter: ',', header: true },
  dat: { delimiter: '::', header: false },
  tab: { delimiter: '\t', header: false },
};

/** The JS reader: every line checked in order, errors name the line. */
async function readRatingLines(ctx: ImportContext, path: string, layout: Layout, itemRecords: Map<string, ItemRecord> | null): Promise<number> {
  const { issues, store } = ctx;
  const minRating = ctx.options.minRating ?? -Infinity;
  let filtered = 0;
  for await (const [line, n] of readLines(path, streamOptions(ctx, path))) {
    if ((layout === 'csv' && n === 1) || !line.trim()) continue;
    const where = at(path, n);
    const f = layout === 'dat' ? line.split('::') : layout === 'csv' ? line.split(',') : line.trim().split(/\s+/);
    if (f.length !== 4) {
      issues.reject('unparsable line', where, `expected 4 fields (user, item, rating, time), got ${f.length}: "${line.slice(0, 80)}"`);
      continue;
    }
    const [user, item, ratingText, timeText] = f;
    const rating = Number(ratingText);
    const time = Number(timeText);
    if (!Number.isFinite(rating) || !Number.isFinite(time) || timeText.trim() === '') {
      issues.reject('unparsable line', where, `rating and time must be numbers, got "${ratingText}" and "${timeText}"`);
      continue;
    }
    if (rating < minRating) {
      filtered += 1;
      continue;
    }
    if (knownItem(itemRecords, item, where, issues)) store.add(user, item, time, n);
  }
  return filtered;
}

export async function readMovieLens(ctx: ImportContext): Promise<ReadResult> {
  const { options, issues } = ctx;
  const path = await checkFile(options.ratings, '--ratings');
  const moviesPath = options.movies ? await checkFile(options.movies, '--movies') : undefined;
  const itemRecords = moviesPath ? await readMovies(moviesPath, issues) : null;
  if (itemRecords) await loadCatalog(ctx.engine, itemRecords);
  const head = await firstLine(path, streamOptions(ctx, path));
  const layout = layoutOf(head);
  if (layout === 'csv') {
    const header = head.split(',').map((h) => h.trim());
    if (header.join(',') !== 'userId,movieId,rating,timestamp') {
      throw new Error(`${path}: expected the ratings.csv header userId,movieId,rating,timestamp; got "${head.slice(0, 80)}"`);
    }
  }
  const gzip = (await fileHead(path, 2))[0] === 0x1f;
  const native = options.jsReader ? null : await nativeCsvRows(ctx.engine, ctx.store, {
    path, gzip, ...NATIVE_LAYOUT[layout], columns: ['u', 'i', 'r', 't'], quoted: false,
  }, { user: 'u', item: 'i', time: 't', rating: 'r', minRating: options.minRating, trim: false, catalog: itemRecords !== null });
  const filtered = native ?? (await readRatingLines(ctx, path, layout, itemRecords));
  return {
    itemRecords,
    timed: true,
    source: { format: 'movielens', ratings: path, movies: moviesPath ?? null, ...(options.minRating !== undefined ? { minRating: options.minRating, belowMinRating: filtered } : {}) },
  };
}

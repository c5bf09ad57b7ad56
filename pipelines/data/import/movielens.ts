// MovieLens ratings as time-ordered histories: ml-100k (u.data: tab-separated user item rating time;
// u.item: "id|title|date||url|19 genre flags", Latin-1), ml-1m/10m (ratings.dat / movies.dat with "::"),
// and ml-latest / ml-25m (ratings.csv userId,movieId,rating,timestamp; movies.csv movieId,title,genres).
// Every rating is an interaction (--min-rating filters); ties in time keep file order.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ItemRecord, RawImport } from './build.js';
import { InteractionLog } from './build.js';
import { parseCsv } from './csv.js';
import type { InputIssues } from './issues.js';
import type { ImportOptions } from './options.js';
import { knownItem } from './records.js';
import { at, checkFile, readText } from './read.js';

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

export async function readMovieLens(options: ImportOptions, issues: InputIssues): Promise<RawImport> {
  const path = await checkFile(options.ratings, '--ratings');
  const moviesPath = options.movies ? await checkFile(options.movies, '--movies') : undefined;
  const itemRecords = moviesPath ? await readMovies(moviesPath, issues) : null;
  const minRating = options.minRating ?? -Infinity;
  const text = await readText(path);
  const lines = text.split(/\r?\n/);
  const layout = layoutOf(lines[0] ?? '');
  let start = 0;
  if (layout === 'csv') {
    const header = lines[0].split(',').map((h) => h.trim());
    if (header.join(',') !== 'userId,movieId,rating,timestamp') {
      throw new Error(`${path}: expected the ratings.csv header userId,movieId,rating,timestamp; got "${lines[0].slice(0, 80)}"`);
    }
    start = 1;
  }
  const log = new InteractionLog(true);
  let filtered = 0;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    const where = at(path, i + 1);
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
    if (knownItem(itemRecords, item, where, issues)) log.add(user, item, time);
  }
  return {
    histories: log.histories(),
    itemRecords,
    source: { format: 'movielens', ratings: path, movies: moviesPath ?? null, ...(options.minRating !== undefined ? { minRating, belowMinRating: filtered } : {}) },
  };
}

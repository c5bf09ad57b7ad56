// Reading input files: whole text (gzip detected by its magic bytes; UTF-8, or Latin-1 when the bytes
// are not valid UTF-8, as MovieLens' u.item is) or a stream of lines for dumps too big for memory.
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';

/** Throws a clear error when `path` is not a readable file; `flag` names the option that gave it. */
export async function checkFile(path: string | undefined, flag: string): Promise<string> {
  if (!path) throw new Error(`${flag} FILE is required for this format`);
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`${flag} ${path}: file not found`);
  }
  if (!info.isFile()) throw new Error(`${flag} ${path}: not a file`);
  return path;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The first bytes of a file (decompressed view not needed: used for format sniffing). */
export async function fileHead(path: string, n = 512): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Whole file as text (gunzipped when gzip; Latin-1 when not valid UTF-8; BOM removed). */
export async function readText(path: string): Promise<string> {
  let bytes: Uint8Array = await readFile(path);
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new Error(`${path}: gzip data is corrupt (${(err as Error).message})`);
    }
  }
  if (bytes.includes(0)) throw new Error(`${path}: binary data, not a text file (wrong --format?)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('latin1').decode(bytes);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Bytes per read of the streaming readers (tests pass a few bytes to exercise chunk boundaries). */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

/** Thrown by the streaming readers when a file is not valid UTF-8: the import re-reads it as Latin-1. */
export class NotUtf8Error extends Error {
  constructor(readonly path: string) {
    super(`${path}: not valid UTF-8`);
  }
}

export interface StreamOptions {
  chunkBytes?: number;
  /** Decode as Latin-1 (after a NotUtf8Error), else strict UTF-8. */
  latin1?: boolean;
}

/** Decoded text of a (possibly gzipped) file, chunk by chunk; BOM removed; binary data refused. */
export async function* readTextChunks(path: string, options: StreamOptions = {}): AsyncGenerator<string> {
  const gz = isGzip(await fileHead(path, 2));
  const raw = createReadStream(path, { highWaterMark: options.chunkBytes ?? DEFAULT_CHUNK_BYTES });
  const input = gz ? raw.pipe(createGunzip({ chunkSize: Math.max(64, options.chunkBytes ?? 16384) })) : raw;
  const decoder = new TextDecoder(options.latin1 ? 'latin1' : 'utf-8', { fatal: true, ignoreBOM: false });
  let failure: Error | null = null;
  input.on('error', (err: Error) => { failure = err; });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (chunk.includes(0)) throw new Error(`${path}: binary data, not a text file (wrong --format?)`);
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        throw new NotUtf8Error(path);
      }
      if (text) yield text;
    }
  } catch (err) {
    if (err instanceof NotUtf8Error || (err as Error).message.startsWith(path)) throw err;
    throw new Error(gz ? `${path}: gzip data is corrupt (${(err as Error).message})` : `${path}: read failed (${(err as Error).message})`);
  } finally {
    raw.destroy();
  }
  if (failure) throw new Error(gz ? `${path}: gzip data is corrupt (${(failure as Error).message})` : `${path}: read failed (${(failure as Error).message})`);
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw new NotUtf8Error(path);
  }
  if (rest) yield rest;
}

/** Lines of a (possibly gzipped) file, streamed, with 1-based line numbers ("\n" or "\r\n" ends a line). */
export async function* readLines(path: string, options: StreamOptions = {}): AsyncGenerator<[line: string, lineNo: number]> {
  let partial = '';
  let n = 0;
  for await (const text of readTextChunks(path, options)) {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      n += 1;
      yield [line.endsWith('\r') ? line.slice(0, -1) : line, n];
    }
  }
  if (partial !== '') yield [partial.endsWith('\r') ? partial.slice(0, -1) : partial, n + 1];
}

/** "path:line", the location format of every import error. */
export function at(path: string, line: number): string {
  return `${path}:${line}`;
}

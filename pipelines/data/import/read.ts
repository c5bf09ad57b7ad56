// Reading input files: whole text (gzip detected by its magic bytes; UTF-8, or Latin-1 when the bytes
// are not valid UTF-8, as MovieLens' u.item is) or a stream of lines for dumps too big for memory.
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
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

/** Lines of a (possibly gzipped) UTF-8 file, streamed, with 1-based line numbers. */
export async function* readLines(path: string): AsyncGenerator<[line: string, lineNo: number]> {
  const gz = isGzip(await fileHead(path, 2));
  const raw = createReadStream(path);
  const input = gz ? raw.pipe(createGunzip()) : raw;
  let failure: Error | null = null;
  input.on('error', (err: Error) => { failure = err; });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      n += 1;
      yield [n === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line, n];
    }
  } catch (err) {
    throw new Error(`${path}: read failed near line ${n + 1} (${(err as Error).message})`);
  }
  if (failure) throw new Error(`${path}: read failed near line ${n + 1} (${(failure as Error).message})`);
}

/** "path:line", the location format of every import error. */
export function at(path: string, line: number): string {
  return `${path}:${line}`;
}

// JSON files: one parse-error path that names the file.
import { readFile } from 'node:fs/promises';

export function parseJson<T>(text: string, path: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path}: invalid JSON (${(err as Error).message})`);
  }
}

/** A JSON file that must exist: errors name the path. */
export async function readJsonFile<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseJson<T>(text, path);
}

/** An optional JSON file: null when it cannot be read, an error naming the path when it is not JSON. */
export async function readJsonIfPresent<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  return parseJson<T>(text, path);
}

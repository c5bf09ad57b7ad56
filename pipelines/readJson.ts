// Reads an optional JSON file: null when it does not exist, an error naming the path when it is not JSON.
import { readFile } from 'node:fs/promises';

export async function readJsonIfPresent<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

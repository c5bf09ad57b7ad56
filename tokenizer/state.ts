// Method state files: JSON plus raw little-endian Float32 arrays, all written atomically. Loads check
// the length so that a truncated or mismatched file fails with its name, not with garbage codes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from './io/index.js';

export async function saveFloat32(dir: string, name: string, values: Float32Array): Promise<void> {
  const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  await writeFileAtomic(join(dir, name), bytes);
}

export async function saveInt32(dir: string, name: string, values: Int32Array): Promise<void> {
  await writeFileAtomic(join(dir, name), new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)));
}

export async function loadInt32(dir: string, name: string, expectedLength: number): Promise<Int32Array> {
  const f = await loadFloat32(dir, name, expectedLength);
  return new Int32Array(f.buffer);
}

export async function loadFloat32(dir: string, name: string, expectedLength: number): Promise<Float32Array> {
  const path = join(dir, name);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`${path}: cannot read tokenizer state (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (bytes.byteLength !== expectedLength * 4) {
    throw new Error(`${path}: expected ${expectedLength} float32 values (${expectedLength * 4} bytes), found ${bytes.byteLength} bytes`);
  }
  const out = new Float32Array(expectedLength);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function loadJson<T>(dir: string, name: string): Promise<T> {
  return readJsonFile<T>(join(dir, name));
}

/** Validation helpers for resolveX(): errors name the field and the value. */
export function checkInt(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`\`${name}\` must be an integer ${max < Number.MAX_SAFE_INTEGER ? `in [${min}, ${max}]` : `>= ${min}`}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkNumber(name: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`\`${name}\` must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkIntList(name: string, value: unknown, min: number): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < min)) {
    throw new Error(`\`${name}\` must be a non-empty list of integers >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value as number[];
}

export function checkBool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`\`${name}\` must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** Rejects config keys the method does not know (typos would otherwise be silently ignored). */
export function checkKeys(method: string, config: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(config)) {
    if (config[key] !== undefined && !known.includes(key)) {
      throw new Error(`${method}: unknown config key "${key}" (known: ${known.join(', ')})`);
    }
  }
}

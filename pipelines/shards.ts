// Recommendation shards on disk: OUT-0000i-of-0000n.parquet, each with a sidecar report (OUT-...report.json)
// written first, holding the shard's settings, row count, size and sha256. A rerun trusts a shard only when its
// file matches its report (a truncated or altered file is recomputed), refuses a shard file semid did not write
// (no report), and refuses to mix shards written with other settings, naming them.
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { readJsonIfPresent, sha256 } from '../tokenizer/io/index.js';
import { parquetToTable } from './data/index.js';

/** Where shard i of n goes: OUT itself for a single shard, else OUT-0000i-of-0000n.parquet. */
export function shardPath(out: string, index: number, count: number): string {
  if (count === 1) return out;
  const base = out.endsWith('.parquet') ? out.slice(0, -'.parquet'.length) : out;
  return `${base}-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.parquet`;
}

export function sidecarPath(parquetPath: string): string {
  return `${parquetPath.endsWith('.parquet') ? parquetPath.slice(0, -'.parquet'.length) : parquetPath}.report.json`;
}

export interface ShardReport {
  settings?: Record<string, unknown>;
  rows?: number;
  /** Size and sha256 of the Parquet file (absent in reports of older semid versions). */
  bytes?: number;
  sha256?: string;
  [field: string]: unknown;
}

/** Every shard file of OUT present on disk, whatever its shard count. */
async function existingShards(out: string): Promise<string[]> {
  const dir = dirname(resolve(out));
  const base = basename(out.endsWith('.parquet') ? out.slice(0, -'.parquet'.length) : out);
  const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{5}-of-\\d{5}\\.parquet$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => pattern.test(n) || n === basename(out)).map((n) => join(dirname(out), n));
}

function differences(before: Record<string, unknown>, now: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])];
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]))
    .map((k) => `${k} ${JSON.stringify(before[k])} instead of ${JSON.stringify(now[k])}`).join(', ');
}

/**
 * Refuses, before any work, shard files of OUT written with other settings (another --top-k, shard count,
 * model...) or without a report (not semid's): a rerun must not leave a mix. The message names them.
 */
export async function checkShardSettings(out: string, settings: Record<string, unknown>): Promise<void> {
  const mixed: string[] = [];
  for (const path of await existingShards(out)) {
    const report = await readJsonIfPresent<ShardReport>(sidecarPath(path)).catch(() => null);
    if (!report?.settings) {
      throw new Error(`${path} exists but has no readable report ${sidecarPath(path)}: it was not written by semid recommend; move it away or choose another --out`);
    }
    const diff = differences(report.settings, settings);
    if (diff) mixed.push(`${basename(path)} (${diff})`);
  }
  if (mixed.length > 0) {
    throw new Error(`--out ${out}: ${mixed.length} shard file(s) were written with other settings: ${mixed.join('; ')}; delete them or rerun with the same options`);
  }
}

/** Why a finished-looking shard cannot be trusted, or null when its file matches its report. */
export async function shardMismatch(path: string): Promise<string | null> {
  const report = await readJsonIfPresent<ShardReport>(sidecarPath(path)).catch(() => null);
  if (!report) return `it has no readable report ${sidecarPath(path)}`;
  const bytes = await readFile(path);
  if (report.sha256 !== undefined) {
    if (report.bytes !== bytes.byteLength) return `it has ${bytes.byteLength} bytes, its report says ${report.bytes}`;
    if (report.sha256 !== sha256(bytes)) return 'its sha256 differs from its report';
    return null;
  }
  // A report from before checksums: the file must at least read back with the recorded row count.
  try {
    const rows = parquetToTable(bytes, path).numRows;
    return rows === report.rows ? null : `it has ${rows} rows, its report says ${report.rows}`;
  } catch (err) {
    return `it cannot be read (${(err as Error).message})`;
  }
}

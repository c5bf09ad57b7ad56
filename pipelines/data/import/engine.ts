// The embedded analytical engine of an import: one DuckDB instance (a database file in a private temp
// directory, spilling there past `memoryLimit`; removed afterwards), so grouping, k-core filtering, dense ids, time ordering and the
// Parquet writes run out of core: memory is bounded by the engine, not by the input file.
// DuckDB (`@duckdb/node-api`, a prebuilt binary from npm) reads CSV/Parquet natively in C++, sorts and
// groups larger-than-memory tables, and writes zstd Parquet; no JS string ever holds a whole file.
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';

export interface EngineConfig {
  /** DuckDB's memory limit before it spills to disk, e.g. "512MB" (SEMID_ENGINE_MEMORY). */
  memoryLimit: string;
  /** Worker threads (SEMID_ENGINE_THREADS; default: the cores this process may use). */
  threads: number;
  /** Where the spill directory is made (default: the OS temp directory; SEMID_ENGINE_TMP). */
  tempRoot: string;
  /** Interactions per batch of users when aggregating histories (SEMID_ENGINE_BATCH; bounds list states). */
  batchInteractions: number;
  /** Print each statement's time and the process's RSS to stderr (SEMID_ENGINE_LOG=1): where an import spends. */
  log: boolean;
}

export const DEFAULT_ENGINE: EngineConfig = {
  // 256MB, measured on the 25M-row MovieLens-shaped CSV, 2 cores, three runs each, alternated: peak RSS 664-712 MiB
  // against 820-914 MiB at 512MB, and the same time (21.5-26.3 s against 21.2-24.6 s): the read spills little.
  memoryLimit: '256MB',
  threads: availableParallelism(),
  tempRoot: tmpdir(),
  batchInteractions: 2_000_000,
  log: false,
};

/** The engine settings: defaults, then SEMID_ENGINE_* from the environment, validated. */
export function resolveEngine(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const config: EngineConfig = {
    memoryLimit: env.SEMID_ENGINE_MEMORY ?? DEFAULT_ENGINE.memoryLimit,
    threads: env.SEMID_ENGINE_THREADS !== undefined ? Number(env.SEMID_ENGINE_THREADS) : DEFAULT_ENGINE.threads,
    tempRoot: env.SEMID_ENGINE_TMP ?? DEFAULT_ENGINE.tempRoot,
    batchInteractions: env.SEMID_ENGINE_BATCH !== undefined ? Number(env.SEMID_ENGINE_BATCH) : DEFAULT_ENGINE.batchInteractions,
    log: env.SEMID_ENGINE_LOG === '1',
  };
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i.test(config.memoryLimit)) {
    throw new Error(`SEMID_ENGINE_MEMORY must be a size such as 512MB or 2GB, got "${config.memoryLimit}"`);
  }
  if (!Number.isInteger(config.threads) || config.threads < 1) {
    throw new Error(`SEMID_ENGINE_THREADS must be an integer >= 1, got ${env.SEMID_ENGINE_THREADS}`);
  }
  if (!Number.isInteger(config.batchInteractions) || config.batchInteractions < 1) {
    throw new Error(`SEMID_ENGINE_BATCH must be an integer >= 1, got ${env.SEMID_ENGINE_BATCH}`);
  }
  return config;
}

/** A SQL string literal (file paths, keys). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export class ImportEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    private readonly spillDir: string,
    readonly config: EngineConfig,
  ) {}

  static async open(config: EngineConfig = resolveEngine()): Promise<ImportEngine> {
    const spillDir = await mkdtemp(join(config.tempRoot, 'semid-engine-'));
    // A database file in the spill directory, not ':memory:': table blocks can then be evicted to disk.
    const instance = await DuckDBInstance.create(join(spillDir, 'import.duckdb'), {
      memory_limit: config.memoryLimit,
      threads: String(config.threads),
      temp_directory: spillDir,
      preserve_insertion_order: 'true', // rowid = file order: ties in time keep file order
    });
    return new ImportEngine(instance, await instance.connect(), spillDir, config);
  }

  async run(sql: string): Promise<void> {
    await this.timed(sql, () => this.connection.run(sql));
  }

  /** Rows of a query as arrays of JS values (BIGINT as bigint). */
  async rows(sql: string): Promise<unknown[][]> {
    return this.timed(sql, async () => (await this.connection.runAndReadAll(sql)).getRows() as unknown[][]);
  }

  private async timed<T>(sql: string, work: () => Promise<T>): Promise<T> {
    if (!this.config.log) return work();
    const t0 = performance.now();
    const result = await work();
    const rss = process.memoryUsage.rss() / 2 ** 20;
    process.stderr.write(`engine ${((performance.now() - t0) / 1000).toFixed(2)} s, rss ${rss.toFixed(0)} MiB: ${sql.replace(/\s+/g, ' ').slice(0, 160)}\n`);
    return result;
  }

  /** The single value of a one-row, one-column query, as a number. */
  async count(sql: string): Promise<number> {
    return Number((await this.rows(sql))[0][0]);
  }

  appender(table: string): Promise<DuckDBAppender> {
    return this.connection.createAppender(table);
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.spillDir, { recursive: true, force: true });
  }
}

/** Runs `work` with an open engine and always closes it (spill directory removed). */
export async function withEngine<T>(work: (engine: ImportEngine) => Promise<T>, config?: EngineConfig): Promise<T> {
  const engine = await ImportEngine.open(config);
  try {
    return await work(engine);
  } finally {
    await engine.close();
  }
}

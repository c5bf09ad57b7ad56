// The interactions of an import, held by the engine (not by JS): one row per (user, item, time) in the
// table `interactions(u VARCHAR, i VARCHAR, t DOUBLE, seq BIGINT)`. `seq` is the row's place in the
// input (a line number, a row number, or a running count): ties in time keep file order, and errors
// found later in SQL can name the line. Readers that parse in JS append row by row; the native readers
// (native.ts) fill the table with one INSERT ... SELECT from DuckDB's own CSV/Parquet readers.
import type { DuckDBAppender } from '@duckdb/node-api';
import type { ImportEngine } from './engine.js';

export const INTERACTIONS_TABLE = 'interactions';

export class InteractionStore {
  private pending = 0;

  private constructor(readonly engine: ImportEngine, private appender: DuckDBAppender, private readonly flushEvery: number) {}

  /** An empty interactions table (replacing any previous one). */
  static async create(engine: ImportEngine, flushEvery = 1 << 16): Promise<InteractionStore> {
    await engine.run(`CREATE OR REPLACE TABLE ${INTERACTIONS_TABLE} (u VARCHAR NOT NULL, i VARCHAR NOT NULL, t DOUBLE NOT NULL, seq BIGINT NOT NULL)`);
    return new InteractionStore(engine, await engine.appender(INTERACTIONS_TABLE), flushEvery);
  }

  /** Appends one interaction (time 0 when the source has no times; `seq` must grow with file order). */
  add(user: string, item: string, time: number, seq: number): void {
    const a = this.appender;
    a.appendVarchar(user);
    a.appendVarchar(item);
    a.appendDouble(time);
    a.appendBigInt(BigInt(seq));
    a.endRow();
    if (++this.pending >= this.flushEvery) this.flush();
  }

  /** Hands appended rows to the table (done before every query below). */
  flush(): void {
    this.appender.flushSync();
    this.pending = 0;
  }

  /** Fills the table from a query producing (u, i, t, seq) columns (the native readers). */
  async insert(select: string): Promise<void> {
    this.flush();
    await this.engine.run(`INSERT INTO ${INTERACTIONS_TABLE} ${select}`);
  }

  /** Empties the table (a reader starting over, e.g. to re-read a file as Latin-1). */
  async clear(): Promise<void> {
    this.flush();
    await this.engine.run(`DELETE FROM ${INTERACTIONS_TABLE}`);
  }

  /** Flushes and closes the appender: the table is complete. */
  finish(): void {
    this.flush();
    this.appender.closeSync();
  }

  async distinctItems(): Promise<Set<string>> {
    this.flush();
    const rows = await this.engine.rows(`SELECT DISTINCT i FROM ${INTERACTIONS_TABLE}`);
    return new Set(rows.map((r) => r[0] as string));
  }
}

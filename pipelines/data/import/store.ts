// The interactions of an import, held by the engine (not by JS): one row per (user, item, time) in the
// table `interactions(u VARCHAR, i VARCHAR, t DOUBLE, seq BIGINT)`. `seq` is the row's place in the
// input (a line number, a row number, or a running count): ties in time keep file order, and errors
// found later in SQL can name the line. Readers that parse in JS append row by row; the native readers
// (native.ts) build a typed table with DuckDB's own CSV/Parquet readers, which the store adopts as a view.
import type { DuckDBAppender } from '@duckdb/node-api';
import type { ImportEngine } from './engine.js';

export const INTERACTIONS_TABLE = 'interactions';

/** The table behind the interactions view, when a native reader's rows were adopted (see adopt). */
const ADOPTED_TABLE = 'adopted_rows';

/** Drops the interactions table, or the view and the adopted table behind it. */
export async function dropInteractions(engine: ImportEngine): Promise<void> {
  const kind = await engine.rows(`SELECT table_type FROM information_schema.tables WHERE table_name = '${INTERACTIONS_TABLE}'`);
  if (kind.length === 0) return;
  if (kind[0][0] === 'VIEW') {
    await engine.run(`DROP VIEW ${INTERACTIONS_TABLE}`);
    await engine.run(`DROP TABLE ${ADOPTED_TABLE}`);
  } else {
    await engine.run(`DROP TABLE ${INTERACTIONS_TABLE}`);
  }
}

export class InteractionStore {
  private pending = 0;
  private closed = false;

  private constructor(readonly engine: ImportEngine, private appender: DuckDBAppender, private readonly flushEvery: number) {}

  /** An empty interactions table (replacing any previous one). */
  static async create(engine: ImportEngine, flushEvery = 1 << 16): Promise<InteractionStore> {
    await dropInteractions(engine);
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

  /**
   * Makes the interactions a view of a native reader's table `table` (renamed; its rows WHERE `where`, `seq` the
   * row's place): 25M rows are not copied once more. No row may have been added.
   */
  async adopt(table: string, where: string, seq: string): Promise<void> {
    this.finish();
    await this.engine.run(`DROP TABLE ${INTERACTIONS_TABLE}`);
    await this.engine.run(`ALTER TABLE ${table} RENAME TO ${ADOPTED_TABLE}`);
    await this.engine.run(`CREATE OR REPLACE TEMP VIEW ${INTERACTIONS_TABLE} AS SELECT u, i, t, ${seq} AS seq FROM ${ADOPTED_TABLE} WHERE ${where}`);
  }

  /** Empties the table (a reader starting over, e.g. to re-read a file as Latin-1). */
  async clear(): Promise<void> {
    this.flush();
    await this.engine.run(`DELETE FROM ${INTERACTIONS_TABLE}`);
  }

  /** Flushes and closes the appender: the table is complete. */
  finish(): void {
    if (this.closed) return;
    this.flush();
    this.appender.closeSync();
    this.closed = true;
  }

  async distinctItems(): Promise<Set<string>> {
    this.flush();
    const rows = await this.engine.rows(`SELECT DISTINCT i FROM ${INTERACTIONS_TABLE}`);
    return new Set(rows.map((r) => r[0] as string));
  }
}

// Parquet files too large to hold whole, in both directions. Writing: tables are appended as they are made and
// parquet-wasm's streaming writer (transformParquetStream) turns them into row groups that go straight to an
// atomic file (tokenizer/io createFileAtomic: temp name, running sha256, rename on commit); memory holds one row
// group. Reading: a file opened as a Blob (node:fs openAsBlob, read on demand) is read one row group at a time.
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import { parseTable } from 'arrow-js-ffi';
import * as parquet from 'parquet-wasm/node';
import { createFileAtomic, type AtomicFile } from '../../tokenizer/io/index.js';

/** Rows per row group of a streamed file: the writer's memory bound. */
export const STREAM_ROW_GROUP = 65_536;

/** Appends tables to a Parquet file as they come; `finish` ends the file, `commit` puts it in place. */
export class ParquetStreamWriter {
  private controller!: ReadableStreamDefaultController<parquet.RecordBatch>;
  private readonly drained: Promise<void>;
  private failure: unknown = null;
  private finished = false;
  rows = 0;

  private constructor(private readonly file: AtomicFile, readonly path: string, rowGroupSize: number) {
    const input = new ReadableStream<parquet.RecordBatch>({ start: (c) => { this.controller = c; } }, { highWaterMark: 1 });
    const props = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.ZSTD).setMaxRowGroupSize(rowGroupSize).build();
    // The byte stream is drained into the file concurrently with the appends.
    this.drained = (async () => {
      const output = await parquet.transformParquetStream(input, props);
      for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) await file.write(chunk);
    })().catch((err: unknown) => {
      this.failure = err;
    });
  }

  /** Starts a file at `path` (written under a temporary name until `commit`). */
  static async create(path: string, options: { rowGroupSize?: number } = {}): Promise<ParquetStreamWriter> {
    const rowGroupSize = options.rowGroupSize ?? STREAM_ROW_GROUP;
    if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) throw new Error(`${path}: rowGroupSize must be an integer >= 1, got ${rowGroupSize}`);
    return new ParquetStreamWriter(await createFileAtomic(path), path, rowGroupSize);
  }

  private check(): void {
    if (this.failure) throw new Error(`${this.path}: cannot write Parquet: ${(this.failure as Error).message ?? String(this.failure)}`);
  }

  /** Appends the rows of `table` (every table of one file has the same schema). */
  async append(table: arrow.Table): Promise<void> {
    this.check();
    if (this.finished) throw new Error(`${this.path}: append after finish`);
    if (table.numRows === 0) return;
    const wasmTable = parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
    for (const batch of wasmTable.recordBatches()) this.controller.enqueue(batch);
    wasmTable.free();
    this.rows += table.numRows;
    // Let the writer catch up: at most one batch waits in the queue.
    while ((this.controller.desiredSize ?? 1) <= 0 && !this.failure) await new Promise((r) => setImmediate(r));
    this.check();
  }

  /** Ends the file (its footer written): its size and sha256, before it is put in place. */
  async finish(): Promise<{ bytes: number; sha256: string }> {
    if (!this.finished) {
      this.finished = true;
      this.controller.close();
      await this.drained;
    }
    this.check();
    return this.file.digest();
  }

  /** Puts the finished file in place (atomic rename). */
  async commit(): Promise<void> {
    await this.finish();
    await this.file.commit();
  }

  /** Drops the temporary (after an error). */
  async abort(): Promise<void> {
    if (!this.finished) {
      this.finished = true;
      try {
        this.controller.error(new Error('aborted'));
      } catch {
        // already closed
      }
      await this.drained;
    }
    await this.file.abort();
  }
}

/** A Parquet file read one row group at a time. */
export class ParquetRowGroups {
  private constructor(private readonly file: parquet.ParquetFile, readonly path: string, readonly rowGroupRows: number[]) {}

  static async open(path: string): Promise<ParquetRowGroups> {
    const info = await stat(path).catch(() => null);
    if (!info) throw new Error(`${path}: no such file`);
    let file: parquet.ParquetFile;
    try {
      file = await parquet.ParquetFile.fromFile(await openAsBlob(path));
    } catch (err) {
      throw new Error(`${path}: cannot read Parquet: ${(err as Error).message ?? String(err)}`);
    }
    const meta = file.metadata();
    const rows = meta.rowGroups().map((g) => g.numRows());
    return new ParquetRowGroups(file, path, rows);
  }

  /** Whether the file has a column of this name. */
  hasColumn(name: string): boolean {
    const schema = this.file.schema();
    try {
      return schema.indexOf(name) >= 0;
    } catch {
      return false;
    } finally {
      schema.free();
    }
  }

  get numRows(): number {
    return this.rowGroupRows.reduce((a, b) => a + b, 0);
  }

  /** Row group `index` (only `columns`), copied out of wasm memory. */
  async read(index: number, columns?: string[]): Promise<arrow.Table> {
    let wasmTable: parquet.Table;
    try {
      wasmTable = await this.file.read({ rowGroups: [index], batchSize: 65_536, ...(columns ? { columns } : {}) });
    } catch (err) {
      throw new Error(`${this.path}: cannot read row group ${index}: ${(err as Error).message ?? String(err)}`);
    }
    const ffi = wasmTable.intoFFI();
    try {
      return parseTable(parquet.wasmMemory().buffer, ffi.arrayAddrs(), ffi.schemaAddr(), true);
    } finally {
      ffi.free();
    }
  }

  close(): void {
    this.file.free();
  }
}

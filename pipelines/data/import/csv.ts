// RFC 4180 CSV (quoted fields with "" escapes and embedded newlines; any one-character delimiter).
// Rows come with the line number where they start, for error messages. CsvParser takes the text in
// chunks (a file streamed in pieces): a row, a quoted field, a "" escape or a CRLF may span two chunks.

export interface CsvRow {
  fields: string[];
  line: number;
}

export class CsvParser {
  private fields: string[] = [];
  private field = '';
  private quoted = false;
  private line = 1;
  private rowLine = 1;
  private fieldStarted = false;
  /** A last character whose meaning depends on the next one (a quote, or CR), kept for the next chunk. */
  private carry = '';
  private rows: CsvRow[] = [];

  constructor(private readonly delimiter = ',') {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n') {
      throw new Error(`CSV delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
    }
  }

  /** Parses the next chunk of text; returns the rows completed by it. */
  push(chunk: string): CsvRow[] {
    const text = this.carry + chunk;
    this.carry = '';
    this.scan(text, false);
    return this.take();
  }

  /** The end of the input: the rows still open. */
  end(): CsvRow[] {
    const text = this.carry;
    this.carry = '';
    this.scan(text, true);
    if (this.quoted) throw new Error(`unterminated quoted field starting on line ${this.rowLine}`);
    if (this.field !== '' || this.fields.length > 0 || this.fieldStarted) this.endRow();
    return this.take();
  }

  private take(): CsvRow[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  private endRow(): void {
    this.fields.push(this.field);
    if (!(this.fields.length === 1 && this.fields[0] === '' && !this.fieldStarted)) this.rows.push({ fields: this.fields, line: this.rowLine });
    this.fields = [];
    this.field = '';
    this.fieldStarted = false;
  }

  /** Scans `text`; unless `final`, a quote or CR as its last character waits for the next chunk. */
  private scan(text: string, final: boolean): void {
    const delimiter = this.delimiter;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (!final && i === text.length - 1 && (c === '\r' || (c === '"' && this.quoted))) {
        this.carry = c;
        return;
      }
      if (this.quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') { this.field += '"'; i++; } else this.quoted = false;
        } else {
          if (c === '\n') this.line++;
          this.field += c;
        }
      } else if (c === '"' && this.field === '') {
        this.quoted = true;
        this.fieldStarted = true;
      } else if (c === delimiter) {
        this.fields.push(this.field);
        this.field = '';
        this.fieldStarted = true;
      } else if (c === '\n' || c === '\r') {
        if (c === '\r' && text[i + 1] === '\n') i++;
        this.endRow();
        this.line++;
        this.rowLine = this.line;
      } else {
        this.field += c;
        this.fieldStarted = true;
      }
    }
  }
}

/** A whole CSV text as rows. */
export function parseCsv(text: string, delimiter = ','): CsvRow[] {
  const parser = new CsvParser(delimiter);
  return [...parser.push(text), ...parser.end()];
}

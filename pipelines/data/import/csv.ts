// RFC 4180 CSV (quoted fields with "" escapes and embedded newlines; any one-character delimiter).
// Rows come with the line number where they start, for error messages.

export interface CsvRow {
  fields: string[];
  line: number;
}

export function parseCsv(text: string, delimiter = ','): CsvRow[] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n') {
    throw new Error(`CSV delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let fieldStarted = false;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) rows.push({ fields, line: rowLine });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new Error(`unterminated quoted field starting on line ${rowLine}`);
  if (field !== '' || fields.length > 0 || fieldStarted) endRow();
  return rows;
}

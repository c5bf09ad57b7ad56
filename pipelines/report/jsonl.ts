// The trainer's JSONL metrics as rows: blank lines and a line cut by a kill are skipped (the rest of the log is
// still useful).
export function jsonlRows(text: string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by a kill
    }
  }
  return rows;
}

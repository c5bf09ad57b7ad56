// Bad input during an import: by default the first bad row stops the import with a message naming the
// file, line and value; with --skip-invalid the row is skipped and counted by reason (manifest.skipped).

export type SkipReason = 'unparsable line' | 'unknown item' | 'empty history' | 'duplicate user' | 'duplicate item' | 'bad value';

export class InputIssues {
  readonly skipped: Record<string, number> = {};
  private readonly examples: Record<string, string> = {};

  constructor(readonly skipInvalid: boolean) {}

  /** Reports a bad row at `where` (e.g. "u.data:17"): throws, or counts it when skipping. */
  reject(reason: SkipReason, where: string, message: string): void {
    const text = `${where}: ${message}`;
    if (!this.skipInvalid) throw new Error(`${text} (use --skip-invalid to skip such rows)`);
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    this.examples[reason] ??= text;
  }

  /** Reports `count` bad rows of one reason found at once (in the engine), `where` being the first. */
  rejectMany(reason: SkipReason, count: number, where: string, message: string): void {
    if (count <= 0) return;
    this.reject(reason, where, message);
    this.skipped[reason] += count - 1;
  }

  /** One line per reason with a first example, for the import summary. */
  summary(): string[] {
    return Object.entries(this.skipped).map(([reason, n]) => `skipped ${n} x ${reason} (first: ${this.examples[reason]})`);
  }
}

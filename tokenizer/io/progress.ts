// Progress for long work: a live bar on a TTY (steps, rate, ETA, extra fields such as loss), and
// quiet, periodic one-line logs elsewhere (CI, files, pipes). Lives in the lowest layer: every stage uses it.

export interface ProgressOptions {
  /** What is being done, e.g. "train" or "kmeans level 2". */
  label: string;
  /** Total steps, when known. */
  total?: number;
  /** Unit of a step for the rate, e.g. "step", "item", "user". */
  unit?: string;
  /** Where to write (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Seconds between log lines when not on a TTY (default 10; SEMID_LOG_INTERVAL). */
  logIntervalS?: number;
  /** Print nothing at all (SEMID_QUIET=1 also silences). */
  silent?: boolean;
  /** Steps already done before this process started (a resumed run): left out of the rate and ETA. */
  initial?: number;
  /** Clock in milliseconds (default `performance.now`); tests pass a fake one. */
  now?: () => number;
}

export type ProgressFields = Record<string, number | string>;

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

function formatFields(fields: ProgressFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 1000 || Number.isInteger(v) ? v.toFixed(0) : v.toPrecision(4)) : v}`)
    .join('  ');
}

export class Progress {
  private readonly now: () => number;
  private readonly start: number;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly silent: boolean;
  private readonly logIntervalMs: number;
  private lastDraw = 0;
  private lastLog: number;
  private done = 0;
  private fields: ProgressFields = {};

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
    this.silent = Boolean(options.silent) || process.env.SEMID_QUIET === '1';
    this.logIntervalMs = 1000 * (options.logIntervalS ?? Number(process.env.SEMID_LOG_INTERVAL ?? 10));
    this.lastLog = this.start;
  }

  /** Sets the absolute number of steps done and any fields to show (loss, lr...). */
  update(done: number, fields?: ProgressFields): void {
    this.done = done;
    if (fields) this.fields = { ...this.fields, ...fields };
    if (this.silent) return;
    const now = this.now();
    if (this.tty) {
      if (now - this.lastDraw < 100 && done !== this.options.total) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[K${this.line(now)}`);
    } else if (now - this.lastLog >= this.logIntervalMs) {
      this.lastLog = now;
      this.stream.write(`${this.line(now)}\n`);
    }
  }

  /** Advances by `n` steps. */
  tick(n = 1, fields?: ProgressFields): void {
    this.update(this.done + n, fields);
  }

  /** Ends the bar with a final summary line; returns elapsed seconds. */
  finish(fields?: ProgressFields): number {
    if (fields) this.fields = { ...this.fields, ...fields };
    const now = this.now();
    const elapsed = (now - this.start) / 1000;
    if (!this.silent) {
      const text = `${this.options.label}: done ${this.done}${this.options.unit ? ` ${this.options.unit}s` : ''} in ${formatDuration(elapsed)}${Object.keys(this.fields).length ? `  ${formatFields(this.fields)}` : ''}`;
      this.stream.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
    }
    return elapsed;
  }

  /** Writes a message line without breaking the bar. */
  log(message: string): void {
    if (this.silent) return;
    this.stream.write(this.tty ? `\r\x1b[K${message}\n` : `${message}\n`);
  }

  private line(now: number): string {
    const elapsed = (now - this.start) / 1000;
    const rate = Math.max(0, this.done - (this.options.initial ?? 0)) / Math.max(elapsed, 1e-9);
    const unit = this.options.unit ?? 'step';
    const total = this.options.total;
    const parts = [this.options.label];
    if (total) {
      const frac = Math.min(1, this.done / total);
      const width = 20;
      const filled = Math.round(frac * width);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${total}`);
    } else {
      parts.push(`${this.done}`);
    }
    parts.push(`${rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3)} ${unit}/s`);
    if (Object.keys(this.fields).length) parts.push(formatFields(this.fields));
    parts.push(total ? `ETA ${formatDuration((total - this.done) / Math.max(rate, 1e-9))}` : `${formatDuration(elapsed)}`);
    return parts.join('  ');
  }
}

// Preloaded (`node --import ./bench/peakOnExit.mjs ...`) into a command the bench runs as a user would: on exit it
// prints the process's peak RSS (VmHWM: node and native code such as DuckDB) as a last stderr line,
// "semid-peak-rss-kb N" (stderr to a pipe is written synchronously, so the line is there when the process ends).
import { readFileSync } from 'node:fs';

process.on('exit', () => {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m) process.stderr.write(`\nsemid-peak-rss-kb ${m[1]}\n`);
});

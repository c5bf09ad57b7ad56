// Preloaded (`node --import ./bench/peakOnExit.mjs ...`) into a command the bench runs as a user would: on exit it
// writes the process's peak RSS (VmHWM, kB: node and native code such as DuckDB) to $SEMID_PEAK_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

process.on('exit', () => {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m && process.env.SEMID_PEAK_FILE) writeFileSync(process.env.SEMID_PEAK_FILE, m[1]);
});

// Public surface of tokenizer/io/: the file, lock and progress utilities every layer uses. It imports only
// Node's built-ins (no tensor library, no tokenizer), so any folder may import it without loading tfjs.
export { writeFileAtomic, writeJsonAtomic, writeDirAtomic, replaceDir, cleanStaleTemps, syncDir, createFileAtomic } from './atomicWrite.js';
export type { AtomicFile } from './atomicWrite.js';
export { parseJson, readJsonFile, readJsonIfPresent } from './json.js';
export { acquireLock, withLock, lockPath, currentCommand } from './lock.js';
export type { LockInfo, RunLock } from './lock.js';
export {
  MARK_FILE, checkOutputDir, checkOutputFile, checkNotInput, isWithin, isBookkeeping, outputMark, readMark, writeMark, semidVersion,
} from './outputDir.js';
export type { OutputKind, OutputMark, OutputRule, OutputState } from './outputDir.js';
export { fingerprint, sha256 } from './fingerprint.js';
export { notice, processAlive, host } from './processes.js';
export { Progress } from './progress.js';
export type { ProgressOptions, ProgressFields } from './progress.js';

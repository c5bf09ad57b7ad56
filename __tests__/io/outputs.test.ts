// tokenizer/io: output marks, the input rule, run locks across processes, durable atomic writes and the cleanup of
// temporaries that dead processes left behind. The folder must not load tfjs or any tokenizer.
import { jest } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  acquireLock, checkNotInput, checkOutputDir, checkOutputFile, lockPath, outputMark, writeDirAtomic, writeFileAtomic, writeMark, host,
} from '../../tokenizer/io/index.js';

const ioDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tokenizer', 'io');

/** A pid that was running a moment ago and is not any more. */
function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
}

describe('tokenizer/io', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'semid-io-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports nothing but node built-ins and its own files (no tfjs, no tokenizer registration)', async () => {
    for (const file of (await readdir(ioDir)).filter((f) => f.endsWith('.ts'))) {
      const text = await readFile(join(ioDir, file), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) expect(`${file}: ${m[1]}`).toMatch(/: (node:[a-z/]+|\.\/[A-Za-z]+\.js)$/);
    }
  });

  it('accepts a missing, empty or own directory and refuses a foreign one, naming the path and what it holds', async () => {
    const out = join(dir, 'v');
    expect(await checkOutputDir(out, { kind: 'dataset' })).toBe('new');
    await mkdir(out);
    expect(await checkOutputDir(out, { kind: 'dataset' })).toBe('empty');
    await writeFile(join(out, 'thesis.txt'), 'x');
    await expect(checkOutputDir(out, { kind: 'dataset' })).rejects.toThrow(`--out ${out} is not empty and was not written by semid (it holds thesis.txt)`);
    await rm(join(out, 'thesis.txt'));
    await writeMark(out, outputMark('tokenizer'));
    await expect(checkOutputDir(out, { kind: 'dataset' })).rejects.toThrow(/holds a semid tokenizer \(made by ".*" at .*\), not a dataset/);
    expect(await checkOutputDir(out, { kind: 'tokenizer' })).toBe('own');
    await writeFile(join(dir, 'file'), 'x');
    await expect(checkOutputDir(join(dir, 'file'), { kind: 'model' })).rejects.toThrow(/is a file, not a directory/);
    // An unmarked directory with an older semid's files of that kind counts as its own.
    const legacy = join(dir, 'legacy');
    await mkdir(legacy);
    await writeFile(join(legacy, 'config.json'), '{}');
    expect(await checkOutputDir(legacy, { kind: 'model', signature: ['config.json'] })).toBe('own');
  });

  it('refuses an output equal to, inside or around an input', () => {
    expect(() => checkNotInput('d', { '--data': 'd' })).toThrow('--out d is the input --data d: a command never writes into its own input');
    expect(() => checkNotInput('d/tok', { '--data': 'd' })).toThrow('--out d/tok is inside the input --data d');
    expect(() => checkNotInput('.', { '--sequences': 'Beauty.txt' })).toThrow('--out . contains the input --sequences Beauty.txt');
    expect(() => checkNotInput('d2', { '--data': 'd', '--from': undefined })).not.toThrow();
  });

  it('refuses a file output that is a directory', async () => {
    await expect(checkOutputFile(dir)).rejects.toThrow(`--out ${dir} is a directory: give a file path`);
    await expect(checkOutputFile(join(dir, 'metrics.json'))).resolves.toBeUndefined();
  });

  it('a lock held by a live process is refused naming it; a dead process\'s lock is taken over with a notice', async () => {
    const target = join(dir, 'model');
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(lockPath(target), JSON.stringify({ pid: holder.pid, host: host(), startedAt: '2026-01-01T00:00:00Z', command: 'semid train --out model --seed 11' }));
      await expect(acquireLock(target)).rejects.toThrow(`${target} is in use by another semid run (pid ${holder.pid} on ${host()}, started 2026-01-01T00:00:00Z: semid train --out model --seed 11); wait for it to finish`);
    } finally {
      holder.kill('SIGKILL');
    }
    const dead = deadPid();
    await writeFile(lockPath(target), JSON.stringify({ pid: dead, host: host(), startedAt: '2026-01-01T00:00:00Z', command: 'semid train --seed 11' }));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const lock = await acquireLock(target, 'semid train --seed 12');
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(`took over the lock ${lockPath(target)} of a run that is no longer running (pid ${dead}`);
      expect(JSON.parse(await readFile(lockPath(target), 'utf8'))).toMatchObject({ pid: process.pid, host: host(), command: 'semid train --seed 12' });
      // The same process may take it again (a pipeline stage and the writer it calls); released when both let go.
      const inner = await acquireLock(target);
      await inner.release();
      await expect(readFile(lockPath(target), 'utf8')).resolves.toContain(`"pid":${process.pid}`);
      await lock.release();
      await expect(readFile(lockPath(target), 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      stderr.mockRestore();
    }
  });

  it('writes atomically and removes the temporaries of dead processes (with a notice), keeping live ones', async () => {
    const target = join(dir, 'data');
    const dead = deadPid();
    await mkdir(join(dir, `.data.${dead}.1.tmp`));
    await writeFile(join(dir, `.data.${dead}.1.tmp`, 'items.parquet'), 'half');
    await mkdir(join(dir, `.data.${process.pid}.999.tmp`));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await writeDirAtomic(target, async (tmp) => writeFileAtomic(join(tmp, 'a.txt'), 'new'));
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(`removed ${join(dir, `.data.${dead}.1.tmp`)}, left by an interrupted semid run (pid ${dead}, no longer running)`);
    } finally {
      stderr.mockRestore();
    }
    expect((await readdir(dir)).sort()).toEqual([`.data.${process.pid}.999.tmp`, 'data']);
    expect(await readFile(join(target, 'a.txt'), 'utf8')).toBe('new');
  });
});

// The lock around credential edits (src/lib/file-lock.ts): held while the edit runs, released
// after it (also when it throws), waited for while its holder lives, broken once its holder is gone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileLockError, withFileLock } from '../../src/lib/file-lock.ts';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'machi-lock-')), 'users.yaml.lock');

it('holds the lock during the edit and releases it after, also after a failure', () => {
  const lock = lockPath();
  expect(withFileLock(lock, () => existsSync(lock))).toBe(true);
  expect(existsSync(lock)).toBe(false);
  expect(() =>
    withFileLock(lock, () => {
      throw new Error('invalid edit');
    }),
  ).toThrow('invalid edit');
  expect(existsSync(lock)).toBe(false);
});

it('waits for a living holder, then gives up naming the lock', () => {
  const lock = lockPath();
  writeFileSync(lock, `${process.pid} 2026-12-06T00:00:00Z\n`);
  expect(() => withFileLock(lock, () => 'edited', 200)).toThrow(FileLockError);
  // Just created, its pid not written yet: not taken for a stale one either.
  writeFileSync(lock, '');
  expect(() => withFileLock(lock, () => 'edited', 200)).toThrow(/is held by another edit/);
});

it('breaks a lock whose holder is gone', () => {
  const lock = lockPath();
  const gone = spawnSync('node', ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(lock, `${gone.stdout} 2026-12-06T00:00:00Z\n`);
  expect(withFileLock(lock, () => 'edited', 200)).toBe('edited');
  expect(existsSync(lock)).toBe(false);
});

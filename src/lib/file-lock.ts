// A lock around a read-modify-write of a credential file, so two `machi users`/`machi devices`
// edits at once cannot both read the old file and one of them lose the other's change. The lock is
// a file created exclusively (O_EXCL) holding its owner's pid; it is stale, and broken, when that
// process is gone or it is older than any edit could take (a crashed editor must not block edits).
// Synchronous, as the edits are: they run in short CLI processes.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class FileLockError extends Error {
  readonly code = 'MACHI_ERR_FILE_LOCKED';
}

const WAIT_MS = 10_000;
const RETRY_MS = 20;
/** An edit takes milliseconds; a lock this old was left behind. */
const STALE_MS = 30_000;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's text if it was left behind by a process that is gone (or too long ago), else undefined. */
function staleText(lock: string): string | undefined {
  try {
    const text = readFileSync(lock, 'utf8');
    const old = Date.now() - statSync(lock).mtimeMs > STALE_MS;
    const pid = Number.parseInt(text, 10);
    // No pid yet: its owner is between creating and writing it.
    if (!(pid > 0)) return old ? text : undefined;
    return old || !alive(pid) ? text : undefined;
  } catch {
    return undefined; // gone meanwhile (or being written): try again
  }
}

/** Runs `fn` holding `lock` (a path beside the files it guards), waiting up to `waitMs` for it. */
export function withFileLock<T>(lock: string, fn: () => T, waitMs = WAIT_MS): T {
  const deadline = Date.now() + waitMs;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`);
      } finally {
        closeSync(fd);
      }
      try {
        return fn();
      } finally {
        rmSync(lock, { force: true });
      }
    }
    const stale = staleText(lock);
    // Read again just before removing: another waiter may have broken it and taken a new one.
    if (stale !== undefined && staleText(lock) === stale) rmSync(lock, { force: true });
    else if (Date.now() > deadline)
      throw new FileLockError(`${lock} is held by another edit (remove it if no machi edit is running)`);
    else sleep(RETRY_MS);
  }
}

// Starting, finding and stopping the stack's native processes by PID, and checking ports.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { StackError } from './errors.ts';

/** What `up` did for one service: started it, found ours running, or found someone else's. */
export type StartResult = 'started' | 'already-running' | 'external';

export interface PidRecord {
  pid: number;
  /** A string that must appear in /proc/<pid>/cmdline, so a recycled PID is never killed. */
  marker: string;
  startedAt: string;
}

export function readPid(pidFile: string): PidRecord | undefined {
  if (!existsSync(pidFile)) return undefined;
  try {
    return JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** True when the recorded process is alive and is still the program we started. */
export function isOurs(record: PidRecord | undefined): record is PidRecord {
  if (!record) return false;
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return cmdline.includes(record.marker);
  } catch {
    return false;
  }
}

export function spawnDetached(opts: {
  command: string;
  args: string[];
  logFile: string;
  pidFile: string;
  marker: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): PidRecord {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const out = openSync(opts.logFile, 'a');
  const child = spawn(opts.command, opts.args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  if (child.pid === undefined) throw new StackError('MACHI_ERR_SPAWN', `could not start ${opts.command}`);
  child.unref();
  const record: PidRecord = { pid: child.pid, marker: opts.marker, startedAt: new Date().toISOString() };
  writeFileSync(opts.pidFile, JSON.stringify(record));
  return record;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after the grace period. Returns once the process is gone. */
export async function stopProcess(pidFile: string, graceMs = 20_000): Promise<'stopped' | 'not-running'> {
  const record = readPid(pidFile);
  if (!isOurs(record)) {
    rmSync(pidFile, { force: true });
    return 'not-running';
  }
  process.kill(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(record.pid) && Date.now() < deadline) await sleep(100);
  if (alive(record.pid)) {
    process.kill(record.pid, 'SIGKILL');
    while (alive(record.pid)) await sleep(50);
  }
  rmSync(pidFile, { force: true });
  return 'stopped';
}

export async function assertPortFree(host: string, port: number, service: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
  if (free) return;
  const who = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout?.trim();
  throw new StackError(
    'MACHI_ERR_PORT_IN_USE',
    `${service} needs ${host}:${port}, but that port is already in use${who ? ` (${who})` : ''}.\n` +
      `Stop whatever listens there, or point machi elsewhere (docs/configuration.md).`,
  );
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done, { once: true });
  });
}

/** Start-up stops at its next step once `signal` has aborted (Ctrl-C); the caller stops what it spawned. */
export function throwIfInterrupted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new StackError('MACHI_ERR_START_INTERRUPTED', `start-up interrupted while ${what}`);
  }
}

/** `work`'s answer, or `fallback` as soon as `signal` aborts: a slow probe must not hold up a Ctrl-C. */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, fallback: T): Promise<T> {
  if (!signal) return work;
  let onAbort = () => {};
  const aborted = new Promise<T>((resolve) => {
    onAbort = () => resolve(fallback);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Polls `probe` until it returns true, the process dies, the time runs out or `signal` aborts. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; pid?: number; logFile?: string; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    throwIfInterrupted(opts.signal, `waiting for ${what}`);
    const ready = probe().catch(() => false);
    if (await unlessAborted(ready, opts.signal, false)) return;
    if (opts.pid !== undefined && !alive(opts.pid)) {
      throw new StackError(
        'MACHI_ERR_START_FAILED',
        `${what} exited during start-up.${logTail(opts.logFile)}`,
      );
    }
    await sleep(250, opts.signal);
  }
  throw new StackError(
    'MACHI_ERR_START_TIMEOUT',
    `${what} did not become ready within ${opts.timeoutMs / 1000} s.${logTail(opts.logFile)}`,
  );
}

export function logTail(logFile: string | undefined, lines = 15): string {
  if (!logFile || !existsSync(logFile)) return '';
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return `\nLast lines of ${logFile}:\n${tail}`;
}

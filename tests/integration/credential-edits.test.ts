// Credential files under concurrent edits (issue 21): `machi users add` run by several processes at
// the same moment loses no account (a lock around each read-modify-write), a reader meanwhile only
// ever sees a whole file (temporary file, then rename), and the new file is flushed to disk before
// it takes the real name, and its directory after (strace is the witness).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { addUser } from '../../src/users/edit.ts';
import { UsersFile } from '../../src/users/schema.ts';
import { eventually } from '../support/helpers.ts';

const run = promisify(execFile);
const ADDERS = 8;

/** Linux: is the process blocked in read(2) on its stdin (fd 0)? */
const readingStdin = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('0 0x0 ');
  } catch {
    return false;
  }
};

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; stderr: string }>((resolve) => {
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });

it(`keeps every account when ${ADDERS} \`machi users add\` processes write at once; a reader sees only whole files`, {
  timeout: 120_000,
}, async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'machi-users-race-')), 'users.yaml');
  addUser(file, 'kept', 'operator');
  // Each process waits for its password on stdin (--stdin): once all of them are blocked there,
  // every stdin is closed at the same moment, so their edits overlap as closely as they can.
  const adders = Array.from({ length: ADDERS }, (_, i) =>
    spawn(
      'node',
      ['bin/machi.js', 'users', 'add', `staff-${i}`, '--role', 'viewer', '--stdin', '--file', file],
      {
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    ),
  );
  const results = adders.map(exited);
  await eventually(
    async () => adders.every((a) => a.pid !== undefined && readingStdin(a.pid)) || undefined,
    60_000,
  );

  let reads = 0;
  const torn: string[] = [];
  let writing = true;
  const reader = (async () => {
    while (writing) {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      reads++;
      const parsed = UsersFile.safeParse(parse(text) ?? {});
      if (!parsed.success || !parsed.data.users.some((u) => u.name === 'kept')) torn.push(text);
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (const [i, a] of adders.entries()) a.stdin.end(`password-of-staff-${i}\n`);
  const outcomes = await Promise.all(results);
  writing = false;
  await reader;

  expect(outcomes.map((o) => o.stderr).filter(Boolean)).toEqual([]);
  expect(outcomes.map((o) => o.code)).toEqual(Array(ADDERS).fill(0));
  const names = UsersFile.parse(parse(readFileSync(file, 'utf8'))).users.map((u) => u.name);
  expect(names.sort()).toEqual(['kept', ...Array.from({ length: ADDERS }, (_, i) => `staff-${i}`)].sort());
  expect(reads).toBeGreaterThan(0);
  expect(torn).toEqual([]);
  expect(existsSync(`${file}.lock`)).toBe(false);
});

it('flushes the new file before the rename and the directory after it (strace)', {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'machi-users-fsync-'));
  const file = join(dir, 'users.yaml');
  const log = join(dir, 'strace.log');
  await run('strace', [
    '-f',
    '-e',
    'trace=openat,fsync,fdatasync,rename,renameat,renameat2',
    '-o',
    log,
    'node',
    'bin/machi.js',
    'users',
    'add',
    'tanaka',
    '--role',
    'operator',
    '--file',
    file,
  ]);
  const lines = readFileSync(log, 'utf8').split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const tempOpen = at(new RegExp(`openat\\(AT_FDCWD, "${esc(file)}\\.[0-9a-f]+\\.tmp".* = \\d+$`));
  expect(tempOpen, 'the temporary file is opened').toBeGreaterThan(-1);
  const temp = /"([^"]+\.tmp)"/.exec(lines[tempOpen] ?? '')?.[1] ?? '';
  const tempFd = /= (\d+)$/.exec(lines[tempOpen] ?? '')?.[1];
  const renamed = at(new RegExp(`rename(at2?)?\\(.*"${esc(temp)}".*"${esc(file)}"`));
  expect(renamed, 'the temporary file is renamed onto the real one').toBeGreaterThan(tempOpen);
  const tempSynced = lines.findIndex(
    (l, i) => i > tempOpen && i < renamed && new RegExp(`f(data)?sync\\(${tempFd}\\)`).test(l),
  );
  expect(tempSynced, 'the data is flushed before the rename').toBeGreaterThan(tempOpen);
  const dirOpen = lines.findIndex(
    (l, i) => i > renamed && new RegExp(`openat\\(AT_FDCWD, "${esc(dir)}", .* = \\d+$`).test(l),
  );
  expect(dirOpen, 'the directory is opened after the rename').toBeGreaterThan(renamed);
  const dirFd = /= (\d+)$/.exec(lines[dirOpen] ?? '')?.[1];
  expect(
    lines.findIndex((l, i) => i > dirOpen && new RegExp(`f(data)?sync\\(${dirFd}\\)`).test(l)),
    'and flushed',
  ).toBeGreaterThan(dirOpen);
});

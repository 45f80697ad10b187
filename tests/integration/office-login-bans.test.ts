// Failure budgets for the office's HTTP logins (issue 21), with curl as the witness against the real
// office API (web component, real broker and Kafka): bad logins from one address ban that address
// (429 with Retry-After, even for the right password), other addresses stay in; bad logins for one
// name ban that name, except from an address it logged in from before. All traffic on 127.0.0.0/8.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addUser } from '../../src/users/edit.ts';
import { webComponent } from '../../src/web/component.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const run = promisify(execFile);
const usersFile = join(mkdtempSync(join(tmpdir(), 'machi-login-bans-')), 'users.yaml');
const password = addUser(usersFile, 'tanaka', 'viewer');
const BAN_S = 60;

let h: BrokerHarness;
beforeAll(async () => {
  h = await startBroker(
    {
      MACHI_USERS_FILE: usersFile,
      MACHI_HTTP_BAN_IP_FAILURES: '5',
      MACHI_HTTP_BAN_USER_FAILURES: '3',
      MACHI_HTTP_BAN_S: String(BAN_S),
    },
    [webComponent],
  );
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

/** curl from `from` (a loopback source address) to the office API: status and Retry-After. */
async function officeGet(from: string, user: string, pass: string) {
  const { stdout } = await run('curl', [
    '-sS',
    '--interface',
    from,
    '-u',
    `${user}:${pass}`,
    '-H',
    'x-machi-office: 1',
    '-D',
    '-',
    '-o',
    '/dev/null',
    `${h.httpUrl}/api/office/sensors/fs-takeo-004/series?hours=1`,
  ]);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(stdout)?.[1]);
  const retryAfter = /^retry-after: (\d+)/im.exec(stdout)?.[1];
  return { status, retryAfter: retryAfter === undefined ? undefined : Number(retryAfter) };
}

it('bans an address after its budget of bad logins, and never another address', async () => {
  expect((await officeGet('127.0.0.2', 'tanaka', password)).status).toBe(200);
  for (let i = 0; i < 5; i++)
    expect((await officeGet('127.0.0.1', `guess-${i}`, 'wrong-password')).status).toBe(401);
  // Banned: the right password does not help, and the answer says for how long.
  const banned = await officeGet('127.0.0.1', 'tanaka', password);
  expect(banned.status).toBe(429);
  expect(banned.retryAfter).toBeGreaterThan(BAN_S - 5);
  expect(banned.retryAfter).toBeLessThanOrEqual(BAN_S);
  expect((await officeGet('127.0.0.2', 'tanaka', password)).status).toBe(200);
});

it('bans a user name after its budget, except from an address it logged in from', async () => {
  for (let i = 0; i < 3; i++) expect((await officeGet('127.0.0.3', 'tanaka', `wrong-${i}`)).status).toBe(401);
  const elsewhere = await officeGet('127.0.0.4', 'tanaka', password);
  expect(elsewhere.status).toBe(429);
  expect(elsewhere.retryAfter).toBeGreaterThan(BAN_S - 5);
  // 127.0.0.2 logged in as tanaka before: the name's ban does not lock the real user out there.
  expect((await officeGet('127.0.0.2', 'tanaka', password)).status).toBe(200);
  // The user ban is the name's: another name from 127.0.0.4 is only refused for its password.
  expect((await officeGet('127.0.0.4', 'suzuki', 'wrong')).status).toBe(401);

  const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
  expect(metrics).toMatch(/machi_http_login_bans_total\{scope="ip"\} 1/);
  expect(metrics).toMatch(/machi_http_login_bans_total\{scope="user"\} 1/);
  expect(metrics).toMatch(/machi_http_login_banned_total\{scope="user"\} 1/);
});

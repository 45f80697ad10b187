// Credentials changed while machi runs (issue 21), through the commands an operator types: `machi
// users add|passwd|disable|enable|list` and `machi devices disable` run as processes, against the
// real broker and office API (real Kafka). A changed password or a disabled account or device is
// disconnected within a second of the file changing and refused afterwards; mosquitto_pub and
// mosquitto_sub are the foreign witnesses of what a reconnecting client gets (their exit code is the
// CONNACK code). The users folder does not exist when the broker starts (the first `users add`
// creates it), and the registry folder is replaced by a copy: both must still be followed. And a
// `machi broker` process reloads on SIGHUP and applies a registry file replaced by hand.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { eventually, freePort, uniqueName } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const CONNACK_BAD_LOGIN = 4;

/** `machi ...` as its own process; `stdin` is what --stdin reads. */
function machi(args: string[], stdin = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('node', ['bin/machi.js', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A foreign MQTT client's exit code: 0 for a login accepted, else the CONNACK code it got. */
function mosquitto(
  tool: 'mosquitto_pub' | 'mosquitto_sub',
  port: number,
  user: string,
  password: string,
  more: string[],
) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const id = `${user.replace('/', '-')}-w${Math.random().toString(16).slice(2, 8)}`;
    execFile(
      tool,
      ['-h', '127.0.0.1', '-p', String(port), '-i', id, '-u', user, '-P', password, ...more],
      { timeout: 15_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr }),
    );
  });
}

/** When `file` is next replaced (the rename that makes an edit visible), by the clock of this process. */
function nextReplacement(file: string) {
  let at: number | undefined;
  const watcher = watch(dirname(file), (_event, name) => {
    if (name === basename(file)) at ??= Date.now();
  });
  return {
    at: () => {
      watcher.close();
      if (at === undefined) throw new Error(`${file} was not replaced`);
      return at;
    },
  };
}

/** When `client` is disconnected (Infinity if it is still connected 20 s on). */
const closedAt = (client: MqttClient) =>
  new Promise<number>((resolve) => {
    if (client.disconnected) resolve(Date.now());
    client.once('close', () => resolve(Date.now()));
    setTimeout(() => resolve(Number.POSITIVE_INFINITY), 20_000);
  });

describe('machi users and machi devices against a running broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'machi-lifecycle-'));
  const devicesDir = join(dir, 'devices');
  const usersFile = join(dir, 'users', 'users.yaml');
  cpSync('devices', devicesDir, { recursive: true });
  let h: BrokerHarness;
  let port = 0;

  beforeAll(async () => {
    h = await startBroker({ MACHI_DEVICES_DIR: devicesDir, MACHI_USERS_FILE: usersFile }, [webComponent]);
    port = Number(new URL(h.mqttUrl).port);
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  });

  /** The office's HTTP login, as the console makes it: the status code. */
  const officeLogin = async (user: string, password: string) =>
    (
      await fetch(`${h.httpUrl}/api/office/sensors/fs-takeo-004/series?hours=1`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
          'x-machi-office': '1',
        },
      })
    ).status;
  /** The office's MQTT login, by mosquitto_sub: 0 once subscribed, else the CONNACK code. */
  const officeMqtt = async (user: string, password: string) =>
    (
      await mosquitto('mosquitto_sub', port, `office/${user}`, password, [
        '-t',
        topics.alertsActive('+'),
        '-E',
      ])
    ).code;

  it('users add, list, passwd, disable and enable: the office logins follow at once', {
    timeout: 120_000,
  }, async () => {
    const first = 'first-password-of-tanaka';
    const added = await machi(
      ['users', 'add', 'tanaka', '--role', 'operator', '--stdin', '--file', usersFile],
      `${first}\n`,
    );
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).not.toContain(first);
    await eventually(async () => ((await officeLogin('tanaka', first)) === 200 ? true : undefined), 5000);
    expect(await officeMqtt('tanaka', first)).toBe(0);
    const listed = await machi(['users', 'list', '--file', usersFile]);
    expect(listed.stdout).toContain('tanaka\toperator\tfalse');

    // passwd: the console's open session ends, the old password is refused, the new one works.
    const session = await h.connect('office/tanaka', first);
    const sessionClosed = closedAt(session);
    const replaced = nextReplacement(usersFile);
    const changed = await machi(['users', 'passwd', 'tanaka', '--file', usersFile]);
    expect(changed.code).toBe(0);
    const second = /password \(shown once[^)]*\): (\S+)/.exec(changed.stdout)?.[1] ?? '';
    expect(second).not.toBe('');
    expect((await sessionClosed) - replaced.at()).toBeLessThan(1000);
    expect(await officeLogin('tanaka', first)).toBe(401);
    expect(await officeMqtt('tanaka', first)).toBe(CONNACK_BAD_LOGIN);
    expect(await officeLogin('tanaka', second)).toBe(200);
    expect(await officeMqtt('tanaka', second)).toBe(0);

    // disable: a connected office user is disconnected, then refused on both doors.
    const connected = await h.connect('office/tanaka', second);
    const connectedClosed = closedAt(connected);
    const disabling = nextReplacement(usersFile);
    expect((await machi(['users', 'disable', 'tanaka', '--file', usersFile])).code).toBe(0);
    expect((await connectedClosed) - disabling.at()).toBeLessThan(1000);
    expect(await officeLogin('tanaka', second)).toBe(401);
    expect(await officeMqtt('tanaka', second)).toBe(CONNACK_BAD_LOGIN);
    expect((await machi(['users', 'list', '--file', usersFile])).stdout).toContain('tanaka\toperator\ttrue');

    expect((await machi(['users', 'enable', 'tanaka', '--file', usersFile])).code).toBe(0);
    // Each door reloads the file on its own watcher: either may be first.
    await eventually(async () => ((await officeLogin('tanaka', second)) === 200 ? true : undefined), 5000);
    await eventually(async () => ((await officeMqtt('tanaka', second)) === 0 ? true : undefined), 5000);
  });

  it('machi devices disable: the connected device is gone within a second and refused after, also in a replaced registry folder', {
    timeout: 60_000,
  }, async () => {
    const id = 'fs-takeo-003';
    const reading = [
      '-t',
      topics.floodReading(id),
      '-q',
      '1',
      '-m',
      JSON.stringify({ time: new Date().toISOString(), seq: 1, wet: false }),
    ];
    expect((await mosquitto('mosquitto_pub', port, id, demoSecret(id), reading)).code).toBe(0);
    // The registry folder replaced by a copy (as a deployment may): the broker watches the new one.
    cpSync(devicesDir, `${devicesDir}.new`, { recursive: true });
    renameSync(devicesDir, `${devicesDir}.old`);
    renameSync(`${devicesDir}.new`, devicesDir);
    await new Promise((r) => setTimeout(r, 500));
    const device = await h.device(id);
    const gone = closedAt(device);
    const replaced = nextReplacement(join(devicesDir, 'flood-sensors.yaml'));
    const disabled = await machi(['devices', 'disable', id, '--dir', devicesDir]);
    expect(disabled).toMatchObject({ code: 0, stderr: '' });
    expect((await gone) - replaced.at()).toBeLessThan(1000);
    const again = await mosquitto('mosquitto_pub', port, id, demoSecret(id), reading);
    expect(again.code).toBe(CONNACK_BAD_LOGIN);
    expect(again.stderr).toMatch(/Connection Refused/);
  });
});

describe('a `machi broker` process and SIGHUP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'machi-sighup-'));
  const devicesDir = join(dir, 'devices');
  cpSync('devices', devicesDir, { recursive: true });
  let broker: ChildProcess | undefined;
  let reloads = 0;
  afterAll(() => {
    if (broker && broker.exitCode === null && broker.signalCode === null) broker.kill('SIGKILL');
  });

  it('reloads on SIGHUP, and applies a registry file replaced by hand', { timeout: 120_000 }, async () => {
    const port = await freePort();
    broker = spawn('node', ['bin/machi.js', 'broker'], {
      env: {
        ...process.env,
        MQTT_PORT: String(port),
        HTTP_PORT: String(await freePort()),
        KAFKA_TOPIC_PREFIX: uniqueName('sighup'),
        MACHI_DEVICES_DIR: devicesDir,
        MACHI_USERS_FILE: join(dir, 'users.yaml'),
        MACHI_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    broker.stdout?.on('data', (d: Buffer) => {
      reloads += String(d)
        .split('\n')
        .filter((l) => l.includes('"credentials reloaded"')).length;
    });
    const id = 'fs-takeo-005';
    const device = await eventually(
      () =>
        mqtt
          .connectAsync(`mqtt://127.0.0.1:${port}`, {
            clientId: `${id}-sighup`,
            username: id,
            password: demoSecret(id),
            reconnectPeriod: 0,
          })
          .catch(() => undefined),
      60_000,
    );

    // Nothing changed: SIGHUP alone reloads (and does not stop the broker).
    expect(reloads).toBe(0);
    broker.kill('SIGHUP');
    await eventually(async () => (reloads === 1 ? true : undefined), 5000);
    expect(device.connected).toBe(true);

    // An operator's own edit: the file rewritten beside it and moved into place, then SIGHUP.
    const file = join(devicesDir, 'flood-sensors.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(`  - id: ${id}\n`);
    writeFileSync(`${file}.new`, text.replace(`  - id: ${id}\n`, `  - id: ${id}\n    disabled: true\n`));
    const gone = closedAt(device);
    renameSync(`${file}.new`, file);
    const edited = Date.now();
    broker.kill('SIGHUP');
    expect((await gone) - edited).toBeLessThan(1000);
    const reading = ['-t', topics.floodReading(id), '-q', '1', '-m', '{}'];
    expect((await mosquitto('mosquitto_pub', port, id, demoSecret(id), reading)).code).toBe(
      CONNACK_BAD_LOGIN,
    );
    expect(broker.exitCode).toBe(null);
  });
});

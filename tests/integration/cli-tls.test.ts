// The CLI's stand-in devices (issue 21) against a broker with plaintext MQTT off: `machi simulate`,
// `machi replay` (MQTT.js) and `machi load --client lean` (the lean publisher) reach it over TLS
// through MQTT_URL and MQTT_CA, as machi's services do, and their readings arrive in Kafka.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';
import { issue, selfSigned } from './test-certs.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'machi-cli-tls-'));
const ca = selfSigned(dir, 'ca', 'machi test CA');
const server = issue(dir, ca, 'server', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost');

let h: BrokerHarness;
let readings: Awaited<ReturnType<typeof collectTopic>>;
const arrived = () => readings.records.map((r) => ReadingRecord.parse(JSON.parse(r.value)));

beforeAll(async () => {
  h = await startBroker({
    MQTT_PLAINTEXT: 'false',
    MQTT_TLS_PORT: '0',
    MQTT_TLS_CERT: server.pem,
    MQTT_TLS_KEY: server.key,
  });
  readings = await collectTopic(testKafka(), h.topics.readings.flood);
}, 60_000);
afterAll(async () => {
  await readings?.stop();
  await h?.stop();
});

/** `machi <args>` with the broker's TLS URL and CA; its exit code 0 or a thrown failure. */
const machi = (...args: string[]) =>
  run('node', ['bin/machi.js', ...args], {
    timeout: 90_000,
    env: {
      ...process.env,
      MACHI_MODE: 'demo',
      MACHI_LOG_LEVEL: 'warn',
      MQTT_URL: `mqtts://127.0.0.1:${h.broker.ports.tls}`,
      MQTT_CA: ca.pem,
    },
  });

it('replays a recording over TLS', async () => {
  const recording = join(dir, 'recording.ndjson');
  const payload = JSON.stringify({ time: new Date().toISOString(), seq: 8101, wet: false });
  const line = {
    time: new Date().toISOString(),
    topic: topics.floodReading('fs-takeo-004'),
    qos: 1,
    payload: Buffer.from(payload).toString('base64'),
  };
  writeFileSync(recording, `${JSON.stringify(line)}\n`);
  const { stdout } = await machi('replay', recording, '--speed', '100');
  expect(stdout).toContain('sent 1, acknowledged 1, failed 0');
  await eventually(
    async () =>
      arrived().some((r) => r.reading.deviceId === 'fs-takeo-004' && r.reading.seq === 8101) || undefined,
  );
}, 120_000);

it('simulates a scenario over TLS', async () => {
  const before = readings.records.length;
  const { stdout } = await machi('simulate', 'normal-day', '--speed', '0', '--duration', '3');
  const [, sent, acknowledged] = /sent (\d+), acknowledged (\d+), failed 0/.exec(stdout) ?? [];
  expect(Number(sent)).toBeGreaterThan(0);
  expect(acknowledged).toBe(sent);
  await eventually(async () => readings.records.length > before || undefined);
}, 120_000);

it('loads with the lean publisher over TLS', async () => {
  const { stdout } = await machi(
    'load',
    '--devices',
    '2',
    '--rate',
    '20',
    '--duration',
    '2',
    '--client',
    'lean',
  );
  const result = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { acknowledged: number; failed: number };
  expect(result.failed).toBe(0);
  expect(result.acknowledged).toBeGreaterThan(10);
}, 120_000);

it('records over TLS', async () => {
  const out = join(dir, 'recorded.ndjson');
  const recorder = machi('record', '--out', out, '--duration', '8');
  // Once the recorder listens, a replayed reading passes the broker and lands in its file.
  await eventually(async () => {
    try {
      await machi('replay', join(dir, 'recording.ndjson'), '--speed', '100');
    } catch {
      return undefined;
    }
    return existsSync(out) && readFileSync(out, 'utf8').includes(topics.floodReading('fs-takeo-004'))
      ? true
      : undefined;
  }, 30_000);
  const { stdout } = await recorder;
  expect(stdout).toMatch(/recorded [1-9]\d* messages/);
}, 120_000);

// MQTT over TLS with a certificate from config, and QoS 0 readings validated like QoS 1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { demoSecret } from '../../src/registry/secrets.ts';
import { DeadLetter } from '../../src/schemas/dead-letter.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

let h: BrokerHarness | undefined;
afterAll(async () => h?.stop());

it('serves MQTT over TLS and validates QoS 0 readings the same way', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'machi-tls-'));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  h = await startBroker({ MQTT_TLS_PORT: '0', MQTT_TLS_CERT: cert, MQTT_TLS_KEY: key });
  const kafka = testKafka();
  const readings = await collectTopic(kafka, h.topics.readings.flood);
  const letters = await collectTopic(kafka, h.topics.deadLetter);

  const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${h.broker.ports.tls}`, {
    username: 'fs-takeo-001',
    password: demoSecret('fs-takeo-001'),
    clientId: 'fs-takeo-001-tls',
    rejectUnauthorized: false,
    reconnectPeriod: 0,
  });
  await client.publishAsync(
    topics.floodReading('fs-takeo-001'),
    JSON.stringify({ time: new Date().toISOString(), seq: 31337, wet: true }),
    { qos: 1 },
  );
  await client.publishAsync(
    topics.floodReading('fs-takeo-001'),
    JSON.stringify({ time: new Date().toISOString(), seq: 31338, wet: false }),
    { qos: 0 },
  );
  await client.publishAsync(
    topics.floodReading('fs-takeo-001'),
    JSON.stringify({ time: new Date().toISOString(), seq: 'bad', wet: false }),
    { qos: 0 },
  );
  await client.endAsync();

  const seqs = await eventually(async () => {
    const s = readings.records.map((r) => ReadingRecord.parse(JSON.parse(r.value)).reading.seq);
    return s.includes(31337) && s.includes(31338) ? s : undefined;
  });
  expect(seqs).toEqual(expect.arrayContaining([31337, 31338]));
  const letter = await eventually(
    async () => letters.records.map((r) => DeadLetter.parse(JSON.parse(r.value)))[0],
  );
  expect(letter.reason).toBe('SCHEMA_INVALID');
  await readings.stop();
  await letters.stop();
});

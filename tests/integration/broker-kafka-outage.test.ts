// Kafka stops while 20 devices publish QoS 1, then comes back: every message a device saw
// PUBACKed must be in Kafka. Runs against a private Kafka so the shared one is never touched.
import { Kafka, logLevel } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adapterFor } from '../../src/adapters/index.ts';
import type { Device } from '../../src/registry/schema.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually } from '../support/helpers.ts';
import { type PrivateService, startPrivateKafka } from '../support/private-stack.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const KAFKA_PORT = 19092;
let kafka: PrivateService;
let h: BrokerHarness;

beforeAll(async () => {
  kafka = await startPrivateKafka(KAFKA_PORT);
  h = await startBroker({ KAFKA_BROKERS: kafka.address, MACHI_HANDOFF_HOLD_MS: '4000' });
}, 180_000);

afterAll(async () => {
  await kafka?.dispose();
  await h?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('loses nothing that was acknowledged while Kafka was down', { timeout: 180_000 }, async () => {
  const devices = [...h.broker.registry.devices.values()]
    .filter((d) => d.kind === 'flood-sensor')
    .slice(0, 20);
  const ids = devices.map((d) => d.id);
  expect(ids).toHaveLength(20);
  const clients: MqttClient[] = await Promise.all(
    ids.map((id) => h.device(id, { reconnectPeriod: 500, clean: false, clientId: `outage-${id}` })),
  );
  const acked = new Set<string>();
  const ackTimes: number[] = [];
  const outstanding: Promise<unknown>[] = [];
  let publishing = true;
  let sent = 0;
  const loops = clients.map(async (client, i) => {
    const id = ids[i] as string;
    for (let seq = 0; publishing && seq < 400; seq++) {
      const device = devices[i] as Device;
      // Every vendor format takes part, each device in its own.
      const payload = adapterFor(device.vendor)?.encode(
        { kind: 'flood', deviceId: id, time: new Date().toISOString(), seq, wet: seq % 2 === 0 },
        device,
      );
      sent++;
      outstanding.push(
        client.publishAsync(topics.floodReading(id), payload ?? '', { qos: 1 }).then(
          () => {
            acked.add(`${id}#${seq}`);
            ackTimes.push(Date.now());
          },
          () => {},
        ),
      );
      await sleep(100);
    }
  });

  await sleep(2500);
  const ackedBeforeOutage = acked.size;
  await kafka.stop();
  const stoppedAt = Date.now();
  await sleep(8000);
  const restartAt = Date.now();
  // With Kafka down, nothing may be acknowledged: no record could have been stored.
  const ackedDuringOutage = ackTimes.filter((t) => t > stoppedAt && t < restartAt).length;
  await kafka.start();
  await sleep(4000);
  publishing = false;
  await Promise.all(loops);
  // Give held and resent messages time to be acknowledged, then stop waiting.
  await Promise.race([Promise.all(outstanding), sleep(30_000)]);

  const consumerKafka = new Kafka({
    clientId: 'outage-check',
    brokers: [kafka.address],
    logLevel: logLevel.NOTHING,
  });
  const flood = await collectTopic(consumerKafka, h.topics.readings.flood);
  const inKafka = await eventually(async () => {
    const keys = new Set(
      flood.records
        .map((r) => ReadingRecord.parse(JSON.parse(r.value)))
        .map((r) => `${r.reading.deviceId}#${r.reading.seq}`),
    );
    return [...acked].every((k) => keys.has(k)) ? keys : undefined;
  }, 30_000).catch(
    () =>
      new Set<string>(
        flood.records.map((r) => {
          const rec = ReadingRecord.parse(JSON.parse(r.value));
          return `${rec.reading.deviceId}#${rec.reading.seq}`;
        }),
      ),
  );
  await flood.stop();

  const lost = [...acked].filter((k) => !inKafka.has(k));
  console.log(
    `outage test: sent ${sent}, acknowledged ${acked.size} (${ackedDuringOutage} while Kafka was down), in Kafka ${inKafka.size}, lost ${lost.length}`,
  );
  expect(ackedBeforeOutage).toBeGreaterThan(100);
  expect(acked.size).toBeGreaterThan(ackedBeforeOutage);
  expect(ackedDuringOutage).toBe(0);
  expect(lost).toEqual([]);
});

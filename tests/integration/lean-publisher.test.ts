// The bench's lean MQTT publisher against the real broker and Kafka: it authenticates like any
// device, every QoS 1 publish it counts as acknowledged is in Kafka, and a refused CONNECT says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSecret } from '../../src/registry/secrets.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { LeanPublisher } from '../../src/simulators/lean-publisher.ts';
import { runLoad } from '../../src/simulators/load.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const kafka = testKafka();
let h: BrokerHarness;
let flood: Awaited<ReturnType<typeof collectTopic>>;

beforeAll(async () => {
  h = await startBroker();
  flood = await collectTopic(kafka, h.topics.readings.flood);
});

afterAll(async () => {
  await flood?.stop();
  await h?.stop();
});

describe('lean publisher', () => {
  it('publishes at a fixed rate from two devices, every acknowledged reading in Kafka', async () => {
    const ids = ['fs-takeo-001', 'fs-takeo-004'];
    const result = await runLoad({
      url: h.mqttUrl,
      deviceIds: ids,
      secret: demoSecret,
      rate: 200,
      durationS: 2,
      client: 'lean',
    });
    expect(result.failed).toBe(0);
    expect(result.unsent).toBe(0);
    expect(result.acknowledged).toBe(result.sent);
    expect(result.acknowledged).toBeGreaterThanOrEqual(390);
    const inKafka = await eventually(async () => {
      const mine = flood.records
        .map((r) => ReadingRecord.parse(JSON.parse(r.value)).reading)
        .filter((r) => ids.includes(r.deviceId));
      return mine.length >= result.acknowledged ? mine : undefined;
    });
    // Each device's seqs 0..n-1 arrived once each.
    for (const id of ids) {
      const seqs = inKafka.filter((r) => r.deviceId === id).map((r) => r.seq ?? -1);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(Math.max(...seqs)).toBe(seqs.length - 1);
    }
  });

  it('rejects a wrong secret with the CONNACK return code', async () => {
    const url = new URL(h.mqttUrl);
    await expect(
      LeanPublisher.open({
        host: url.hostname,
        port: Number(url.port),
        clientId: 'lean-wrong',
        username: 'fs-takeo-001',
        password: 'wrong-secret',
        connectTimeoutMs: 5000,
      }),
    ).rejects.toThrow(/return code 4/);
  });
});

// A point InfluxDB refuses as invalid (a field type conflict) is dead-lettered with INFLUX_REJECTED;
// the rest of its batch is written and the worker carries on.
import { InfluxDB } from '@influxdata/influxdb-client';
import { afterAll, expect, it } from 'vitest';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { DeadLetter } from '../../src/schemas/dead-letter.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type PrivateService, startPrivateInflux } from '../support/private-stack.ts';
import {
  countFlood,
  floodRecords,
  produce,
  startWorker,
  uniqueBase,
  workerConfig,
  workerEnv,
} from './worker-harness.ts';

let influx: PrivateService | undefined;
afterAll(async () => influx?.dispose(), 60_000);

it('dead-letters only the points InfluxDB rejects, and writes the rest', { timeout: 120_000 }, async () => {
  // A private InfluxDB: the conflicting field type would poison the shared one's shard.
  influx = await startPrivateInflux(18286);
  const base = uniqueBase();
  // `depth_cm` already exists there as a string, so the worker's float for it is refused.
  const api = new InfluxDB({ url: influx.address, token: 'x' }).getWriteApi('takeo', 'machi', 'ms');
  api.writeRecord(
    `flood,area=asahi,device=fs-asahi-001,family=contact,vendor=machi-json depth_cm="dry" ${base - 60_000}`,
  );
  await api.close();

  const env = workerEnv({ INFLUX_URL: influx.address });
  const config = workerConfig(env);
  const good = floodRecords(['fs-takeo-001', 'fs-takeo-004'], 20, base).map((r) => ({
    ...r,
    reading: { ...r.reading, depthCm: undefined },
  }));
  const bad = floodRecords(['fs-asahi-001'], 1, base + 500)[0];
  if (!bad) throw new Error('record');
  await produce(config, [...good.slice(0, 10), bad, ...good.slice(10)]);
  const letters = await collectTopic(testKafka(), kafkaTopics(config.kafka.topicPrefix).deadLetter);
  const worker = await startWorker(env);
  try {
    expect(
      await eventually(
        async () =>
          (await countFlood(['fs-takeo-001', 'fs-takeo-004'], base, 20, influx?.address)) === 20
            ? 20
            : undefined,
        60_000,
      ),
    ).toBe(20);
    const letter = await eventually(
      async () => letters.records.map((r) => DeadLetter.parse(JSON.parse(r.value)))[0],
      30_000,
    );
    expect(letter).toMatchObject({ reason: 'INFLUX_REJECTED', stage: 'worker' });
    expect(letter.detail).toMatch(/conflict|type/i);
    expect(JSON.parse(Buffer.from(letter.payloadBase64, 'base64').toString()).reading.deviceId).toBe(
      'fs-asahi-001',
    );
  } finally {
    await letters.stop();
    await worker.stop();
  }
});

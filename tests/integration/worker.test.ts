// The stream worker against real Kafka and real InfluxDB.
import { afterEach, describe, expect, it } from 'vitest';
import type { Running } from '../../src/app/run.ts';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { DeadLetter } from '../../src/schemas/dead-letter.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import {
  countFlood,
  floodRecords,
  produce,
  spawnWorker,
  startWorker,
  uniqueBase,
  workerConfig,
  workerEnv,
} from './worker-harness.ts';

const devices = ['fs-takeo-001', 'fs-takeo-002', 'fs-kitagata-001', 'fs-asahi-003'];
let running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
});

describe('stream worker', () => {
  it('writes every record exactly once, and a redelivery changes nothing', async () => {
    const env = workerEnv();
    const base = uniqueBase();
    const records = floodRecords(devices, 500, base);
    await produce(workerConfig(env), records);
    running.push(await startWorker(env));
    expect(
      await eventually(
        async () => ((await countFlood(devices, base, 500)) === 500 ? 500 : undefined),
        30_000,
      ),
    ).toBe(500);
    // Replay the same records (as after a crash or a replay): the counts stay exact.
    await produce(workerConfig(env), records);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await countFlood(devices, base, 500)).toBe(500);
  });

  it('dead-letters a poison record with its reason and carries on', async () => {
    const env = workerEnv();
    const config = workerConfig(env);
    const base = uniqueBase();
    // 900 KB of garbage: whole in a dead letter it would pass Kafka's 1 MiB limit (base64) and
    // stall the worker retrying it; the dead letter keeps its first KiB, length and hash.
    const huge = 'x'.repeat(900_000);
    await produce(config, floodRecords(devices, 10, base), [
      { key: 'fs-takeo-001', value: '{"v":1,"reading":{"kind":"flood"}}' },
      { key: 'fs-takeo-001', value: 'not json at all' },
      { key: 'fs-takeo-001', value: huge },
    ]);
    await produce(config, floodRecords(devices, 20, base).slice(10));
    const kafka = testKafka();
    const letters = await collectTopic(kafka, kafkaTopics(config.kafka.topicPrefix).deadLetter);
    running.push(await startWorker(env));
    expect(
      await eventually(async () => ((await countFlood(devices, base, 20)) === 20 ? 20 : undefined), 30_000),
    ).toBe(20);
    const parsed = await eventually(async () =>
      letters.records.length === 3
        ? letters.records.map((r) => DeadLetter.parse(JSON.parse(r.value)))
        : undefined,
    );
    await letters.stop();
    expect(parsed.map((d) => d.reason)).toEqual(['RECORD_INVALID', 'RECORD_INVALID', 'RECORD_INVALID']);
    expect(parsed[2]).toMatchObject({ payloadBytes: huge.length });
    expect(Buffer.from(parsed[2]?.payloadBase64 ?? '', 'base64').length).toBe(1024);
    expect(parsed[1]).toMatchObject({
      stage: 'worker',
      payloadBase64: Buffer.from('not json at all').toString('base64'),
    });
    expect(parsed[1]?.source?.topic).toBe(kafkaTopics(config.kafka.topicPrefix).readings.flood);
  });

  it('survives kill -9 mid-batch: after a restart every reading is there exactly once', async () => {
    const env = workerEnv({ MACHI_WORKER_BATCH_SIZE: '200' });
    const config = workerConfig(env);
    const base = uniqueBase();
    const total = 6000;
    const all = floodRecords(devices, total, base);
    const first = spawnWorker(env);
    // Records keep arriving while the worker runs, so the kill lands in the middle of the stream.
    const producing = (async () => {
      for (let i = 0; i < total; i += 200) {
        await produce(config, all.slice(i, i + 200));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await eventually(async () => ((await countFlood(devices, base, total)) > 0 ? true : undefined), 60_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const partial = await countFlood(devices, base, total);
    await producing;
    const second = spawnWorker(env);
    try {
      await eventually(
        async () => ((await countFlood(devices, base, total)) === total ? true : undefined),
        90_000,
      );
    } finally {
      second.kill('SIGTERM');
    }
    // The kill really landed mid-stream: some but not all readings were in InfluxDB.
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(total);
    expect(await countFlood(devices, base, total)).toBe(total);
  });

  it('shares partitions between two workers in one group; one stopping loses and duplicates nothing', async () => {
    const env = workerEnv({ MACHI_WORKER_BATCH_SIZE: '100' });
    const base = uniqueBase();
    const total = 4000;
    const all = floodRecords(devices, total, base);
    const a = await startWorker(env);
    const b = await startWorker(env);
    running.push(a);
    await produce(workerConfig(env), all.slice(0, 2000));
    await eventually(async () => ((await countFlood(devices, base, total)) > 500 ? true : undefined), 60_000);
    await b.stop();
    await produce(workerConfig(env), all.slice(2000));
    expect(
      await eventually(
        async () => ((await countFlood(devices, base, total)) === total ? total : undefined),
        90_000,
      ),
    ).toBe(total);
  });
});

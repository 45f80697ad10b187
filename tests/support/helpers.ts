// Shared by integration tests: clients for the real services and names no other run uses.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { InfluxDB } from '@influxdata/influxdb-client';
import { Kafka, logLevel } from 'kafkajs';
import { STARTUP_RETRY } from '../../src/bus/admin.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { retry } from '../../src/lib/retry.ts';

export const config: Config = loadConfig();

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka({ clientId, brokers: config.kafka.brokers, logLevel: logLevel.WARN });
}

export function testInflux(): InfluxDB {
  return new InfluxDB({ url: config.influx.url, token: config.influx.token });
}

/** Polls until `probe` returns a value or the time runs out; for effects that arrive asynchronously. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

/**
 * A promise settled from outside: how one case of a file waits for a step of a concurrent one.
 * Its rejection counts as handled: a case run alone (-t) leaves it unawaited.
 */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(reason: Error): void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** Reads a Kafka topic from the beginning into `records` until stopped. */
export async function collectTopic(
  kafka: Kafka,
  topic: string,
): Promise<{ records: Array<{ key: string; value: string }>; stop: () => Promise<void> }> {
  const records: Array<{ key: string; value: string }> = [];
  const consumer = kafka.consumer({ groupId: uniqueName('collect') });
  await consumer.connect();
  // A just-created topic may not be in Kafka's metadata yet (UNKNOWN_TOPIC_OR_PARTITION).
  await retry(() => consumer.subscribe({ topic, fromBeginning: true }), STARTUP_RETRY);
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push({ key: String(message.key), value: String(message.value) });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

/** A TCP port free right now on 127.0.0.1, for a service that must come back on the same port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

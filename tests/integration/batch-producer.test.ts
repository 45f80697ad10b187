// The hand-off's producer against the real Kafka (message.max.bytes 1 MiB): batches are bounded
// in bytes, and a record Kafka refuses for good (MESSAGE_TOO_LARGE) fails alone and at once while
// the rest of its batch goes through. Before, batches were bounded by count only and every error
// was retried until the hold time ran out, failing every record in the batch.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BatchProducer, KafkaRefusedError } from '../../src/bus/batch-producer.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { testKafka, uniqueName } from '../support/helpers.ts';

const kafka = testKafka();
const admin = kafka.admin();
const topic = uniqueName('batch-bytes');
const log = createLogger('silent');
const HOLD_MS = 20_000;
let producer: BatchProducer;

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
});
afterAll(async () => {
  await producer?.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

const record = (bytes: number, key = 'same-key') => ({ key, value: 'x'.repeat(bytes) });
const outcome = (p: Promise<void>) =>
  p.then(
    () => 'ok',
    (err: Error) => (err instanceof KafkaRefusedError ? `refused ${err.type}` : `failed ${err.message}`),
  );

it('sends 3 MiB queued for one partition in batches under the byte bound', async () => {
  producer = new BatchProducer(
    kafka,
    { batchSize: 5000, batchMs: 50, batchBytes: 900 * 1024, holdTimeoutMs: HOLD_MS },
    log,
  );
  await producer.connect();
  const started = Date.now();
  const results = await Promise.all(
    Array.from({ length: 30 }, () => outcome(producer.send(topic, record(100_000)))),
  );
  expect(results).toEqual(Array(30).fill('ok'));
  expect(Date.now() - started).toBeLessThan(HOLD_MS / 2);
});

it('fails a record Kafka refuses for good alone and fast; the rest of its batch is acknowledged', async () => {
  await producer.close();
  // A byte bound above Kafka's limit, so the oversized record shares a batch with small ones.
  producer = new BatchProducer(
    kafka,
    { batchSize: 5000, batchMs: 50, batchBytes: 64 * 1024 * 1024, holdTimeoutMs: HOLD_MS },
    log,
  );
  await producer.connect();
  const started = Date.now();
  const small = Array.from({ length: 10 }, (_, i) => outcome(producer.send(topic, record(100, `k${i}`))));
  const big = outcome(producer.send(topic, record(2 * 1024 * 1024, 'big')));
  const more = Array.from({ length: 10 }, (_, i) => outcome(producer.send(topic, record(100, `m${i}`))));
  expect(await Promise.all(small)).toEqual(Array(10).fill('ok'));
  expect(await Promise.all(more)).toEqual(Array(10).fill('ok'));
  expect(await big).toBe('refused MESSAGE_TOO_LARGE');
  // Not retried until the hold time: split down to the record at fault at once.
  expect(Date.now() - started).toBeLessThan(HOLD_MS / 2);
});

// The lease consumer of a leader never fetches its (empty) leadership topic: a fetch from the
// partition's leader after that Kafka node died crashed the consumer, kafkajs's crash left the
// group, and the standby was given the lease of a live alert engine (the storm drill, 2026-12-06).
import { Kafka, logLevel } from 'kafkajs';
import { expect, it } from 'vitest';
import { joinLease } from '../../src/bus/leadership.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { config, eventually, uniqueName } from '../support/helpers.ts';

it('a leader holds its lease without fetching the leadership topic', { timeout: 60_000 }, async () => {
  let fetches = 0;
  const kafka = new Kafka({
    clientId: uniqueName('lease'),
    brokers: config.kafka.brokers,
    logLevel: logLevel.DEBUG,
    // kafkajs logs every request it sends at debug level: count the fetches.
    logCreator: () => (entry) => {
      if (entry.log.message.startsWith('Request Fetch(')) fetches++;
    },
  });
  const topic = uniqueName('lease-topic');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  let acquired = false;
  const lease = await joinLease({
    kafka,
    groupId: uniqueName('lease-group'),
    topic,
    log: createLogger('silent'),
    onAcquired: () => {
      acquired = true;
    },
    onLost: () => {},
  });
  try {
    await eventually(async () => (acquired ? true : undefined), 30_000);
    // Several of the consumer's 500 ms fetch waits.
    await new Promise((r) => setTimeout(r, 3000));
    expect(lease.leading).toBe(true);
    expect(await lease.holds()).toBe(true);
    expect(fetches).toBe(0);
  } finally {
    await lease.stop();
  }
});

// The fuzzer at a small scale (bench/lib/fuzz-run.ts, as `npm run fuzz` runs it): a few hundred bad
// inputs of every family beside a valid QoS 1 stream, against the real broker process and Kafka.
import { expect, it } from 'vitest';
import { type FuzzReport, runFuzz } from '../../bench/lib/fuzz-run.ts';
import { uniqueName } from './helpers.ts';

const SEED = 20261124;

it('bad input never crashes the broker, never costs a valid reading, and is always refused or dead-lettered with a reason', {
  timeout: 180_000,
}, async () => {
  const report: FuzzReport = await runFuzz({
    count: 400,
    seconds: 60,
    seed: SEED,
    mqttPort: 21886,
    httpPort: 28086,
    topicPrefix: uniqueName('fuzz'),
  });
  expect(report.violations, `replay with: npm run fuzz -- --seed ${SEED} --count 400`).toEqual([]);
  expect(report.broker.alive).toBe(true);
  expect(report.sent).toBe(400);

  // The valid stream: all acknowledged, all in Kafka, while the bad input went on.
  expect(report.valid.acked).toBeGreaterThan(100);
  expect(report.valid.missing).toBe(0);
  expect(report.valid.inKafka).toBe(report.valid.acked);

  // Every kind of refusal happened, and every dead letter the broker counted is in Kafka.
  const outcomes = Object.keys(report.outcomes);
  for (const kind of [
    'refused at CONNECT: CONNACK 4',
    'refused at SUBSCRIBE: SUBACK 0x80',
    'refused at PUBLISH by the ACL: NOT_AUTHORIZED, dead-lettered, disconnected',
    'connection closed by the broker (protocol error)',
  ])
    expect(outcomes).toContain(kind);
  expect(Object.keys(report.deadLetters.byReason).length).toBeGreaterThanOrEqual(8);
  expect(report.deadLetters.records).toBe(report.deadLetters.brokerCounted);
  const deadLettered = Object.entries(report.outcomes)
    .filter(
      ([k]) => k.startsWith('dead-lettered') || k.startsWith('last will') || k.includes('NOT_AUTHORIZED'),
    )
    .reduce((sum, [, n]) => sum + n, 0);
  expect(deadLettered).toBe(report.deadLetters.records);
  expect(report.fuzzAcceptedAsValid.inKafka).toBeGreaterThanOrEqual(report.fuzzAcceptedAsValid.acked);
});

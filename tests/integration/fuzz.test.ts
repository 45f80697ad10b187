// The fuzzer at a small scale (bench/lib/fuzz-run.ts, as `npm run fuzz` runs it): a few hundred bad
// MQTT inputs of every family beside a valid QoS 1 stream, and a few hundred service inputs
// (garbage acknowledgements, garbage Kafka records on every consumed topic, bad HTTP requests on
// every route), against `machi all` in its own process on the real Kafka and InfluxDB.
import { expect, it } from 'vitest';
import { type FuzzReport, runFuzz } from '../../bench/lib/fuzz-run.ts';
import { uniqueName } from '../support/helpers.ts';

const SEED = 20261124;
const SERVICE_COUNT = 300;

it('bad input never crashes machi, never costs a valid reading, and is always refused or dead-lettered with a reason', {
  timeout: 420_000,
}, async () => {
  const report: FuzzReport = await runFuzz({
    count: 400,
    serviceCount: SERVICE_COUNT,
    seconds: 60,
    seed: SEED,
    mqttPort: 21886,
    httpPort: 28086,
    topicPrefix: uniqueName('fuzz'),
  });
  expect(
    report.violations,
    `replay with: npm run fuzz -- --seed ${SEED} --count 400 --service-count ${SERVICE_COUNT} --seconds 60`,
  ).toEqual([]);
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

  // The service families: every channel, each kind of refusal, valid input still served after.
  const s = report.services;
  expect(s.sent).toBe(SERVICE_COUNT);
  expect(Object.keys(s.byChannel).sort()).toEqual(['ack', 'http', 'kafka']);
  const serviceOutcomes = Object.keys(s.outcomes);
  for (const kind of [
    'ack: dead-lettered (stage alerts): PAYLOAD_MALFORMED',
    'ack: dead-lettered (stage alerts): SCHEMA_INVALID',
    'ack: dead-lettered (stage alerts): TOPIC_INVALID',
    'ack: well-formed, no open alert of that id: no action, logged',
    'kafka readings.crowd: worker dead letter',
    'kafka device.health: worker dead letter + alerts skipped',
    'http: 401 MACHI_ERR_UNAUTHORIZED',
    'http: 404 MACHI_ERR_NOT_FOUND',
    'http: 400 MACHI_ERR_BAD_REQUEST',
  ])
    expect(serviceOutcomes).toContain(kind);
  expect(Object.keys(s.http.statuses).filter((status) => status.startsWith('5'))).toEqual([]);
  expect(s.retainCleared.brokerCounted).toBe(s.retainCleared.sent);
  expect(s.retainCleared.retainedAfter).toBe(0);
  expect(s.probe?.points.written).toBe(s.probe?.points.sent);
  expect(s.probe?.alert?.onRetainedTopic).toBe(true);
  expect(s.restart?.readyAfterMs).toBeDefined();
  expect(s.restart?.replaySkipped).toBe(s.restart?.replayExpected);
  expect(report.process).toMatchObject({ alive: true, healthz: 200, readyz: 200 });
  expect(Object.values(report.process.checks).every(Boolean)).toBe(true);
});

// Two `machi broker` processes that share nothing but Kafka (issue #24): a sign on broker B gets
// the notice a service published on broker A, live and retained; B SIGKILLed, a newer notice
// published on A meanwhile, B restarted: a sign connecting to B once it is ready gets the newer one
// at once; an office ack published on B reaches the ack subscriber on A once, stamped by B; garbage
// on the shared Kafka topics is skipped and logged while B keeps serving. Witnessed with the Debian
// mosquitto clients.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deleteTopics } from '../../src/bus/admin.ts';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { sharedMessage } from '../../src/schemas/shared-state.ts';
import { topics } from '../../src/schemas/topics.ts';
import { eventually, testKafka, uniqueName } from '../support/helpers.ts';
import {
  asSign,
  liveSubscriber,
  login,
  metric,
  notice,
  publish,
  retainedOn,
  roles,
  type SharedBroker,
  sharedBrokers,
  subscribe,
} from './shared-brokers.ts';

const prefix = uniqueName('broker-shared');
const kafka = testKafka();
const brokers = sharedBrokers({ KAFKA_TOPIC_PREFIX: prefix });
const NOTICE = topics.signageNotice('city-hall');
const a: SharedBroker = { name: 'a', mqtt: 22_871, http: 29_871 };
const b: SharedBroker = { name: 'b', mqtt: 22_872, http: 29_872 };
let service: MqttClient | undefined;

beforeAll(async () => {
  // A first, so the shared topics exist; then B alongside.
  await brokers.start(a);
  await brokers.start(b);
  service = await mqtt.connectAsync(`mqtt://127.0.0.1:${a.mqtt}`, {
    username: 'machi-service',
    password: roles.service,
    reconnectPeriod: 0,
  });
}, 120_000);

afterAll(async () => {
  await service?.endAsync(true);
  await brokers.stopAll();
  await deleteTopics(kafka, prefix).catch(() => {});
}, 60_000);

it('a notice published on A reaches a sign on B live, and a new sign on B as retained', async () => {
  const live = liveSubscriber(b, asSign(b), NOTICE, { count: 1, seconds: 20, role: 'signage' });
  await live.connected;
  await new Promise((r) => setTimeout(r, 300)); // its SUBSCRIBE follows its CONNECT
  await service?.publishAsync(NOTICE, notice(1), { qos: 1, retain: true });
  expect(await live.lines).toEqual([`0 ${notice(1)}`]);
  expect(await subscribe(asSign(b), NOTICE, 1, 5)).toEqual([`1 ${notice(1)}`]);

  // A topic's order holds across brokers: 200 quick publishes, and B keeps the last.
  const n = 200;
  const congestion = topics.signageCongestion('city-hall');
  for (let i = 0; i < n; i++) await service?.publishAsync(congestion, `{"i":${i}}`, { qos: 1, retain: true });
  expect(await retainedOn(b, congestion, `{"i":${n - 1}}`)).toBeDefined();
  await new Promise((r) => setTimeout(r, 1000)); // and no earlier one overtakes it
  expect(await subscribe(asSign(b), congestion, 1, 2)).toEqual([`1 {"i":${n - 1}}`]);
}, 60_000);

it('B SIGKILLed; a notice published on A meanwhile is what a sign connecting to restarted B gets at once', async () => {
  b.child?.kill('SIGKILL');
  await new Promise((r) => b.child?.once('exit', r));
  await service?.publishAsync(NOTICE, notice(2), { qos: 1, retain: true });
  const restartMs = await brokers.start(b);
  const began = Date.now();
  expect(await subscribe(asSign(b), NOTICE, 1, 5)).toEqual([`1 ${notice(2)}`]);
  console.log(`B ready ${restartMs} ms after restart; retained notice in ${Date.now() - began} ms`);
  expect(brokers.log(b)).toContain('shared retained state read');
}, 90_000);

it("an office ack published on B reaches the alerts service's subscriber on A once, stamped by B", async () => {
  const ack = topics.alertAck('takeo-town');
  const watcher = liveSubscriber(a, login(a, 'machi-service', roles.service), ack, {
    count: 2,
    seconds: 6,
    role: 'service',
  });
  await new Promise((r) => setTimeout(r, 1000)); // the service client counts already: give it time to subscribe
  await publish(login(b, 'office', roles.office), ack, '{"alertId":"al-1","by":"mallory"}');
  // Waiting for a second message until -W ends it: exactly one arrives, with the user B authenticated.
  const lines = await watcher.lines;
  expect(lines).toEqual([`0 ${JSON.stringify({ alertId: 'al-1', by: 'office' })}`]);
}, 60_000);

it('garbage on the shared topics is skipped and logged; B keeps serving', async () => {
  const { retained, events } = kafkaTopics(prefix).brokerShared;
  const producer = kafka.producer();
  await producer.connect();
  const record = (payload: string, topic = NOTICE) =>
    JSON.stringify(
      sharedMessage(
        { topic, retain: true, qos: 1, publisher: { role: 'service' }, origin: 'test' },
        Buffer.from(payload),
      ),
    );
  try {
    const garbage = [
      { key: NOTICE, value: 'not json {' },
      { key: NOTICE, value: '{"v":1}' },
      { key: NOTICE, value: null },
      { key: NOTICE, value: Buffer.from([0xff, 0xfe, 0x00]) },
      { key: 'x', value: record(notice(99), topics.floodReading('fs-takeo-001')) },
      { key: NOTICE, value: record('x'.repeat(20_000)) },
    ];
    await producer.send({ topic: retained, messages: garbage });
    await producer.send({ topic: events, messages: garbage.slice(0, 2) });
    await producer.send({ topic: retained, messages: [{ key: NOTICE, value: record(notice(3)) }] });
  } finally {
    await producer.disconnect();
  }
  const skipped = (reason: string) =>
    metric(b, new RegExp(`machi_broker_shared_skipped_total\\{reason="${reason}"\\} (\\d+)`));
  // Four bad records on the retained topic and two on the events topic; a device topic; a payload over the limit.
  const counts = await eventually(async () => {
    const got = [
      await skipped('RECORD_INVALID'),
      await skipped('NOT_AUTHORIZED'),
      await skipped('PAYLOAD_TOO_LARGE'),
    ];
    return got.join() === '6,1,1' ? got : undefined;
  });
  expect(counts).toEqual([6, 1, 1]);
  expect(brokers.log(b)).toContain('shared record skipped');
  // The valid record after the garbage is delivered: B's consumer and its listeners still run.
  expect(await retainedOn(b, NOTICE, notice(3))).toBeDefined();
  expect(b.child?.exitCode).toBeNull();
  expect((await fetch(`http://127.0.0.1:${b.http}/readyz`)).status).toBe(200);
}, 60_000);

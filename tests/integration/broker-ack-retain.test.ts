// Office acknowledgements are events, not state: the broker clears their retain flag, so a fresh
// subscriber (the alerts service after a restart) never receives an old ack, garbage or not, while
// live subscribers still get it. Witnessed with the Debian mosquitto clients.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topics } from '../../src/schemas/topics.ts';
import { eventually } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const run = promisify(execFile);
let h: BrokerHarness;

beforeAll(async () => {
  h = await startBroker();
});

afterAll(async () => {
  await h?.stop();
});

const login = () => [
  '-h',
  '127.0.0.1',
  '-p',
  new URL(h.mqttUrl).port,
  '-u',
  'office',
  '-P',
  h.config.mqtt.roles.office,
];

/** What a new office subscriber receives in 3 s: only retained messages, as nothing else is sent then. */
async function freshSubscriber(...filters: string[]): Promise<string> {
  const args = [...login(), '-v', '-W', '3', ...filters.flatMap((t) => ['-t', t])];
  // -W ends mosquitto_sub with a non-zero code; what it printed until then is the answer.
  return run('mosquitto_sub', args).then(
    ({ stdout }) => stdout,
    (err: { stdout?: string }) => err.stdout ?? '',
  );
}

it('an ack published with -r reaches live subscribers but is never kept as retained', async () => {
  const ack = topics.alertAck('takeo');
  const active = topics.alertsActive('takeo');
  const service = await h.connect('machi-service', h.config.mqtt.roles.service);
  const live: Array<{ payload: string; retain: boolean }> = [];
  service.on('message', (_topic, payload, packet) =>
    live.push({ payload: payload.toString(), retain: packet.retain }),
  );
  await service.subscribeAsync(ack, { qos: 1 });

  await run('mosquitto_pub', [...login(), '-q', '1', '-r', '-t', ack, '-m', 'not json {']);
  // The control: a retained state machi publishes is kept and reaches the same fresh subscriber.
  await service.publishAsync(active, '{"control":true}', { qos: 1, retain: true });

  expect(await eventually(async () => (live.length > 0 ? live : undefined))).toEqual([
    { payload: 'not json {', retain: false },
  ]);
  expect(await freshSubscriber(ack, active)).toBe(`${active} {"control":true}\n`);
  const cleared = await h.running.runtime.metrics.getSingleMetric('machi_broker_retain_cleared_total')?.get();
  expect(cleared?.values[0]?.value).toBe(1);
});

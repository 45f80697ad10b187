// `machi all` as an operator runs it, in its own process, stopped with SIGTERM while a device and a
// foreign subscriber (mosquitto_sub) are still connected: it must exit 0 within a bound instead of
// waiting for them to leave.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { allTopicNames, ensureTopics } from '../../src/bus/admin.ts';
import { loadConfig } from '../../src/config/config.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { config, eventually, freePort, testKafka, uniqueName } from '../support/helpers.ts';

const STOP_BOUND_MS = 15_000;
const children: ChildProcess[] = [];
let device: MqttClient | undefined;

afterAll(async () => {
  await device?.endAsync(true).catch(() => {});
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The run's topics, created and answering before `machi all` starts: a fresh topic's metadata can
 * lag, and a component that trips over that at start-up is not what this test is about.
 */
async function createTopics(prefix: string) {
  const kafka = testKafka();
  await ensureTopics(kafka, loadConfig({ ...process.env, KAFKA_TOPIC_PREFIX: prefix }));
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(async () => {
      for (const topic of allTopicNames(prefix)) await admin.fetchTopicOffsets(topic);
      return true;
    });
  } finally {
    await admin.disconnect();
  }
}

it('exits 0 within 15 s of SIGTERM with a device and mosquitto_sub connected', {
  timeout: 120_000,
}, async () => {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const prefix = uniqueName('broker');
  await createTopics(prefix);
  const all = spawn('node', ['bin/machi.js', 'all'], {
    env: {
      ...process.env,
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
      KAFKA_TOPIC_PREFIX: prefix,
      MACHI_WORKER_GROUP: prefix,
      MACHI_FORECAST_CRON: '0 0 1 1 *',
      MACHI_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(all);
  let output = '';
  all.stdout?.on('data', (d) => (output += d));
  all.stderr?.on('data', (d) => (output += d));
  const exited = once(all, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  const metrics = () => fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text());
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok ? true : undefined),
    60_000,
  ).catch((err) => {
    throw new Error(`${err}\n${output}`);
  });

  const sub = spawn(
    'mosquitto_sub',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(mqttPort),
      '-u',
      'office',
      '-P',
      config.mqtt.roles.office,
      '-t',
      'takeo/v1/#',
    ],
    { stdio: 'ignore' },
  );
  children.push(sub);
  device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    username: 'fs-takeo-001',
    password: demoSecret('fs-takeo-001'),
    clientId: 'fs-takeo-001-stop',
    reconnectPeriod: 0,
  });
  await eventually(async () => {
    const text = await metrics();
    return /machi_broker_connections\{role="office"\} 1/.test(text) &&
      /machi_broker_connections\{role="device"\} 1/.test(text)
      ? true
      : undefined;
  });
  const connected = device;
  const deviceClosed = new Promise<void>((resolve) => connected.once('close', () => resolve()));

  const signalled = Date.now();
  all.kill('SIGTERM');
  const result = await Promise.race([exited, sleep(STOP_BOUND_MS).then(() => 'still running' as const)]);
  const took = Date.now() - signalled;
  console.log(`machi all exited ${took} ms after SIGTERM`);
  expect(result, `machi all after SIGTERM (${took} ms):\n${output}`).toEqual([0, null]);
  // Every component stopped by itself: no bound ran out, nothing was left open to cut short.
  expect(output).not.toMatch(/did not finish in time|still running after the stop/);
  // The broker closed the connections it still had, rather than abandoning them.
  await deviceClosed;
  sub.kill('SIGTERM');
});

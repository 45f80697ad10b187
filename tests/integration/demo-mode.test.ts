// MACHI_MODE=demo is all the demo needs: with every other setting at its default (the demo registry,
// the shipped secrets) the broker starts, becomes ready and stops cleanly. Without it, production
// mode refuses the same start (tests/unit/production.test.ts).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, expect, it } from 'vitest';
import { eventually, freePort, uniqueName } from '../support/helpers.ts';

const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

it('starts the broker with nothing but MACHI_MODE=demo set', { timeout: 90_000 }, async () => {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const broker = spawn('node', ['bin/machi.js', 'broker'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MACHI_MODE: 'demo',
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
      KAFKA_TOPIC_PREFIX: uniqueName('demo-mode'),
      MACHI_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(broker);
  let stderr = '';
  broker.stderr?.on('data', (d) => (stderr += d));
  const exited = once(broker, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await eventually(async () => {
    if (broker.exitCode !== null) throw new Error(`broker exited ${broker.exitCode}: ${stderr}`);
    return (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok ? true : undefined;
  }, 60_000);
  broker.kill('SIGTERM');
  expect((await exited)[0]).toBe(0);
});

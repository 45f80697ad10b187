// The Node-RED peer of the side-by-side bench (bench/lib/node-red.ts) against a real aedes broker
// and the real InfluxDB: both flows store exactly what the broker acknowledged at a low rate, and a
// restart of Node-RED under load loses what arrived while it was down with a clean session, far
// less with a persistent one, and never shows a reading twice.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countStored,
  dropDatabase,
  ensureNodeRed,
  type NodeRedVariant,
  settleStored,
  startNodeRed,
} from '../../bench/lib/node-red.ts';
import { topics } from '../../src/schemas/topics.ts';
import { runLoad } from '../../src/simulators/load.ts';
import { config, eventually, uniqueName } from '../support/helpers.ts';

const HTTP_PORT = 21881;
const database = uniqueName('nodered_test').replace(/-/g, '_');
const influxUrl = config.influx.url;
let broker: Aedes;
let server: Server;
let mqttPort: number;
const userDirs: string[] = [];

beforeAll(async () => {
  await ensureNodeRed();
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mqttPort = (server.address() as AddressInfo).port;
}, 300_000);

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  await new Promise<void>((r) => broker?.close(() => r()));
  await dropDatabase(influxUrl, database);
  for (const dir of userDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Publishes one reading of `deviceId` after everything the run published and waits until Node-RED
 * stored it: the flow writes in the order it receives, so what it got before is written too (but
 * for a write still under way, which a short settle covers).
 */
async function lastReadingStored(deviceId: string, since: number): Promise<void> {
  const payload = JSON.stringify({ time: new Date().toISOString(), seq: 0, wet: false });
  await new Promise<void>((resolve, reject) =>
    broker.publish(
      { cmd: 'publish', topic: topics.floodReading(deviceId), payload, qos: 1, retain: false, dup: false },
      (err) => (err ? reject(err) : resolve()),
    ),
  );
  await eventually(
    async () => ((await countStored(influxUrl, database, since, deviceId)).rows > 0 ? true : undefined),
    60_000,
  );
}

/** One Node-RED run under a fixed load, optionally restarted (5 s down) a third of the way in. */
async function run(variant: NodeRedVariant, cleanSession: boolean, seconds: number, restart: boolean) {
  const userDir = mkdtempSync(join(tmpdir(), 'machi-node-red-test-'));
  userDirs.push(userDir);
  const tag = uniqueName('nr');
  const nodeRed = await startNodeRed({
    variant,
    mqttPort,
    influxUrl,
    database,
    httpPort: HTTP_PORT,
    userDir,
    cleanSession,
    clientId: tag,
  });
  try {
    const since = Date.now() - 1000;
    const outage = restart
      ? new Promise((r) => setTimeout(r, (seconds * 1000) / 3)).then(() => nodeRed.restart(5000))
      : undefined;
    const load = await runLoad({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      deviceIds: Array.from({ length: 10 }, (_, i) => `${tag}-${i}`),
      secret: () => 'the bare broker ignores it',
      rate: 500,
      durationS: seconds,
    });
    await outage;
    // After a restart some readings are lost: the count cannot reach what was acknowledged, so
    // it is taken once the run's last reading is stored and the count then stays put.
    if (restart) await lastReadingStored(`${tag}x-last`, since);
    const stored = await settleStored(influxUrl, database, since, load.acknowledged, {
      quietMs: restart ? 2000 : 5000,
      devicePrefix: `${tag}-`,
    });
    return { acknowledged: load.acknowledged, failed: load.failed, ...stored };
  } finally {
    await nodeRed.stop();
  }
}

describe('Node-RED peer', () => {
  it.each(['plain', 'batching'] as const)(
    'the %s flow stores every acknowledged reading once',
    async (variant) => {
      const r = await run(variant, true, 4, false);
      expect(r.failed).toBe(0);
      expect(r.acknowledged).toBeGreaterThan(1500);
      expect(r.rows).toBe(r.acknowledged);
      expect(r.distinct).toBe(r.acknowledged);
    },
    120_000,
  );

  it('a restart loses the outage with a clean session and much less with a persistent one', async () => {
    const clean = await run('batching', true, 12, true);
    const persistent = await run('batching', false, 12, true);
    for (const r of [clean, persistent]) {
      expect(r.failed).toBe(0);
      expect(r.rows).toBe(r.distinct);
      expect(r.distinct).toBeLessThanOrEqual(r.acknowledged);
    }
    // 5 s of 500/s went to nobody with a clean session.
    expect(clean.acknowledged - clean.distinct).toBeGreaterThan(2000);
    // The broker kept the session: only what Node-RED held in memory when it was killed is gone.
    expect(persistent.acknowledged - persistent.distinct).toBeLessThan(200);
  }, 180_000);
});

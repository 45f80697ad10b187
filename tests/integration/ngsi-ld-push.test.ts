// The NGSI-LD push (issue 25): every real flood reading's FloodMonitoring entity reaches the city's
// context broker, here a local receiver on 127.0.0.1, after it was down for a minute: the pusher
// reads Kafka in a group of its own and commits only what the receiver took, so it catches up.
// Batches keep to the configured size; drill readings and garbage records are never pushed.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRuntime } from '../../src/app/run.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import type { ReadingRecord } from '../../src/schemas/readings.ts';
import { startUpsertPush } from '../../src/web/ngsi-ld/upsert-push.ts';
import { eventually, freePort, uniqueName } from '../support/helpers.ts';
import { produce, workerConfig } from './worker-harness.ts';

const BATCH = 7;
const DOWN_MS = 60_000;
const SENSORS = ['fs-takeo-001', 'fs-takeo-004', 'fs-kitagata-001'];

interface Post {
  link: string | undefined;
  entities: Array<{ id: string; type: string; observationDateTime: { value: { '@value': string } } }>;
}

let port: number;
let receiver: Server | undefined;
const posts: Post[] = [];

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function receiverUp(): Promise<void> {
  receiver = createServer(async (req, res) => {
    const text = await body(req);
    if (req.method !== 'POST' || req.url !== '/ngsi-ld/v1/entityOperations/upsert') {
      res.writeHead(404).end();
      return;
    }
    posts.push({ link: String(req.headers.link), entities: JSON.parse(text) });
    res.writeHead(204).end();
  });
  return new Promise((resolve) => receiver?.listen(port, '127.0.0.1', resolve));
}

const flood = (deviceId: string, seq: number, time: number, drill = false) =>
  ({
    v: 1,
    reading: { kind: 'flood', deviceId, time: new Date(time).toISOString(), seq, wet: seq % 2 === 0 },
    receivedAt: new Date(time).toISOString(),
    drill,
  }) satisfies ReadingRecord;

beforeAll(async () => {
  port = await freePort();
});
afterAll(async () => {
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
});

it('pushes every reading once the context broker is back after a minute, in batches of the set size', {
  timeout: 180_000,
}, async () => {
  const env = {
    KAFKA_TOPIC_PREFIX: uniqueName('ngsi-push'),
    HTTP_PORT: '0',
    MACHI_LOG_LEVEL: 'error',
    MACHI_NGSI_LD_UPSERT_URL: `http://127.0.0.1:${port}`,
    MACHI_NGSI_LD_UPSERT_BATCH: String(BATCH),
  };
  const config = workerConfig(env);
  const runtime = createRuntime(config);
  const push = startUpsertPush(runtime, loadRegistry(config.devicesDir), {
    url: `http://127.0.0.1:${port}`,
    batch: BATCH,
  });
  try {
    // The receiver is down (nothing listens on its port) from before the first reading.
    await eventually(async () => ((await runtime.readiness.ngsiLdPush?.()) ? true : undefined), 60_000);
    const t0 = Date.now();
    const real = Array.from({ length: 30 }, (_, i) => flood(SENSORS[i % 3] as string, i, t0 + i * 1000));
    await produce(
      config,
      [...real, flood('fs-takeo-001', 99, t0 + 99_000, true)],
      [{ key: 'x', value: 'not json{' }],
    );
    await new Promise((r) => setTimeout(r, DOWN_MS));
    expect(posts).toEqual([]);

    await receiverUp();
    const seen = () => posts.flatMap((p) => p.entities);
    await eventually(async () => (seen().length >= real.length ? true : undefined), 60_000);
    await new Promise((r) => setTimeout(r, 2000)); // nothing more should come
    const entities = seen();
    // Each reading once; per sensor in reading order (Kafka keeps order per key, not across keys).
    const pushed = entities.map((e) => `${e.id} ${e.observationDateTime.value['@value']}`);
    const wanted = real.map((r) => `urn:ngsi-ld:FloodMonitoring:${r.reading.deviceId} ${r.reading.time}`);
    expect([...pushed].sort()).toEqual([...wanted].sort());
    for (const id of SENSORS) {
      const of = (list: string[]) => list.filter((x) => x.includes(`:${id} `));
      expect(of(pushed)).toEqual(of(wanted));
    }
    expect(entities.every((e) => e.type === 'FloodMonitoring')).toBe(true);
    expect(Math.max(...posts.map((p) => p.entities.length))).toBeLessThanOrEqual(BATCH);
    expect(posts.every((p) => p.link?.includes('/ngsi-ld/v1/context.jsonld'))).toBe(true);
  } finally {
    await push.stop();
  }
});

// The NGSI-LD push (issue 25): every real flood reading's FloodMonitoring entity, and every public
// transition of a real alert as its Alert entity, reaches the city's context broker (a local
// receiver on 127.0.0.1) after it was down for a minute, during which machi's pusher was stopped
// and started again: offsets are committed only for what the receiver took, so the new pusher
// catches up from Kafka. A 207 Multi-Status is read per entity (the broker's own trouble tried
// again, an entity refused for good logged with its id). Batches keep to the configured size;
// drills, acknowledgements and garbage records are never pushed.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRuntime } from '../../src/app/run.ts';
import { ensureTopics } from '../../src/bus/admin.ts';
import { kafkaTopics } from '../../src/bus/topics.ts';
import type { Config } from '../../src/config/config.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import type { AlertEvent } from '../../src/schemas/alerts.ts';
import type { ReadingRecord } from '../../src/schemas/readings.ts';
import { startUpsertPush } from '../../src/web/ngsi-ld/upsert-push.ts';
import { eventually, freePort, testKafka, uniqueName } from '../support/helpers.ts';
import { reduceNormalized, smartDataModels } from './smart-data-models.ts';
import { produce, workerConfig } from './worker-harness.ts';

const BATCH = 7;
const DOWN_MS = 60_000;
/** Tries a second apart at most: the catch-up starts within a second of the receiver's return. */
const BACKOFF = { initialMs: 100, maxMs: 1000, jitter: 0.2 };
const SENSORS = ['fs-takeo-001', 'fs-takeo-004', 'fs-kitagata-001'];
const PUBLIC_URL = 'https://data.takeo.example';
const validate = smartDataModels();

type Attr = { value?: unknown; object?: string };
type Pushed = Record<string, Attr> & { id: string; type: string };
interface Post {
  url: string;
  link: string | undefined;
  /** Sent in this POST. */
  sent: Pushed[];
  /** Of those, what the receiver took (the rest it answered 207 for). */
  taken: Pushed[];
}

let port: number;
let receiver: Server | undefined;
const posts: Post[] = [];
/**
 * The receiver answers 207 once for one entity id (503: the broker's trouble, to be tried again)
 * and once for another (400: refused for good). NGSI-LD reports errors per id, so every reading of
 * that sensor in the POST shares its fate.
 */
const multiStatus = { againId: '', againKeys: [] as string[], refusedId: '', refusedKeys: [] as string[] };

/** One reading's entity: its id and time. */
const key = (e: Pushed) => {
  const observed = e.observationDateTime?.value as { '@value': string } | undefined;
  return `${e.id} ${observed?.['@value']}`;
};

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const problem = (status: number, kind: string) => ({
  type: `https://uri.etsi.org/ngsi-ld/errors/${kind}`,
  title: kind,
  status,
});

function receiverUp(): Promise<void> {
  receiver = createServer(async (req, res) => {
    const text = await body(req);
    if (req.method !== 'POST' || !req.url?.startsWith('/ngsi-ld/v1/entityOperations/upsert')) {
      res.writeHead(404).end();
      return;
    }
    const sent = JSON.parse(text) as Pushed[];
    const post: Post = { url: req.url, link: String(req.headers.link), sent, taken: sent };
    posts.push(post);
    const errors: Array<{ entityId: string; error: ReturnType<typeof problem> }> = [];
    if (sent[0]?.type === 'FloodMonitoring') {
      const m = multiStatus;
      if (!m.againId) {
        m.againId = sent[0].id;
        m.againKeys = sent.filter((e) => e.id === m.againId).map(key);
        errors.push({ entityId: m.againId, error: problem(503, 'InternalError') });
      }
      const other = sent.find((e) => e.id !== m.againId);
      if (!m.refusedId && other) {
        m.refusedId = other.id;
        m.refusedKeys = sent.filter((e) => e.id === m.refusedId).map(key);
        errors.push({ entityId: m.refusedId, error: problem(400, 'BadRequestData') });
      }
    }
    if (errors.length === 0) return void res.writeHead(204).end();
    post.taken = sent.filter((e) => !errors.some((x) => x.entityId === e.id));
    const answer = { success: [...new Set(post.taken.map((e) => e.id))], errors };
    res.writeHead(207, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  return new Promise((resolve) => receiver?.listen(port, '127.0.0.1', resolve));
}

async function receiverDown(): Promise<void> {
  const r = receiver;
  receiver = undefined;
  r?.closeAllConnections();
  await new Promise((done) => (r ? r.close(done) : done(undefined)));
}

const flood = (deviceId: string, seq: number, time: number, drill = false) =>
  ({
    v: 1,
    reading: { kind: 'flood', deviceId, time: new Date(time).toISOString(), seq, wet: seq % 2 === 0 },
    receivedAt: new Date(time).toISOString(),
    drill,
  }) satisfies ReadingRecord;

const alertEvent = (over: Partial<AlertEvent>): AlertEvent => ({
  v: 1,
  alertId: 'a-1',
  areaId: 'takeo-town',
  level: 'warning',
  transition: 'raised',
  time: new Date().toISOString(),
  rule: 'corroborated',
  cause: [],
  actor: 'machi-rules',
  drill: false,
  acknowledged: false,
  ...over,
});

/**
 * Whether each of the pusher's consumer groups (the only groups of this test's topic prefix) has
 * committed the end of every partition it reads: it has nothing left to push.
 */
async function pushedToTheEnd(config: Config): Promise<boolean> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const ours = groups.filter((g) => g.groupId.includes(`.${config.kafka.topicPrefix}.`));
    if (ours.length !== 2) return false;
    for (const { groupId } of ours) {
      const committed = await admin.fetchOffsets({ groupId });
      if (committed.length === 0) return false;
      for (const { topic, partitions } of committed) {
        const ends = await admin.fetchTopicOffsets(topic);
        const at = new Map(partitions.map((p) => [p.partition, BigInt(p.offset === '-1' ? 0 : p.offset)]));
        if (ends.some((e) => (at.get(e.partition) ?? 0n) < BigInt(e.high))) return false;
      }
    }
    return true;
  } finally {
    await admin.disconnect();
  }
}

async function produceAlerts(config: Config, events: AlertEvent[]): Promise<void> {
  const kafka = testKafka();
  await ensureTopics(kafka, config);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic: kafkaTopics(config.kafka.topicPrefix).alertEvents,
    acks: -1,
    messages: events.map((e) => ({ key: e.areaId, value: JSON.stringify(e) })),
  });
  await producer.disconnect();
}

beforeAll(async () => {
  port = await freePort();
});
afterAll(async () => {
  await receiverDown();
});

it('pushes every reading and public alert transition once the context broker is back after a minute, across a restart of the pusher', {
  timeout: 180_000,
}, async () => {
  const config = workerConfig({
    KAFKA_TOPIC_PREFIX: uniqueName('ngsi-push'),
    HTTP_PORT: '0',
    MACHI_LOG_LEVEL: 'error',
    MACHI_PUBLIC_URL: PUBLIC_URL,
  });
  const registry = loadRegistry(config.devicesDir);
  const logs: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  const target = { url: `http://127.0.0.1:${port}`, batch: BATCH, backoff: BACKOFF };
  const startPusher = async () => {
    const runtime = { ...createRuntime(config), log };
    const push = startUpsertPush(runtime, registry, target);
    await eventually(async () => ((await runtime.readiness.ngsiLdPush?.()) ? true : undefined), 60_000);
    let stopped: Promise<void> | undefined;
    return { stop: () => (stopped ??= push.stop()) };
  };
  const t0 = Date.now();
  const readings = (from: number, count: number) =>
    Array.from({ length: count }, (_, k) => {
      const i = from + k;
      return flood(SENSORS[i % 3] as string, i, t0 + i * 1000);
    });
  const alertId = 'takeo-town-real';
  const cause = [
    {
      deviceId: 'fs-takeo-004',
      time: new Date(t0).toISOString(),
      receivedAt: new Date(t0).toISOString(),
      wet: true,
    },
  ];
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();

  await receiverUp();
  let push = await startPusher();
  try {
    // Up: the first readings and the alert's opening go through (a 207 on the way).
    const before = readings(0, 9);
    await produce(config, before, [{ key: 'x', value: 'not json{' }]);
    await produceAlerts(config, [
      alertEvent({ alertId, transition: 'raised', time: at(1), cause }),
      alertEvent({ alertId, transition: 'acknowledged', time: at(2), actor: 'office:sato', cause }),
      alertEvent({ alertId: 'takeo-town-drill', transition: 'raised', time: at(3), drill: true, cause }),
      alertEvent({ alertId: 'takeo-town-watch', level: 'watch', transition: 'raised', time: at(4), cause }),
    ]);
    const taken = () => posts.flatMap((p) => p.taken);
    const floodTaken = () => taken().filter((e) => e.type === 'FloodMonitoring');
    const alertsTaken = () => taken().filter((e) => e.type === 'Alert');
    // All but those refused for good; nothing in flight when the receiver goes down.
    const allBut = (list: ReadingRecord[]) => list.length - multiStatus.refusedKeys.length;
    await eventually(async () => (floodTaken().length >= allBut(before) ? true : undefined), 30_000);
    await eventually(async () => (alertsTaken().length >= 1 ? true : undefined), 30_000);

    // Down for a minute; meanwhile the pusher is stopped mid-retry and a new one started.
    await receiverDown();
    const downAt = Date.now();
    const logsBefore = logs.length;
    const during = [...readings(9, 12), flood('fs-takeo-001', 99, t0 + 99_000, true)];
    await produce(config, during);
    await produceAlerts(config, [
      alertEvent({ alertId, level: 'emergency', transition: 'escalated', time: at(20), cause }),
    ]);
    // Stopped while it is retrying the batch the receiver did not take.
    await eventually(async () =>
      logs.slice(logsBefore).some((l) => l.feed === 'flood' && l.msg === 'upsert failed, retrying')
        ? true
        : undefined,
    );
    await push.stop();
    const after = readings(21, 9);
    await produce(config, after);
    await produceAlerts(config, [
      alertEvent({ alertId, level: 'emergency', transition: 'cleared', time: at(40), cause }),
    ]);
    push = await startPusher();
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + DOWN_MS - Date.now())));

    await receiverUp();
    const real = [...before, ...readings(9, 12), ...after];
    await eventually(async () => (floodTaken().length >= allBut(real) ? true : undefined), 60_000);
    await eventually(async () => (alertsTaken().length >= 3 ? true : undefined));
    // Nothing more can come: every record is committed as pushed, and the pusher is stopped.
    await eventually(async () => ((await pushedToTheEnd(config)) ? true : undefined));
    await push.stop();

    // Each reading once, but those refused for good; per sensor in reading order.
    const pushed = floodTaken().map(key);
    expect(multiStatus.refusedKeys.length).toBeGreaterThan(0);
    const wanted = real
      .map((r) => `urn:ngsi-ld:FloodMonitoring:${r.reading.deviceId} ${r.reading.time}`)
      .filter((w) => !multiStatus.refusedKeys.includes(w));
    expect([...pushed].sort()).toEqual([...wanted].sort());
    for (const id of SENSORS) {
      const of = (list: string[]) => list.filter((x) => x.includes(`:${id} `));
      expect(of(pushed)).toEqual(of(wanted));
    }
    // After the 207, its entities failed for the broker's trouble came again, alone; the refused never did.
    const floodPosts = posts.filter((p) => p.sent[0]?.type === 'FloodMonitoring');
    expect(floodPosts[1]?.sent.map(key)).toEqual(multiStatus.againKeys);
    const sent = posts.flatMap((p) => p.sent.map(key));
    for (const k of multiStatus.refusedKeys) expect(sent.filter((x) => x === k)).toHaveLength(1);
    expect(logs).toContainEqual(expect.objectContaining({ entityId: multiStatus.refusedId, status: 400 }));

    // The alert's public transitions in order, as updates; no drill, acknowledgement or watch.
    const alertPosts = posts.filter((p) => p.sent[0]?.type === 'Alert');
    expect(alertPosts.every((p) => p.url.endsWith('?options=update'))).toBe(true);
    const alerts = alertsTaken();
    expect(alerts.map((a) => [a.id, a.severity?.value, a.dateModified?.value])).toEqual([
      [`urn:ngsi-ld:Alert:${alertId}`, 'high', { '@type': 'DateTime', '@value': at(1) }],
      [`urn:ngsi-ld:Alert:${alertId}`, 'critical', { '@type': 'DateTime', '@value': at(20) }],
      [`urn:ngsi-ld:Alert:${alertId}`, 'critical', { '@type': 'DateTime', '@value': at(40) }],
    ]);
    expect(alerts[0]?.alertSource?.object).toBe('urn:ngsi-ld:FloodMonitoring:fs-takeo-004');
    expect(alerts[2]?.validTo).toBeDefined();

    // Every pushed entity is valid for its Smart Data Model (reduced to key-values).
    for (const e of taken()) validate(reduceNormalized(e));
    expect(Math.max(...posts.map((p) => p.sent.length))).toBeLessThanOrEqual(BATCH);
    // The @context is machi's public one: a broker elsewhere can fetch it.
    expect(new Set(posts.map((p) => p.link))).toEqual(
      new Set([
        `<${PUBLIC_URL}/ngsi-ld/v1/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
      ]),
    );
  } finally {
    await push.stop();
  }
});

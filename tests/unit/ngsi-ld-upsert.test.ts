// The NGSI-LD push's pure parts against a local HTTP receiver: a 207 Multi-Status is read per
// entity (the broker's trouble tried again, the entity's refusal logged with its id), a batch is
// never reported pushed when the push stops first (so its Kafka offsets are not committed), and the
// Alert feed's mapping of audit-trail transitions (no drills, no internal transitions).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import type { AlertEvent } from '../../src/schemas/alerts.ts';
import type { Rendered } from '../../src/web/ngsi-ld/model.ts';
import { readMultiStatus, UpsertClient } from '../../src/web/ngsi-ld/upsert-client.ts';
import { alertEntityOfRecord, pushContextUrl } from '../../src/web/ngsi-ld/upsert-push.ts';

const registry = loadRegistry('devices');
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A receiver answering each POST with `answer(entities)`; returns its base URL and what it got. */
async function receiver(
  answer: (entities: Rendered[], res: ServerResponse) => void,
): Promise<{ url: string; posts: Rendered[][] }> {
  const posts: Rendered[][] = [];
  const s = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const entities = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Rendered[];
    posts.push(entities);
    answer(entities, res);
  });
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, posts };
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

const entity = (n: number): Rendered => ({
  id: `urn:ngsi-ld:FloodMonitoring:s${n}`,
  type: 'FloodMonitoring',
});
const problem = (status: number, kind: string) => ({
  type: `https://uri.etsi.org/ngsi-ld/errors/${kind}`,
  title: kind,
  status,
  detail: `${kind} here`,
});
const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const fast = { initialMs: 10, maxMs: 20 };

describe('NGSI-LD upsert answers', () => {
  it("reads a 207's errors: the broker's trouble again, the entity's refusal for good", () => {
    const body = JSON.stringify({
      success: ['urn:ngsi-ld:FloodMonitoring:s1'],
      errors: [
        { entityId: 'urn:ngsi-ld:FloodMonitoring:s2', error: problem(503, 'InternalError') },
        { entityId: 'urn:ngsi-ld:FloodMonitoring:s3', error: problem(400, 'BadRequestData') },
        // Older brokers leave out the status: the type decides.
        {
          entityId: 'urn:ngsi-ld:FloodMonitoring:s4',
          error: { type: 'https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable' },
        },
      ],
    });
    const answer = readMultiStatus([1, 2, 3, 4].map(entity), body);
    expect(answer.again.map((e) => e.id)).toEqual([
      'urn:ngsi-ld:FloodMonitoring:s2',
      'urn:ngsi-ld:FloodMonitoring:s4',
    ]);
    expect(answer.refused).toEqual([
      { id: 'urn:ngsi-ld:FloodMonitoring:s3', status: 400, detail: 'BadRequestData here' },
    ]);
    // A 207 that cannot be read: nothing is known to be taken.
    expect(readMultiStatus([entity(1)], 'not json').again).toEqual([entity(1)]);
  });

  it('tries again only what a 207 says failed for the broker, and logs the refused ids', async () => {
    let first = true;
    const r = await receiver((entities, res) => {
      if (!first) return void res.writeHead(204).end();
      first = false;
      json(res, 207, {
        success: [entities[0]?.id],
        errors: [
          { entityId: entities[1]?.id, error: problem(500, 'InternalError') },
          { entityId: entities[2]?.id, error: problem(400, 'BadRequestData') },
        ],
      });
    });
    const { log, lines } = capture();
    const client = new UpsertClient({ url: r.url, context: 'https://machi.example/ctx' }, log, fast);
    await client.deliver([1, 2, 3].map(entity), new AbortController().signal, () => true);
    expect(r.posts.map((p) => p.map((e) => e.id))).toEqual([
      ['urn:ngsi-ld:FloodMonitoring:s1', 'urn:ngsi-ld:FloodMonitoring:s2', 'urn:ngsi-ld:FloodMonitoring:s3'],
      ['urn:ngsi-ld:FloodMonitoring:s2'],
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 50, entityId: 'urn:ngsi-ld:FloodMonitoring:s3', status: 400 }),
    );
  });

  it('logs the ids of a batch refused whole, and passes it over', async () => {
    const r = await receiver((_e, res) => json(res, 400, problem(400, 'BadRequestData')));
    const { log, lines } = capture();
    const client = new UpsertClient({ url: r.url, context: 'https://machi.example/ctx' }, log, fast);
    await client.deliver([1, 2].map(entity), new AbortController().signal, () => true);
    expect(r.posts).toHaveLength(1);
    expect(lines).toContainEqual(
      expect.objectContaining({
        entityIds: ['urn:ngsi-ld:FloodMonitoring:s1', 'urn:ngsi-ld:FloodMonitoring:s2'],
      }),
    );
  });

  it('never reports a batch pushed when the push stops or loses the partition before the broker took it', async () => {
    const r = await receiver((_e, res) => res.writeHead(503).end());
    const client = new UpsertClient({ url: r.url, context: 'x' }, capture().log, fast);
    const stopping = new AbortController();
    const stopped = client.deliver([entity(1)], stopping.signal, () => true);
    while (r.posts.length < 2) await new Promise((w) => setTimeout(w, 5));
    stopping.abort();
    await expect(stopped).rejects.toThrow();

    let active = true;
    const lost = client.deliver([entity(1)], new AbortController().signal, () => active);
    const before = r.posts.length;
    while (r.posts.length < before + 2) await new Promise((w) => setTimeout(w, 5));
    active = false;
    await expect(lost).rejects.toThrow();
  });

  it('sends the @context of MACHI_PUBLIC_URL, else of the local listener (https with TLS)', () => {
    const http = { host: '0.0.0.0', port: 8080, tls: undefined, internal: undefined };
    const at = (publicUrl: string | undefined, tls?: { certPath: string; keyPath: string }) =>
      pushContextUrl({ api: { ratePerMinute: 1, publicUrl }, http: { ...http, tls } } as never);
    expect(at('https://data.city.example/')).toBe('https://data.city.example/ngsi-ld/v1/context.jsonld');
    expect(at(undefined)).toBe('http://127.0.0.1:8080/ngsi-ld/v1/context.jsonld');
    expect(at(undefined, { certPath: 'c', keyPath: 'k' })).toBe(
      'https://127.0.0.1:8080/ngsi-ld/v1/context.jsonld',
    );
  });
});

describe('Alert feed', () => {
  const event = (over: Partial<AlertEvent>): Buffer =>
    Buffer.from(
      JSON.stringify({
        v: 1,
        alertId: 'takeo-town-20260601T000000Z',
        areaId: 'takeo-town',
        level: 'warning',
        transition: 'raised',
        time: '2026-06-01T00:00:00.000Z',
        rule: 'corroborated',
        cause: [
          {
            deviceId: 'fs-takeo-002',
            time: '2026-06-01T00:00:00Z',
            receivedAt: '2026-06-01T00:00:00Z',
            wet: false,
          },
          {
            deviceId: 'fs-takeo-004',
            time: '2026-06-01T00:00:00Z',
            receivedAt: '2026-06-01T00:00:00Z',
            wet: true,
          },
        ],
        actor: 'machi-rules',
        drill: false,
        acknowledged: false,
        ...over,
      } satisfies AlertEvent),
    );
  const of = (over: Partial<AlertEvent>) => alertEntityOfRecord(registry, event(over));

  it('pushes public transitions of real alerts, pointing at the triggering sensor', () => {
    const raised = of({}) as Record<string, Record<string, unknown>>;
    expect(raised.id).toBe('urn:ngsi-ld:Alert:takeo-town-20260601T000000Z');
    expect(raised.alertSource).toEqual({
      type: 'Relationship',
      object: 'urn:ngsi-ld:FloodMonitoring:fs-takeo-004',
    });
    expect(raised.severity?.value).toBe('high');
    expect(raised.validFrom).toBeDefined();
    expect(raised.validTo).toBeUndefined();
    const cleared = of({ level: 'watch', transition: 'cleared', cause: [] }) as Record<
      string,
      Record<string, unknown>
    >;
    expect(cleared.validTo).toMatchObject({ value: { '@value': '2026-06-01T00:00:00.000Z' } });
    // Unknown trigger: the update leaves the alertSource the broker holds.
    expect(cleared.alertSource).toBeUndefined();
    expect(
      (of({ level: 'emergency', transition: 'escalated' }) as Record<string, Record<string, unknown>>)
        .severity?.value,
    ).toBe('critical');
  });

  it('never pushes drills, acknowledgements, a watch opening or garbage', () => {
    expect(of({ drill: true })).toBeUndefined();
    expect(of({ transition: 'acknowledged' })).toBeUndefined();
    expect(of({ level: 'watch' })).toBeUndefined();
    expect(of({ level: 'watch', transition: 're-notified' })).toBeUndefined();
    expect(alertEntityOfRecord(registry, Buffer.from('{nope'))).toBeUndefined();
  });
});

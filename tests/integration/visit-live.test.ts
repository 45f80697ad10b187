// The visitors' live stream (server-sent events) against machi's real broker: the state machi holds
// from the retained signage topics, a bounded number of streams, heartbeats, bad messages ignored.
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpApp } from '../../src/http/app.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { topics } from '../../src/schemas/topics.ts';
import { VisitEvent } from '../../src/schemas/visit.ts';
import { VisitLive } from '../../src/web/visit/live.ts';
import { visitPlugin } from '../../src/web/visit/plugin.ts';
import { congestion, notice } from '../browser/sign-layout.ts';
import { eventually } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const registry = loadRegistry('devices');
let h: BrokerHarness;
let service: MqttClient;
let live: VisitLive;
let app: HttpApp;
let base: string;
const aborts: AbortController[] = [];

const publish = (topic: string, body: unknown) =>
  service.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), {
    qos: 1,
    retain: true,
  });

/** A stream's lines as they arrive; `events()` parses its data lines with the schema. */
async function stream(path: string) {
  const abort = new AbortController();
  aborts.push(abort);
  const res = await fetch(`${base}${path}`, { signal: abort.signal });
  let text = '';
  if (res.ok) {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    void (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    })().catch(() => {});
  }
  return {
    res,
    text: () => text,
    events: () => [...text.matchAll(/^data: (.*)$/gm)].map((m) => VisitEvent.parse(JSON.parse(m[1] ?? ''))),
  };
}

beforeAll(async () => {
  h = await startBroker();
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  await publish(topics.signageCongestion('library'), congestion(registry, 'library', 'hour', 2));
  // Its own web app with a small limit and a quick heartbeat, on the harness's broker.
  live = new VisitLive(h.running.runtime, registry, { maxClients: 2, heartbeatMs: 200 });
  live.start();
  app = new HttpApp(h.running.runtime.log).register(visitPlugin, { config: h.config, registry, live });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  for (const a of aborts) a.abort();
  await live?.stop();
  await app?.close();
  await h?.stop();
}, 60_000);

describe('visitor live stream', () => {
  it('sends what the broker retains, then changes; ignores messages that break the schema', async () => {
    const s = await stream('/visit/library/events');
    const own = () => s.events().filter((e) => e.type === 'congestion');
    await eventually(async () => own().find((e) => e.type === 'congestion' && e.message !== null));
    // A message that is no CongestionMessage clears the site rather than linger or reach phones.
    await publish(topics.signageCongestion('library'), { v: 1, siteId: 'library', current: 'busy' });
    await eventually(
      async () => (own().at(-1)?.type === 'congestion' && own().at(-1)?.message === null) || undefined,
    );
    // The notice of a sign in the same area reaches a site without a sign.
    await publish(topics.signageNotice('city-hall'), notice('city-hall', true, false));
    const taken = await eventually(async () =>
      s.events().find((e) => e.type === 'notice' && e.notice !== null),
    );
    expect(taken.type === 'notice' && taken.areaId).toBe('takeo-town');
    await publish(topics.signageNotice('city-hall'), '');
    await eventually(async () => {
      const last = s.events().at(-1);
      return last?.type === 'notice' && last.notice === null ? true : undefined;
    });
  });

  it('sends heartbeats and refuses a stream beyond the limit with 503 and Retry-After', async () => {
    // With the first test's stream still open, this one reaches the limit of two.
    const second = await stream('/visit/events');
    await eventually(async () => (second.text().includes(': ping') ? true : undefined), 5000);
    const third = await fetch(`${base}/visit/events`);
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('30');
    expect((await third.json()).code).toBe('MACHI_ERR_BUSY');
    // A closed stream frees its place.
    aborts.at(-1)?.abort();
    await eventually(
      async () => ((await stream('/visit/events')).res.status === 200 ? true : undefined),
      5000,
    );
  });
});

// Live data for the visitors' phones: machi subscribes once, as machi-service, to the retained public
// signage topics, keeps the latest congestion per site and notice per area, and streams them to
// each phone as server-sent events. Phones need no MQTT credentials (production refuses anonymous
// MQTT), one broker subscription serves every phone, and EventSource reconnects by itself.
import type { ServerResponse } from 'node:http';
import type { MqttClient } from 'mqtt';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from '../../registry/schema.ts';
import { connectService, type Runtime } from '../../runtime/component.ts';
import { CongestionMessage, PublicNotice } from '../../schemas/signage.ts';
import { filters } from '../../schemas/topics.ts';
import type { VisitEvent } from '../../schemas/visit.ts';

/** A payload's JSON; undefined when empty (a cleared retained message), null when unreadable. */
function parseJson(payload: Buffer): unknown {
  if (payload.length === 0) return undefined;
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
}

export interface VisitLiveOptions {
  /** Open streams at most; one more is answered 503 with Retry-After. */
  maxClients: number;
  /** A comment line this often keeps idle proxies from closing a stream and finds dead phones. */
  heartbeatMs: number;
}

const DEFAULTS: VisitLiveOptions = { maxClients: 2000, heartbeatMs: 20_000 };

/** What one stream wants: a site's full forecast, other sites' levels, areas' notices. */
export interface StreamScope {
  own?: string;
  levels: Set<string>;
  areas: Set<string>;
}

interface Stream {
  res: ServerResponse;
  scope: StreamScope;
}

export class VisitLive {
  private readonly congestion = new Map<string, CongestionMessage>();
  private readonly notices = new Map<string, PublicNotice>();
  private readonly streams = new Set<Stream>();
  private readonly areaOf: Map<string, string>;
  private readonly clients: Gauge;
  private readonly refused: Counter;
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runtime: Runtime,
    registry: Registry,
    private readonly options: VisitLiveOptions = DEFAULTS,
  ) {
    this.areaOf = new Map([...registry.sites.values()].map((s) => [s.id, s.area]));
    this.clients = new Gauge({
      name: 'machi_visit_streams',
      help: "Visitor pages' open live streams (server-sent events)",
      registers: [runtime.metrics],
    });
    this.refused = new Counter({
      name: 'machi_visit_streams_refused_total',
      help: 'Visitor live streams refused because the limit was reached',
      registers: [runtime.metrics],
    });
  }

  start(): void {
    const client = connectService(this.runtime, 'web');
    this.client = client;
    // Retained messages come again on every (re)subscription: the state is rebuilt after a broker restart.
    client.on(
      'connect',
      () => void client.subscribeAsync([...filters.publicSignage], { qos: 1 }).catch(() => {}),
    );
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    this.timer = setInterval(() => {
      for (const s of this.streams) s.res.write(': ping\n\n');
    }, this.options.heartbeatMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.streams) s.res.end();
    await this.client?.endAsync(true);
  }

  /** The site's retained congestion message as the signs have it (the open-data API reads it too). */
  congestionOf(siteId: string): CongestionMessage | undefined {
    return this.congestion.get(siteId);
  }

  /** Opens a stream for `scope`: the current state at once, then every change. */
  open(res: ServerResponse, scope: StreamScope): void {
    if (this.streams.size >= this.options.maxClients) {
      this.refused.inc();
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '30' });
      res.end(JSON.stringify({ error: 'too many live visitors', code: 'MACHI_ERR_BUSY' }));
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Tells nginx-like proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    const stream = { res, scope };
    this.streams.add(stream);
    this.clients.set(this.streams.size);
    res.on('close', () => {
      this.streams.delete(stream);
      this.clients.set(this.streams.size);
    });
    // EventSource waits this long before reconnecting after the stream drops.
    res.write('retry: 3000\n\n');
    if (scope.own) this.send(stream, this.congestionEvent(scope.own));
    for (const id of scope.levels) this.send(stream, this.levelEvent(id));
    for (const areaId of scope.areas)
      this.send(stream, { type: 'notice', areaId, notice: this.notices.get(areaId) ?? null });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const [, , , siteId, kind] = topic.split('/');
    const areaId = siteId ? this.areaOf.get(siteId) : undefined;
    if (!siteId || !areaId) return;
    // An empty retained message clears; one that is not valid clears too rather than linger.
    const body = parseJson(payload);
    if (kind === 'congestion') {
      const parsed = CongestionMessage.safeParse(body);
      if (parsed.success && parsed.data.siteId === siteId) this.congestion.set(siteId, parsed.data);
      else this.congestion.delete(siteId);
      this.warnInvalid(topic, body, parsed.success);
      for (const s of this.streams) {
        if (s.scope.own === siteId) this.send(s, this.congestionEvent(siteId));
        if (s.scope.levels.has(siteId)) this.send(s, this.levelEvent(siteId));
      }
    } else if (kind === 'notice') {
      // The alerts service publishes the same notice to every sign of an area: the latest stands for it.
      const parsed = PublicNotice.safeParse(body);
      if (parsed.success && parsed.data.active) this.notices.set(areaId, parsed.data);
      else this.notices.delete(areaId);
      this.warnInvalid(topic, body, parsed.success);
      const notice = this.notices.get(areaId) ?? null;
      for (const s of this.streams)
        if (s.scope.areas.has(areaId)) this.send(s, { type: 'notice', areaId, notice });
    }
  }

  private warnInvalid(topic: string, body: unknown, valid: boolean): void {
    if (body !== undefined && !valid)
      this.runtime.log.warn({ topic }, 'visit: invalid signage message ignored');
  }

  private congestionEvent(siteId: string): VisitEvent {
    return { type: 'congestion', siteId, message: this.congestion.get(siteId) ?? null };
  }

  private levelEvent(siteId: string): VisitEvent {
    const m = this.congestion.get(siteId);
    return {
      type: 'level',
      siteId,
      level: m ? { issuedAt: m.issuedAt, stale: m.stale, current: m.current } : null,
    };
  }

  private send(stream: Stream, event: VisitEvent): void {
    stream.res.write(`data: ${JSON.stringify(event)}\n\n`);
  }
}

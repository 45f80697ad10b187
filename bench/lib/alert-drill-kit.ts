// What the alert fault drills (bench/alert-drills.ts) drive and watch: a flood simulated by the
// registry's own sensors (real MQTT clients with their demo secrets, each in its vendor format),
// the office console (MQTT, user `office`) and the city-hall sign (`mosquitto_sub`, a client machi
// did not write), a webhook receiver that can be taken down, and readers of the Kafka audit trail
// and the InfluxDB annotations. Everything seen is stamped with this process's clock on arrival.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import { InfluxDB } from '@influxdata/influxdb-client';
import type { Kafka } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { deliveryIdOf } from '../../src/alerts/outbox.ts';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signature, TIMESTAMP_HEADER } from '../../src/alerts/webhooks.ts';
import { IDLE_TOPIC_CONSUMER } from '../../src/bus/consumer.ts';
import type { Registry } from '../../src/registry/schema.ts';
import { ActiveAlerts, AlertEvent } from '../../src/schemas/alerts.ts';
import { DeviceStatus } from '../../src/schemas/health.ts';
import type { FloodReading } from '../../src/schemas/readings.ts';
import { PublicNotice } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { DeviceFleet } from '../../src/simulators/devices.ts';
import { uniqueName } from '../../tests/support/helpers.ts';
import { sleep, within } from './processes.ts';

/**
 * Polls `probe` every 50 ms until it returns a value; undefined once `timeoutMs` has passed. A probe
 * that throws (a service still down) counts as "not yet".
 */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(50);
  }
}

export interface Seen<T> {
  /** When it arrived here (ms, this process's clock). */
  at: number;
  value: T;
}

/** Messages as they arrived. */
export class Arrivals<T> {
  readonly seen: Seen<T>[] = [];

  add(value: T): void {
    this.seen.push({ at: Date.now(), value });
  }

  /** The first arrival at or after `from` that passes `test`, waiting up to `timeoutMs` for it. */
  first(test: (v: T) => boolean, from: number, timeoutMs: number): Promise<Seen<T> | undefined> {
    return waitFor(() => this.seen.find((s) => s.at >= from && test(s.value)), timeoutMs);
  }

  latest(): T | undefined {
    return this.seen.at(-1)?.value;
  }
}

/** The level a console shows for an area: its open alert's, or "none". */
export const consoleLevel = (a: ActiveAlerts) => a.alerts[0]?.level ?? 'none';
/** What a sign shows: the public notice's level, or "none" (watch never reaches the public). */
export const signLevel = (n: PublicNotice) => (n.active ? (n.level ?? 'none') : 'none');

interface Condition {
  wet: boolean;
  depthCm?: number;
  /** How far the sensor's own clock runs ahead of the true time. */
  clockAheadMs?: number;
}

/**
 * A flood under way: every flood sensor of `areas` reports its condition every `reportMs` (so no
 * radio sensor falls silent), and a change is reported at once. Publishes are QoS 1; the periodic
 * ones are not waited for, so an outage anywhere never stalls the simulation.
 */
export class Flood {
  private readonly fleet: DeviceFleet;
  private readonly conditions = new Map<string, Condition>();
  private readonly areaOf = new Map<string, string>();
  private readonly seqs = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    url: string,
    registry: Registry,
    areas: string[],
    private readonly reportMs: number,
  ) {
    this.fleet = new DeviceFleet(url, registry, { drill: false });
    for (const d of registry.devices.values())
      if (d.kind === 'flood-sensor' && areas.includes(d.area)) {
        this.conditions.set(d.id, { wet: false });
        this.areaOf.set(d.id, d.area);
      }
  }

  /**
   * Starts the reports; resolves once every sensor's first report was acknowledged (or after
   * `ackTimeoutMs`): each sensor logs in on its first report, and a login takes the broker a while
   * (scrypt), so a drill that starts sooner would find its sensor's change sent late.
   */
  async start(ackTimeoutMs = 60_000): Promise<void> {
    const first = Promise.allSettled([...this.conditions.keys()].map((id) => this.report(id)));
    this.timer = setInterval(() => {
      for (const id of this.conditions.keys()) this.report(id).catch(() => {});
    }, this.reportMs);
    await within(first, ackTimeoutMs);
  }

  /**
   * Changes sensors' conditions and reports them at once; resolves with when they were sent, once
   * the broker has acknowledged them (so they are in Kafka) or after `ackTimeoutMs`.
   */
  async set(changes: Record<string, Condition>, ackTimeoutMs = 10_000): Promise<number> {
    for (const [id, c] of Object.entries(changes)) {
      if (!this.conditions.has(id)) throw new Error(`${id} is not one of this flood's sensors`);
      this.conditions.set(id, c);
    }
    const sentAt = Date.now();
    const acked = Promise.all(Object.keys(changes).map((id) => this.report(id)));
    await within(acked, ackTimeoutMs);
    return sentAt;
  }

  /** Every sensor of `areas` dry, on an honest clock (drills in other areas go on undisturbed). */
  dry(areas: string[]): Promise<number> {
    const ids = [...this.areaOf].filter(([, area]) => areas.includes(area)).map(([id]) => id);
    return this.set(Object.fromEntries(ids.map((id) => [id, { wet: false }])));
  }

  private report(id: string): Promise<void> {
    const c = this.conditions.get(id) as Condition;
    const seq = (this.seqs.get(id) ?? 0) + 1;
    this.seqs.set(id, seq);
    const reading: FloodReading = {
      kind: 'flood',
      deviceId: id,
      time: new Date(Date.now() + (c.clockAheadMs ?? 0)).toISOString(),
      seq,
      wet: c.wet,
      ...(c.depthCm === undefined ? {} : { depthCm: c.depthCm }),
    };
    return this.fleet.publish(id, topics.floodReading(id), reading);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await within(this.fleet.close(), 10_000);
  }
}

/** The office console: an MQTT client as user `office` on areas' alerts, a sign's notice and device status. */
export class OfficeConsole {
  private readonly areas = new Map<string, Arrivals<ActiveAlerts>>();
  readonly notices = new Arrivals<PublicNotice>();
  readonly status = new Arrivals<DeviceStatus>();
  /** Messages on the watched topics that were not what their schema says. */
  readonly invalid: string[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      try {
        const json = JSON.parse(payload.toString('utf8'));
        if (topic.endsWith('/active')) {
          const active = ActiveAlerts.parse(json);
          this.active(active.areaId).add(active);
        } else if (topic.endsWith('/notice')) this.notices.add(PublicNotice.parse(json));
        else this.status.add(DeviceStatus.parse(json));
      } catch (err) {
        this.invalid.push(`${topic}: ${(err as Error).message.slice(0, 200)}`);
      }
    });
  }

  /** What the console has received for one area's active alerts. */
  active(areaId: string): Arrivals<ActiveAlerts> {
    let a = this.areas.get(areaId);
    if (!a) {
      a = new Arrivals<ActiveAlerts>();
      this.areas.set(areaId, a);
    }
    return a;
  }

  static async open(
    url: string,
    password: string,
    watch: { areaIds: string[]; siteId: string; deviceIds: string[] },
  ): Promise<OfficeConsole> {
    const client = await mqtt.connectAsync(url, {
      username: 'office',
      password,
      clientId: uniqueName('office-console'),
      reconnectPeriod: 500,
    });
    const office = new OfficeConsole(client);
    await client.subscribeAsync(
      [
        ...watch.areaIds.map((id) => topics.alertsActive(id)),
        topics.signageNotice(watch.siteId),
        ...watch.deviceIds.map((id) => topics.deviceStatus('flood', id)),
      ],
      { qos: 1 },
    );
    return office;
  }

  /** Acknowledges an alert the way the console does: a (never retained) message on the area's ack topic. */
  async acknowledge(alertId: string, areaId: string, by: string): Promise<void> {
    const ack = { v: 1, alertId, areaId, by, at: new Date().toISOString() };
    await this.client.publishAsync(topics.alertAck(areaId), JSON.stringify(ack), { qos: 1 });
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/** A sign as a foreign client: `mosquitto_sub` on its retained notice, one JSON payload per line. */
export class SignWatcher {
  readonly notices = new Arrivals<PublicNotice>();
  /** Lines that were not a public notice. */
  readonly invalid: string[] = [];
  private readonly child: ChildProcess;

  constructor(port: number, siteId: string, password: string) {
    this.child = spawn(
      'mosquitto_sub',
      [
        ...['-h', '127.0.0.1', '-p', String(port), '-q', '1'],
        ...['-u', `signage/${siteId}`, '-P', password, '-i', uniqueName(`sign-${siteId}`)],
        ...['-t', topics.signageNotice(siteId)],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.notices.add(PublicNotice.parse(JSON.parse(line)));
      } catch {
        this.invalid.push(line.slice(0, 200));
      }
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill();
    await within(exited, 5000);
  }
}

export interface Delivery {
  at: number;
  event: AlertEvent;
  deliveryId: string;
  /** The delivery id is the one derived from the body, and the HMAC signature verifies. */
  genuine: boolean;
}

/** A webhook receiver on a fixed port that can be taken down (connections refused) and brought back. */
export class WebhookSink {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;

  constructor(
    readonly port: number,
    private readonly secret: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/alerts`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.deliveries.push(this.check(body, req.headers));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Stops listening and drops every open connection: from now on a delivery is refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise((r) => server.close(r));
    server.closeAllConnections();
    await closed;
  }

  private check(body: Buffer, headers: IncomingHttpHeaders): Delivery {
    const deliveryId = String(headers[DELIVERY_HEADER]);
    const ts = String(headers[TIMESTAMP_HEADER]);
    const text = body.toString('utf8');
    const genuine =
      deliveryId === deliveryIdOf(body) && headers[SIGNATURE_HEADER] === signature(this.secret, ts, text);
    return { at: Date.now(), event: AlertEvent.parse(JSON.parse(text)), deliveryId, genuine };
  }
}

export interface TrailRecord {
  partition: number;
  offset: number;
  /** Kafka's timestamp: when the audit write reached Kafka. */
  timestamp: number;
  deliveryId: string;
  event: AlertEvent;
}

/** The whole audit trail as Kafka holds it now, read from the beginning to each partition's end. */
export async function readTrail(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<TrailRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const remaining = new Map(ends.filter((p) => p.high !== p.low).map((p) => [p.partition, Number(p.high)]));
  const records: TrailRecord[] = [];
  if (remaining.size === 0) return records;
  // Read to its end, the consumer leaves only once its last (empty) fetch returns: a short one.
  const consumer = kafka.consumer({ groupId: uniqueName('alert-drill-trail'), ...IDLE_TOPIC_CONSUMER });
  const read = (partition: number, offset: number) => {
    if (offset + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
  };
  // The trail is written in transactions: a partition ends with a commit marker that no consumer
  // is handed, and kafkajs tells its offset only in the end-of-batch event.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
    read(payload.partition, Number(payload.lastOffset)),
  );
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        const value = message.value ?? Buffer.alloc(0);
        records.push({
          partition,
          offset,
          timestamp: Number(message.timestamp),
          deliveryId: deliveryIdOf(value),
          event: AlertEvent.parse(JSON.parse(value.toString('utf8'))),
        });
        read(partition, offset);
      },
    });
    if ((await waitFor(() => (remaining.size === 0 ? true : undefined), timeoutMs)) === undefined)
      throw new Error(`audit trail not read to its end within ${timeoutMs / 1000} s`);
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** `transition:level` of each event, the way the drills compare sequences. */
export const steps = (events: AlertEvent[]) => events.map((e) => `${e.transition}:${e.level}`);

/** The `alert_event` points InfluxDB holds for these alerts, as `alertId|state|level|time ms` keys. */
export async function annotationKeys(url: string, alertIds: string[], since: number): Promise<Set<string>> {
  const ids = alertIds.map((id) => JSON.stringify(id)).join(', ');
  const rows = await new InfluxDB({ url, token: 'x', timeout: 10_000 })
    .getQueryApi('takeo')
    .collectRows<{ _value: string; state: string; level: string; _time: string }>(
      `from(bucket: "machi") |> range(start: ${new Date(since).toISOString()})
        |> filter(fn: (r) => r._measurement == "alert_event" and r._field == "alert_id")
        |> filter(fn: (r) => contains(value: r._value, set: [${ids}]))`,
    );
  return new Set(rows.map((r) => `${r._value}|${r.state}|${r.level}|${Date.parse(r._time)}`));
}

export const annotationKey = (e: AlertEvent) =>
  `${e.alertId}|${e.transition}|${e.level}|${Date.parse(e.time)}`;

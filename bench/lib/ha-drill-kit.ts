// What the storm drill (bench/ha-drill.ts) drives and watches through two brokers: devices and
// screens that hold the client-side list of both brokers (mqtt.js `servers`: each reconnect tries
// the next one), so a client of a killed broker carries on through the other.
import type { Consumer, Kafka } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { deliveryIdOf } from '../../src/alerts/outbox.ts';
import { IDLE_TOPIC_CONSUMER } from '../../src/bus/consumer.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { ActiveAlerts, AlertEvent } from '../../src/schemas/alerts.ts';
import { PublicNotice } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { Arrivals, consoleLevel, signLevel, type TrailRecord } from './alert-drill-kit.ts';
import { sleep } from './processes.ts';

/** A client that starts on `ports[0]` and fails over to the others in turn. */
function failoverClient(ports: number[], opts: mqtt.IClientOptions): MqttClient {
  return mqtt.connect(`mqtt://127.0.0.1:${ports[0]}`, {
    servers: ports.map((port) => ({ host: '127.0.0.1', port })),
    reconnectPeriod: 500,
    connectTimeout: 5000,
    ...opts,
  });
}

/** What a screen shows now: the level and the alert it is about. */
export interface Shown {
  level: string;
  alertId: string | undefined;
}

/**
 * The office console and a city-hall sign, each an MQTT client that starts on `ports[0]`: the
 * console (user `office`) on an area's active alerts, the sign (`signage/<site>`) on its notice.
 */
export class Screens {
  readonly office = new Arrivals<Shown>();
  readonly sign = new Arrivals<Shown>();
  /** Messages that were not what their schema says. */
  readonly invalid: string[] = [];
  private readonly clients: MqttClient[];

  constructor(
    readonly name: string,
    ports: number[],
    area: string,
    site: string,
    passwords: { office: string; signage: string },
  ) {
    const office = failoverClient(ports, {
      username: 'office',
      password: passwords.office,
      clientId: `ha-office-${name}-${process.pid}`,
    });
    office.on('connect', () => office.subscribe(topics.alertsActive(area), { qos: 1 }));
    office.on('message', (topic, payload) => {
      try {
        const a = ActiveAlerts.parse(JSON.parse(payload.toString('utf8')));
        this.office.add({ level: consoleLevel(a), alertId: a.alerts[0]?.id });
      } catch (err) {
        this.invalid.push(`${topic}: ${(err as Error).message.slice(0, 200)}`);
      }
    });
    const sign = failoverClient(ports, {
      username: `signage/${site}`,
      password: passwords.signage,
      clientId: `ha-sign-${name}-${process.pid}`,
    });
    sign.on('connect', () => sign.subscribe(topics.signageNotice(site), { qos: 1 }));
    sign.on('message', (topic, payload) => {
      try {
        const n = PublicNotice.parse(JSON.parse(payload.toString('utf8')));
        this.sign.add({ level: signLevel(n), alertId: n.alertId });
      } catch (err) {
        this.invalid.push(`${topic}: ${(err as Error).message.slice(0, 200)}`);
      }
    });
    this.clients = [office, sign];
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true)));
  }
}

/**
 * The fleet under the storm: every device publishes a QoS 1 reading `{time, seq, wet}` every
 * `periodMs` (seqs 1, 2, … per device), half of them starting on each broker. Each publish is noted
 * under the phase it was sent in; one acknowledged is noted as such.
 */
export class StormFleet {
  /** `device#seq` → the phase it was sent in. */
  readonly sent = new Map<string, string>();
  readonly acked = new Set<string>();
  private readonly wet = new Set<string>();
  private readonly clients = new Map<string, MqttClient>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly seqs = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  phase = 'start';

  constructor(
    private readonly ids: string[],
    private readonly ports: number[],
    private readonly periodMs: number,
  ) {}

  /** Connects every device (bounded) and starts the stream. */
  async start(): Promise<void> {
    for (const [i, id] of this.ids.entries()) {
      const ports = i % 2 === 0 ? this.ports : [...this.ports].reverse();
      const client = failoverClient(ports, {
        username: id,
        password: demoSecret(id),
        clientId: `ha-${id}`,
        clean: false,
      });
      this.clients.set(id, client);
    }
    await Promise.all(
      [...this.clients.values()].map((c) =>
        Promise.race([new Promise((r) => c.once('connect', r)), sleep(30_000)]),
      ),
    );
    this.timer = setInterval(() => {
      for (const id of this.ids) this.report(id);
    }, this.periodMs);
  }

  /** Sets devices wet or dry and reports them at once; resolves with when they were sent. */
  set(ids: string[], wet: boolean): number {
    for (const id of ids) {
      if (wet) this.wet.add(id);
      else this.wet.delete(id);
    }
    const at = Date.now();
    for (const id of ids) this.report(id);
    return at;
  }

  dryAll(): number {
    return this.set([...this.wet], false);
  }

  private report(id: string): void {
    const client = this.clients.get(id);
    if (!client) return;
    const seq = (this.seqs.get(id) ?? 0) + 1;
    this.seqs.set(id, seq);
    const key = `${id}#${seq}`;
    this.sent.set(key, this.phase);
    const payload = JSON.stringify({ time: new Date().toISOString(), seq, wet: this.wet.has(id) });
    const done = client.publishAsync(topics.floodReading(id), payload, { qos: 1 }).then(
      () => void this.acked.add(key),
      () => {},
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  /** Stops publishing; waits (bounded) for the answers to what is in flight, then disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.race([Promise.all(this.pending), sleep(60_000)]);
    await Promise.all([...this.clients.values()].map((c) => c.endAsync(true)));
  }
}

/**
 * The audit trail from its beginning, for the whole drill, across every Kafka node failure: as a
 * reader sees it (committed transactions only: the alert engine writes it fenced), or with
 * `readUncommitted` everything written, aborted writes included (the evidence of a lost event).
 * A record read again after the group restarts (nothing is committed) is kept once, by offset.
 */
export class TrailCollector {
  readonly records: TrailRecord[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(
    kafka: Kafka,
    topic: string,
    groupId: string,
    readUncommitted = false,
  ): Promise<TrailCollector> {
    const consumer = kafka.consumer({ ...IDLE_TOPIC_CONSUMER, groupId, readUncommitted });
    const seen = new Set<string>();
    const trail = new TrailCollector(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (seen.has(`${partition}:${message.offset}`)) return;
        seen.add(`${partition}:${message.offset}`);
        const value = message.value ?? Buffer.alloc(0);
        trail.records.push({
          partition,
          offset: Number(message.offset),
          timestamp: Number(message.timestamp),
          deliveryId: deliveryIdOf(value),
          event: AlertEvent.parse(JSON.parse(value.toString('utf8'))),
        });
      },
    });
    return trail;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

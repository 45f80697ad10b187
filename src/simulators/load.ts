// The load generator: many concurrent authenticated device connections publishing QoS 1 at a
// total rate (or as fast as PUBACKs come), reporting acknowledged throughput and publish→PUBACK
// latency percentiles. Every loop is bounded in count and time; loopback only.
import mqtt from 'mqtt';
import type { BrokerTrust } from '../runtime/component.ts';
import { topics } from '../schemas/topics.ts';
import { LeanPublisher } from './lean-publisher.ts';

export interface LoadOptions {
  url: string;
  /** The CA to trust for an mqtts:// broker (MQTT_CA); none: Node's own CAs. */
  tls?: BrokerTrust;
  deviceIds: string[];
  secret: (id: string) => string;
  /** Total messages per second; 0 = each device keeps `window` messages in flight. */
  rate: number;
  durationS: number;
  window?: number;
  /** Source addresses to spread connections over (127.0.0.x) when ports run short. */
  localAddresses?: string[];
  /** Username for every connection (a bare broker without auth ignores it). */
  payload?: (deviceId: string, seq: number) => string;
  /**
   * At a fixed rate: messages awaiting their PUBACK beyond which due messages are not sent (and
   * counted as unsent), so a broker that stops acknowledging cannot grow the generator's memory
   * without bound (default: 10 s of the rate).
   */
  maxOutstanding?: number;
  /**
   * The MQTT client each device uses: MQTT.js (default), or the lean publisher, which costs the
   * shared CPU much less per message (for end-to-end runs where the generator competes with the
   * pipeline it measures).
   */
  client?: 'mqtt.js' | 'lean';
  /** Each PUBACK as it comes: when its publish was sent (ms since the epoch) and how long it took. */
  onPuback?: (sentAt: number, latencyMs: number) => void;
}

/** What the generator needs of a device's connection. */
interface Publisher {
  publish(topic: string, payload: string): Promise<unknown>;
  end(): Promise<unknown>;
}

interface DeviceConnect {
  url: string;
  tls: BrokerTrust | undefined;
  id: string;
  password: string;
  localAddress: string | undefined;
}

async function openPublisher(kind: 'mqtt.js' | 'lean', d: DeviceConnect): Promise<Publisher> {
  const common = { clientId: `load-${d.id}`, username: d.id, password: d.password };
  if (kind === 'lean') {
    const url = new URL(d.url);
    const tls = url.protocol === 'mqtts:' ? (d.tls ?? {}) : undefined;
    return LeanPublisher.open({
      ...common,
      host: url.hostname,
      port: Number(url.port || (tls ? 8883 : 1883)),
      tls,
      connectTimeoutMs: 30_000,
      ...(d.localAddress ? { localAddress: d.localAddress } : {}),
    });
  }
  const client = await mqtt.connectAsync(d.url, {
    ...d.tls,
    ...common,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
    ...(d.localAddress ? { localAddress: d.localAddress } : {}),
  });
  return {
    publish: (topic, payload) => client.publishAsync(topic, payload, { qos: 1 }),
    end: () => client.endAsync(true),
  };
}

export interface LoadResult {
  devices: number;
  connectSeconds: number;
  sent: number;
  acknowledged: number;
  failed: number;
  /** Due at the fixed rate but not sent: too many awaited their PUBACK. */
  unsent: number;
  seconds: number;
  /** Wall-clock bounds (ms since the epoch) of the publishing: every reading's time lies within. */
  startedAt: number;
  endedAt: number;
  throughput: number;
  latencyMs: { p50: number; p95: number; p99: number };
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const payload =
    opts.payload ??
    ((_id: string, seq: number) =>
      JSON.stringify({ time: new Date().toISOString(), seq, wet: seq % 2 === 0 }));
  const connectStart = Date.now();
  const clients: Publisher[] = [];
  for (let i = 0; i < opts.deviceIds.length; i += 100) {
    const batch = opts.deviceIds.slice(i, i + 100);
    clients.push(
      ...(await Promise.all(
        batch.map((id, j) =>
          openPublisher(opts.client ?? 'mqtt.js', {
            url: opts.url,
            tls: opts.tls,
            id,
            password: opts.secret(id),
            localAddress: opts.localAddresses?.[(i + j) % opts.localAddresses.length],
          }),
        ),
      )),
    );
  }
  const connectSeconds = (Date.now() - connectStart) / 1000;
  const latencies: number[] = [];
  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  let unsent = 0;
  const seqs = new Map<string, number>();
  const publishOne = (i: number) => {
    const client = clients[i] as Publisher;
    const id = opts.deviceIds[i] as string;
    const seq = seqs.get(id) ?? 0;
    seqs.set(id, seq + 1);
    const t0 = performance.now();
    const sentAt = Date.now();
    sent++;
    return client.publish(topics.floodReading(id), payload(id, seq)).then(
      () => {
        acknowledged++;
        const latency = performance.now() - t0;
        latencies.push(latency);
        opts.onPuback?.(sentAt, latency);
      },
      () => {
        failed++;
      },
    );
  };

  const start = Date.now();
  const end = start + opts.durationS * 1000;
  if (opts.rate > 0) {
    // A fixed total rate, round-robin over the devices: each tick sends what is due by the clock,
    // so a late timer on a busy machine does not lower the offered rate.
    let next = 0;
    let outstanding = 0;
    const maxOutstanding = opts.maxOutstanding ?? Math.max(1000, opts.rate * 10);
    let drained: (() => void) | undefined;
    const settle = () => {
      outstanding--;
      if (outstanding === 0) drained?.();
    };
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - start) / 1000) * opts.rate) - sent - unsent;
      for (let k = 0; k < due; k++) {
        if (outstanding >= maxOutstanding) {
          unsent++;
          continue;
        }
        outstanding++;
        void publishOne(next).then(settle);
        next = (next + 1) % clients.length;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (outstanding > 0) {
      await Promise.race([
        new Promise<void>((r) => {
          drained = r;
        }),
        new Promise((r) => setTimeout(r, 30_000)),
      ]);
    }
  } else {
    const window = opts.window ?? 20;
    await Promise.all(
      clients.map(async (_c, i) => {
        const lanes = Array.from({ length: window }, async () => {
          while (Date.now() < end) await publishOne(i);
        });
        await Promise.all(lanes);
      }),
    );
  }
  const endedAt = Date.now();
  const seconds = (endedAt - start) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  const sorted = latencies.sort((a, b) => a - b);
  return {
    devices: clients.length,
    connectSeconds,
    sent,
    acknowledged,
    failed,
    unsent,
    seconds,
    startedAt: start,
    endedAt,
    throughput: acknowledged / Math.min(seconds, opts.durationS),
    latencyMs: { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99) },
  };
}

// Simulated devices as real MQTT clients: each logs in with its own credentials and speaks its
// vendor format. A drill run connects every device with its exercise's drill client id, so the
// broker flags the data as drill and tags it with the run (a new run starts the drill rules afresh).
import { randomInt } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { adapterFor } from '../adapters/index.ts';
import type { Registry } from '../registry/schema.ts';
import { demoSecret } from '../registry/secrets.ts';
import type { BrokerTrust } from '../runtime/component.ts';
import { type CanonicalReading, drillClientId } from '../schemas/readings.ts';

/** A drill run's id, [a-z0-9] only: when it began (base36 ms, so ids sort by time) and 4 random characters. */
export function newExerciseId(now = Date.now()): string {
  return `${now.toString(36)}${randomInt(36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
}

/** The client id a simulated device connects with: its drill run's, or `sim-<id>` outside drills. */
export function simClientId(deviceId: string, exercise?: string): string {
  return exercise ? drillClientId(deviceId, exercise) : `sim-${deviceId}`;
}

export class DeviceFleet {
  private readonly clients = new Map<string, Promise<MqttClient>>();
  /** The drill run this fleet's data belongs to; undefined outside drills. */
  readonly exercise: string | undefined;

  constructor(
    private readonly url: string,
    private readonly registry: Registry,
    private readonly opts: { drill: boolean; secret?: (id: string) => string; tls?: BrokerTrust },
  ) {
    this.exercise = opts.drill ? newExerciseId() : undefined;
  }

  private client(deviceId: string): Promise<MqttClient> {
    let c = this.clients.get(deviceId);
    if (!c) {
      c = mqtt.connectAsync(this.url, {
        ...this.opts.tls,
        username: deviceId,
        password: (this.opts.secret ?? demoSecret)(deviceId),
        clientId: simClientId(deviceId, this.exercise),
        clean: false,
        reconnectPeriod: 1000,
      });
      this.clients.set(deviceId, c);
    }
    return c;
  }

  /** Publishes raw bytes (a replay) as the device; resolves on PUBACK. */
  async publishRaw(deviceId: string, topic: string, payload: Buffer | string, qos: 0 | 1 = 1): Promise<void> {
    const client = await this.client(deviceId);
    await client.publishAsync(topic, payload, { qos });
  }

  /** Publishes a canonical reading in the device's vendor format. */
  async publish(deviceId: string, topic: string, reading: CanonicalReading): Promise<void> {
    const device = this.registry.devices.get(deviceId);
    const adapter = device && adapterFor(device.vendor);
    if (!device || !adapter) throw new Error(`no device or adapter for ${deviceId}`);
    await this.publishRaw(deviceId, topic, adapter.encode(reading, device));
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.clients.values());
    await Promise.all(all.map((r) => (r.status === 'fulfilled' ? r.value.endAsync() : undefined)));
  }
}

/** Runs `items` through `fn` with at most `limit` in flight at once. */
export async function inParallel<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  });
  await Promise.all(workers);
}

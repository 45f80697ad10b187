// Simulated devices as real MQTT clients: each logs in with its own credentials and speaks its
// vendor format. A drill run connects as `drill-<id>` so the broker flags its data as drill.
import mqtt, { type MqttClient } from 'mqtt';
import { adapterFor } from '../src/adapters/index.ts';
import type { Registry } from '../src/registry/schema.ts';
import { demoSecret } from '../src/registry/secrets.ts';
import type { CanonicalReading } from '../src/schemas/readings.ts';

export class DeviceFleet {
  private readonly clients = new Map<string, Promise<MqttClient>>();

  constructor(
    private readonly url: string,
    private readonly registry: Registry,
    private readonly opts: { drill: boolean; secret?: (id: string) => string },
  ) {}

  private client(deviceId: string): Promise<MqttClient> {
    let c = this.clients.get(deviceId);
    if (!c) {
      c = mqtt.connectAsync(this.url, {
        username: deviceId,
        password: (this.opts.secret ?? demoSecret)(deviceId),
        clientId: `${this.opts.drill ? 'drill-' : 'sim-'}${deviceId}`,
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

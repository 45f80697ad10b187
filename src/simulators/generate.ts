// A scenario's whole message stream for the registry's devices, in time order.
import type { Registry } from '../registry/schema.ts';
import type { CanonicalReading } from '../schemas/readings.ts';
import { topics } from '../schemas/topics.ts';
import { simulateCounter } from './crowd-model.ts';
import { simulateFloodSensor } from './flood-model.ts';
import type { Scenario } from './scenario.ts';

export interface SimMessage {
  /** Simulated milliseconds since the scenario began. */
  atMs: number;
  deviceId: string;
  topic: string;
  reading: CanonicalReading;
}

function topicFor(reading: CanonicalReading, deviceKind: 'flood-sensor' | 'people-counter'): string {
  if (reading.kind === 'flood') return topics.floodReading(reading.deviceId);
  if (reading.kind === 'crowd') return topics.crowdCount(reading.deviceId);
  return topics.heartbeat(deviceKind === 'flood-sensor' ? 'flood' : 'crowd', reading.deviceId);
}

/** `start`: the device time simulated time 0 maps to (ms since the epoch). */
export function generate(s: Scenario, registry: Registry, start: number): SimMessage[] {
  const messages: SimMessage[] = [];
  for (const device of registry.devices.values()) {
    const emissions =
      device.kind === 'flood-sensor'
        ? simulateFloodSensor(device, s, start)
        : simulateCounter(device, registry, s, start);
    for (const e of emissions)
      messages.push({
        atMs: e.atMs,
        deviceId: device.id,
        topic: topicFor(e.reading, device.kind),
        reading: e.reading,
      });
  }
  return messages.sort((a, b) => a.atMs - b.atMs || a.deviceId.localeCompare(b.deviceId));
}

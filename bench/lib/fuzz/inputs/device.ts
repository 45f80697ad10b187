// What a real device sends: its topics and a valid reading in its vendor's format, the material
// every family breaks.

import { adapterFor } from '../../../../src/adapters/index.ts';
import type { Device } from '../../../../src/registry/schema.ts';
import type { CanonicalReading } from '../../../../src/schemas/readings.ts';
import { type DeviceMessage, type DeviceTopicKind, topics } from '../../../../src/schemas/topics.ts';
import type { Rng } from '../../../../src/simulators/prng.ts';
import { int } from '../../fuzz-random.ts';

export const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

export const topicKind = (d: Device): DeviceTopicKind => (d.kind === 'flood-sensor' ? 'flood' : 'crowd');

/** The device's reading message (heartbeats aside). */
export const primary = (d: Device): DeviceMessage => (d.kind === 'flood-sensor' ? 'reading' : 'count');

export function deviceTopic(d: Device, message: DeviceMessage): string {
  if (message === 'heartbeat') return topics.heartbeat(topicKind(d), d.id);
  return d.kind === 'flood-sensor' ? topics.floodReading(d.id) : topics.crowdCount(d.id);
}

/** A reading this device could really send at `time` (ms), in range for every vendor format. */
export function validReading(
  rng: Rng,
  d: Device,
  message: DeviceMessage,
  seq: number,
  time: number,
): CanonicalReading {
  const batteryV = Math.round(rng.between(2.5, 3.6) * 100) / 100;
  const rssiDbm = int(rng, -120, -40);
  if (message === 'heartbeat')
    return { kind: 'heartbeat', deviceId: d.id, time: isoSeconds(time), seq, batteryV, rssiDbm };
  if (d.kind === 'people-counter') {
    return {
      kind: 'crowd',
      deviceId: d.id,
      seq,
      intervalStart: isoSeconds(time - 300_000),
      intervalEnd: isoSeconds(time),
      peopleIn: int(rng, 0, 400),
      peopleOut: int(rng, 0, 400),
      occupancy: int(rng, 0, 2000),
    };
  }
  return {
    kind: 'flood',
    deviceId: d.id,
    time: isoSeconds(time),
    seq,
    wet: rng.next() < 0.5,
    stage: d.stagesCm.length ? int(rng, 0, d.stagesCm.length) : undefined,
    depthCm: d.depthThresholdsCm ? int(rng, 0, 1200) / 10 : undefined,
    batteryV,
    rssiDbm,
  };
}

export const encode = (reading: CanonicalReading, d: Device): Buffer =>
  adapterFor(d.vendor)?.encode(reading, d) ?? Buffer.alloc(0);

// Judges device health from what arrives, with an injected clock: offline after twice the
// promised heartbeat interval, except that a radio-type flood sensor going quiet is `silent`
// (possibly submerged) for the alert rules rather than plain offline.
import type { Device, Registry } from '../registry/schema.ts';
import type { DeviceStatus, HealthState } from '../schemas/health.ts';
import type { ReadingRecord } from '../schemas/readings.ts';

interface Tracked {
  device: Device;
  lastSeen: number | undefined;
  /** Silence is measured from here: the last message, or when this worker took the device on. */
  watchFrom: number;
  batteryV: number | undefined;
  rssiDbm: number | undefined;
  state: HealthState;
  since: number;
}

export class HealthTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly registry: Registry,
    private readonly lowBatteryV: number,
  ) {}

  /** Devices this worker judges (those on its partitions); others are forgotten. */
  own(deviceIds: Iterable<string>, now: number): void {
    const owned = new Set(deviceIds);
    for (const id of this.tracked.keys()) if (!owned.has(id)) this.tracked.delete(id);
    for (const id of owned) {
      const device = this.registry.devices.get(id);
      if (device && !this.tracked.has(id)) {
        this.tracked.set(id, {
          device,
          lastSeen: undefined,
          watchFrom: now,
          batteryV: undefined,
          rssiDbm: undefined,
          state: 'ok',
          since: now,
        });
      }
    }
  }

  /** Records one message; returns the status if the device's state changed. */
  observe(record: ReadingRecord, now: number): DeviceStatus | undefined {
    const t = this.tracked.get(record.reading.deviceId);
    if (!t) return undefined;
    const seen = Date.parse(record.receivedAt);
    if (t.lastSeen === undefined || seen >= t.lastSeen) {
      t.lastSeen = seen;
      t.watchFrom = seen;
      const r = record.reading;
      if ('batteryV' in r && r.batteryV !== undefined) t.batteryV = r.batteryV;
      if ('rssiDbm' in r && r.rssiDbm !== undefined) t.rssiDbm = r.rssiDbm;
    }
    return this.update(t, now);
  }

  /** Re-judges every owned device at `now`; returns the ones whose state changed. */
  tick(now: number): DeviceStatus[] {
    return [...this.tracked.values()].flatMap((t) => this.update(t, now) ?? []);
  }

  status(deviceId: string): DeviceStatus | undefined {
    const t = this.tracked.get(deviceId);
    return t && toStatus(t);
  }

  private update(t: Tracked, now: number): DeviceStatus | undefined {
    const state = judge(t, now, this.lowBatteryV);
    if (state === t.state) return undefined;
    t.state = state;
    t.since = now;
    return toStatus(t);
  }
}

export function judge(
  t: Pick<Tracked, 'device' | 'watchFrom' | 'batteryV'>,
  now: number,
  lowBatteryV: number,
): HealthState {
  if (now - t.watchFrom > 2 * t.device.heartbeatS * 1000) {
    return t.device.kind === 'flood-sensor' && t.device.family === 'radio' ? 'silent' : 'offline';
  }
  return t.batteryV !== undefined && t.batteryV < lowBatteryV ? 'low-battery' : 'ok';
}

function toStatus(t: Tracked): DeviceStatus {
  const d = t.device;
  return {
    v: 1,
    deviceId: d.id,
    kind: d.kind,
    ...(d.kind === 'flood-sensor' ? { area: d.area } : { site: d.site }),
    state: t.state,
    lastSeen: t.lastSeen === undefined ? undefined : new Date(t.lastSeen).toISOString(),
    batteryV: t.batteryV,
    rssiDbm: t.rssiDbm,
    since: new Date(t.since).toISOString(),
  };
}

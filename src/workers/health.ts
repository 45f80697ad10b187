// Judges device health from what arrives, with an injected clock: offline after twice the
// promised heartbeat interval, except that a radio-type flood sensor going quiet is `silent`
// (possibly submerged) for the alert rules rather than plain offline. Beside the state, a device
// whose clock is off by more than the allowed skew is flagged CLOCK_SKEW (its readings still count).
import type { Device, Registry } from '../registry/schema.ts';
import type { DeviceStatus, HealthState } from '../schemas/health.ts';
import { type ReadingKind, type ReadingRecord, readingTime } from '../schemas/readings.ts';

export interface HealthOptions {
  lowBatteryV: number;
  /** A reading whose device time is further than this from broker time flags its device. */
  clockSkewMs: number;
  /** Called for every skewed reading observed (owned device or not). */
  onSkewedReading?: (kind: ReadingKind) => void;
}

interface Tracked {
  device: Device;
  lastSeen: number | undefined;
  /** Silence is measured from here: the last message, or when this worker took the device on. */
  watchFrom: number;
  batteryV: number | undefined;
  rssiDbm: number | undefined;
  /** Device − broker time of the latest reading, while it is beyond the allowed skew. */
  skewMs: number | undefined;
  state: HealthState;
  /** Whether the last reported status carried CLOCK_SKEW. */
  skewReported: boolean;
  since: number;
}

export class HealthTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly registry: Registry,
    private readonly opts: HealthOptions,
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
          skewMs: undefined,
          state: 'ok',
          skewReported: false,
          since: now,
        });
      }
    }
  }

  /** Records one message; returns the status if the device's state or flags changed. */
  observe(record: ReadingRecord, now: number): DeviceStatus | undefined {
    const seen = Date.parse(record.receivedAt);
    // Drills run on their own simulated clock, ahead of the wall clock on purpose.
    const skew = record.drill ? undefined : Date.parse(readingTime(record.reading)) - seen;
    const skewed = skew !== undefined && Math.abs(skew) > this.opts.clockSkewMs;
    if (skewed) this.opts.onSkewedReading?.(record.reading.kind);
    const t = this.tracked.get(record.reading.deviceId);
    if (!t) return undefined;
    if (t.lastSeen === undefined || seen >= t.lastSeen) {
      t.lastSeen = seen;
      // A backlog read after taking the device on must not make it look silent sooner.
      t.watchFrom = Math.max(t.watchFrom, seen);
      const r = record.reading;
      if ('batteryV' in r && r.batteryV !== undefined) t.batteryV = r.batteryV;
      if ('rssiDbm' in r && r.rssiDbm !== undefined) t.rssiDbm = r.rssiDbm;
      if (skew !== undefined) t.skewMs = skewed ? skew : undefined;
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

  /** The owned devices there is something to say about: seen, or judged, since taken on. */
  known(): DeviceStatus[] {
    return [...this.tracked.values()]
      .filter((t) => t.lastSeen !== undefined || t.state !== 'ok')
      .map(toStatus);
  }

  private update(t: Tracked, now: number): DeviceStatus | undefined {
    const state = judge(t, now, this.opts.lowBatteryV);
    const skewed = t.skewMs !== undefined;
    if (state === t.state && skewed === t.skewReported) return undefined;
    if (state !== t.state) {
      t.state = state;
      t.since = now;
    }
    t.skewReported = skewed;
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
    ...(t.skewMs === undefined ? {} : { flags: ['CLOCK_SKEW'], clockSkewS: Math.round(t.skewMs / 1000) }),
  };
}

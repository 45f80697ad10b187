// The open data as one set of views, shared by /api/v1 and /ngsi-ld/v1: the registry for what
// exists and where, the signs' retained congestion messages for the level now and the forecast,
// InfluxDB for counts, readings and health, the retained active alerts and the audit trail.
import type { Registry } from '../../registry/schema.ts';
import type { CongestionMessage } from '../../schemas/signage.ts';
import { MEASUREMENTS } from '../../store/measurements.ts';
import type { AlertHistory } from '../office/alert-history.ts';
import type { RetainedAlerts } from './active-alerts.ts';
import type { FieldValue, InfluxReads } from './influx-reads.ts';
import { publicActive, publicHistory } from './public-alerts.ts';
import type {
  DeviceState,
  FloodReading,
  FloodSensor,
  PublicAlert,
  PublicAlertEvent,
  Site,
} from './schemas.ts';

export interface DeviceView {
  id: string;
  kind: 'flood-sensor' | 'people-counter';
  /** The area (flood sensors) or site (cameras) it serves. */
  place: string;
  lat: number;
  lon: number;
  health: DeviceState | null;
  batteryV: number | null;
  rssiDbm: number | null;
  lastSeen: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const num = (f: FieldValue | undefined) => (typeof f?.value === 'number' ? f.value : null);

export class OpenDataSource {
  constructor(
    readonly registry: Registry,
    readonly reads: InfluxReads,
    private readonly congestion: (siteId: string) => CongestionMessage | undefined,
    private readonly alerts: RetainedAlerts,
    private readonly history: { ready: boolean; history: AlertHistory },
  ) {}

  sites(): Site[] {
    return [...this.registry.sites.values()].map((s) => {
      const m = this.congestion(s.id);
      return {
        id: s.id,
        name: s.name,
        lat: s.lat,
        lon: s.lon,
        areaId: s.area,
        capacity: s.capacity,
        signage: s.signage,
        current: m ? { ...m.current, observedAt: m.current.observedAt ?? null } : null,
        forecast: m ? { issuedAt: m.issuedAt, stale: m.stale, steps: m.next } : null,
      };
    });
  }

  async floodSensors(): Promise<FloodSensor[]> {
    const [readings, health] = await Promise.all([
      this.reads.latest(MEASUREMENTS.flood.name, ['wet', 'stage', 'depth_cm']),
      this.reads.latest(MEASUREMENTS.deviceHealth.name, ['state']),
    ]);
    return [...this.registry.devices.keys()].flatMap(
      (id) =>
        floodSensorView(this.registry, id, floodReading(readings.get(id)), deviceState(health.get(id))) ?? [],
    );
  }

  async devices(): Promise<DeviceView[]> {
    const health = await this.reads.latest(MEASUREMENTS.deviceHealth.name, [
      'state',
      'battery_v',
      'rssi',
      'last_seen_ms',
    ]);
    return [...this.registry.devices.values()].map((d) => {
      const h = health.get(d.id);
      const lastSeen = num(h?.get('last_seen_ms'));
      return {
        id: d.id,
        kind: d.kind,
        place: d.kind === 'flood-sensor' ? d.area : d.site,
        lat: d.lat,
        lon: d.lon,
        health: deviceState(h),
        batteryV: num(h?.get('battery_v')),
        rssiDbm: num(h?.get('rssi')),
        lastSeen: lastSeen === null ? null : iso(lastSeen),
      };
    });
  }

  activeAlerts(): PublicAlert[] {
    return publicActive(this.alerts.all());
  }

  /** The first sensor of an open alert: the one whose reading raised it (NGSI-LD's alertSource). */
  triggeringSensor(alertId: string): string | undefined {
    for (const area of this.alerts.all())
      for (const a of area.alerts) if (a.id === alertId) return a.sensors[0];
    return undefined;
  }

  /** undefined until the audit trail is read (the caller answers 503). */
  alertHistory(
    from: number,
    to: number,
    area?: string,
  ): { events: PublicAlertEvent[]; heldSince: number } | undefined {
    if (!this.history.ready) return undefined;
    const held = this.history.history;
    const events = publicHistory(held.query(0)).filter((e) => {
      const t = Date.parse(e.time);
      return t >= from && t < to && (area === undefined || e.areaId === area);
    });
    return { events, heldSince: held.heldSince() };
  }
}

/** A registry flood sensor with a reading and health; undefined for any other device. */
export function floodSensorView(
  registry: Registry,
  deviceId: string,
  latest: FloodReading | null,
  health: DeviceState | null,
): FloodSensor | undefined {
  const d = registry.devices.get(deviceId);
  const area = d?.kind === 'flood-sensor' ? registry.areas.get(d.area) : undefined;
  if (d?.kind !== 'flood-sensor' || !area) return undefined;
  return {
    id: d.id,
    area: { id: area.id, name: area.name },
    family: d.family,
    lat: d.lat,
    lon: d.lon,
    stagesCm: d.stagesCm,
    depthThresholdsCm: d.depthThresholdsCm ?? null,
    latest,
    health,
  };
}

/** The newest reading: the time of its `wet` field, with stage and depth only if from that reading. */
function floodReading(fields: Map<string, FieldValue> | undefined): FloodReading | null {
  const wet = fields?.get('wet');
  if (!wet || typeof wet.value !== 'boolean') return null;
  const same = (name: string) => {
    const f = fields?.get(name);
    return f?.time === wet.time ? num(f) : null;
  };
  return { time: iso(wet.time), wet: wet.value, stage: same('stage'), depthCm: same('depth_cm') };
}

function deviceState(fields: Map<string, FieldValue> | undefined): DeviceState | null {
  const state = fields?.get('state');
  return state && typeof state.value === 'string' ? { state: state.value, since: iso(state.time) } : null;
}

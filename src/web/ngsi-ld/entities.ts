// machi's public data as FIWARE Smart Data Models entities (docs/open-data.md has the mapping):
// CrowdFlowObserved per site and 15 minutes, FloodMonitoring per flood sensor's newest reading,
// Device per sensor and camera, Alert per open public flood alert (and per pushed transition).
import type { Registry } from '../../registry/schema.ts';
import type { AlertLevel } from '../../schemas/alerts.ts';
import type { CrowdRow } from '../api/influx-reads.ts';
import type { FloodSensor } from '../api/schemas.ts';
import type { DeviceView } from '../api/source.ts';
import { date, type Entity, point, prop, rel } from './model.ts';

export const ENTITY_TYPES = ['CrowdFlowObserved', 'FloodMonitoring', 'Device', 'Alert'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

const PROVIDER = 'Takeo City (machi)';
const QUARTER_MS = 15 * 60_000;

export const urn = (type: EntityType, ...parts: string[]) => `urn:ngsi-ld:${type}:${parts.join(':')}`;
/** The type an id names (`urn:ngsi-ld:<type>:...`), if it is one of machi's. */
export function typeOfId(id: string): EntityType | undefined {
  const type = id.split(':')[2];
  return ENTITY_TYPES.find((t) => t === type);
}

export function crowdFlow(row: CrowdRow, registry: Registry): Entity | undefined {
  const site = registry.sites.get(row.site);
  if (!site) return undefined;
  const from = new Date(row.start).toISOString();
  const to = new Date(row.start + QUARTER_MS).toISOString();
  return {
    id: urn('CrowdFlowObserved', site.id, from.replace(/[:.]/g, '')),
    type: 'CrowdFlowObserved',
    attrs: {
      name: prop(site.name.en),
      location: point(site.lat, site.lon),
      // An ISO 8601 interval, as the model allows; its bounds also as date-times.
      dateObserved: prop(`${from}/${to}`),
      dateObservedFrom: date(from),
      dateObservedTo: date(to),
      peopleCount: prop(row.people, { observedAt: to }),
      dataProvider: prop(PROVIDER),
    },
  };
}

/** Depth in metres the newest reading shows: measured depth, else the highest float under water. */
function currentLevelM(s: FloodSensor): number | undefined {
  const r = s.latest;
  if (!r) return undefined;
  if (r.depthCm !== null) return r.depthCm / 100;
  if (r.stage !== null && s.stagesCm.length > 0)
    return r.stage === 0 ? 0 : (s.stagesCm[r.stage - 1] ?? 0) / 100;
  return r.wet ? undefined : 0;
}

/** machi's own values of the model's free-text status: Normal, Wet, Alert, Danger. */
function floodStatus(s: FloodSensor, level: number | undefined): string {
  if (!s.latest?.wet) return 'Normal';
  const t = s.depthThresholdsCm;
  if (level === undefined || !t) return 'Wet';
  if (level * 100 >= t.warning) return 'Danger';
  if (level * 100 >= t.watch) return 'Alert';
  return 'Wet';
}

export function floodMonitoring(s: FloodSensor): Entity | undefined {
  const r = s.latest;
  if (!r) return undefined;
  const level = currentLevelM(s);
  const t = s.depthThresholdsCm;
  const at = { observedAt: r.time };
  return {
    id: urn('FloodMonitoring', s.id),
    type: 'FloodMonitoring',
    attrs: {
      name: prop(`${s.area.name.en} ${s.id}`),
      location: point(s.lat, s.lon),
      areaServed: prop(s.area.name.en),
      stationID: prop(s.id),
      observationDateTime: date(r.time),
      ...(level !== undefined ? { currentLevel: prop(level, { ...at, unitCode: 'MTR' }) } : {}),
      ...(t
        ? {
            alertLevel: prop(t.watch / 100, { unitCode: 'MTR' }),
            dangerLevel: prop(t.warning / 100, { unitCode: 'MTR' }),
          }
        : {}),
      floodLevelStatus: prop(floodStatus(s, level), at),
      refDevice: rel(urn('Device', s.id)),
      dataProvider: prop(PROVIDER),
    },
  };
}

export function device(d: DeviceView): Entity {
  const flood = d.kind === 'flood-sensor';
  return {
    id: urn('Device', d.id),
    type: 'Device',
    attrs: {
      name: prop(d.id),
      location: point(d.lat, d.lon),
      category: prop([flood ? 'sensor' : 'multimedia']),
      // The model's closed list has no people count: a counting camera measures occupancy.
      controlledProperty: prop(flood ? ['waterLevel'] : ['occupancy']),
      areaServed: prop(d.place),
      ...(d.health ? { deviceState: prop(d.health.state, { observedAt: d.health.since }) } : {}),
      ...(d.lastSeen ? { dateLastValueReported: date(d.lastSeen) } : {}),
      ...(d.rssiDbm !== null ? { rssi: prop(d.rssiDbm) } : {}),
      dataProvider: prop(PROVIDER),
    },
  };
}

/** One flood alert as an Alert entity shows it: the open alert (read API) or one transition (push). */
export interface AlertView {
  id: string;
  areaId: string;
  level: AlertLevel;
  drill: boolean;
  issuedAt: string;
  modifiedAt: string;
  validFrom?: string;
  validTo?: string;
  /** What alertSource names (alertSourceOf); left out, a pushed update keeps the broker's. */
  source?: string;
}

/**
 * An alert's alertSource: the FloodMonitoring entity of the sensor whose reading raised it; when
 * that is not known, the Device of the area's first flood sensor (always served).
 */
export function alertSourceOf(
  registry: Registry,
  areaId: string,
  sensorId: string | undefined,
): string | undefined {
  if (sensorId) return urn('FloodMonitoring', sensorId);
  const first = [...registry.devices.values()].find((d) => d.kind === 'flood-sensor' && d.area === areaId);
  return first && urn('Device', first.id);
}

/** A drill is `informational`, so no consumer that reads only severity takes it for a real flood. */
function alertSeverity(level: AlertLevel, drill: boolean): string {
  if (drill) return 'informational';
  return level === 'emergency' ? 'critical' : level === 'warning' ? 'high' : 'medium';
}

export function alert(a: AlertView, registry: Registry): Entity {
  const area = registry.areas.get(a.areaId);
  return {
    id: urn('Alert', a.id),
    type: 'Alert',
    attrs: {
      ...(area ? { location: point(area.lat, area.lon), areaServed: prop(area.name.en) } : {}),
      category: prop('naturalDisaster'),
      subCategory: prop('flood'),
      severity: prop(alertSeverity(a.level, a.drill)),
      dateIssued: date(a.issuedAt),
      ...(a.validFrom ? { validFrom: date(a.validFrom) } : {}),
      ...(a.validTo ? { validTo: date(a.validTo) } : {}),
      dateModified: date(a.modifiedAt),
      description: prop(
        a.drill
          ? `DRILL (訓練): flood ${a.level} exercise, not a real flood`
          : `Flood ${a.level} in ${area?.name.en ?? a.areaId}${a.validTo ? ', cleared' : ''}`,
      ),
      // machi's own attribute: consumers must never treat an exercise as a real flood.
      drill: prop(a.drill),
      ...(a.source ? { alertSource: rel(a.source) } : {}),
      dataProvider: prop(PROVIDER),
    },
  };
}

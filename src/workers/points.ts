// Reading records → InfluxDB points. The series key (measurement + tags) and the timestamp come
// only from the device and its reading, so a redelivered record rewrites the same point. Drill
// data carries a `drill=true` tag: its own series, so an exercise (dated on its own clock) never
// overwrites or mixes with what the real device reported.
import type { Registry } from '../registry/schema.ts';
import type { DeviceStatus } from '../schemas/health.ts';
import type { ReadingRecord } from '../schemas/readings.ts';
import { Rejection } from '../schemas/reasons.ts';
import { MEASUREMENTS as M, type MeasuredPoint, point } from '../store/measurements.ts';

const ms = (iso: string) => Date.parse(iso);

type ReadingPoint = MeasuredPoint<typeof M.flood | typeof M.crowd | typeof M.heartbeat>;

export function readingPoint(record: ReadingRecord, registry: Registry): ReadingPoint {
  const point = measuredPoint(record, registry);
  return record.drill ? point.tag('drill', 'true') : point;
}

function measuredPoint(record: ReadingRecord, registry: Registry): ReadingPoint {
  const r = record.reading;
  const device = registry.devices.get(r.deviceId);
  if (!device) throw new Rejection('RECORD_INVALID', `device ${r.deviceId} is not in the registry`);
  if (r.kind === 'flood') {
    if (device.kind !== 'flood-sensor')
      throw new Rejection('RECORD_INVALID', `${r.deviceId} is not a flood sensor`);
    const p = point(M.flood)
      .tag('device', r.deviceId)
      .tag('area', device.area)
      .tag('family', device.family)
      .tag('vendor', device.vendor)
      .booleanField('wet', r.wet)
      .intField('seq', r.seq)
      .timestamp(ms(r.time));
    if (r.stage !== undefined) p.intField('stage', r.stage);
    if (r.depthCm !== undefined) p.floatField('depth_cm', r.depthCm);
    if (r.batteryV !== undefined) p.floatField('battery_v', r.batteryV);
    if (r.rssiDbm !== undefined) p.intField('rssi', Math.round(r.rssiDbm));
    return p;
  }
  if (r.kind === 'crowd') {
    if (device.kind !== 'people-counter')
      throw new Rejection('RECORD_INVALID', `${r.deviceId} is not a people counter`);
    const p = point(M.crowd)
      .tag('device', r.deviceId)
      .tag('site', device.site)
      .tag('vendor', device.vendor)
      .intField('people_in', r.peopleIn)
      .intField('people_out', r.peopleOut)
      .intField('seq', r.seq)
      .timestamp(ms(r.intervalStart));
    if (r.occupancy !== undefined) p.intField('occupancy', r.occupancy);
    return p;
  }
  const p = point(M.heartbeat)
    .tag('device', r.deviceId)
    .tag('kind', device.kind)
    .tag('vendor', device.vendor)
    .timestamp(ms(r.time));
  if (r.seq !== undefined) p.intField('seq', r.seq);
  if (r.batteryV !== undefined) p.floatField('battery_v', r.batteryV);
  if (r.rssiDbm !== undefined) p.intField('rssi', Math.round(r.rssiDbm));
  // A heartbeat with no measurements still says the device is alive.
  if (r.seq === undefined && r.batteryV === undefined && r.rssiDbm === undefined)
    p.booleanField('alive', true);
  return p;
}

export function healthPoint(status: DeviceStatus): MeasuredPoint<typeof M.deviceHealth> {
  const p = point(M.deviceHealth)
    .tag('device', status.deviceId)
    .tag('kind', status.kind)
    .stringField('state', status.state)
    // Always written: a later status with the same `since` (a flag cleared) overwrites this point.
    .stringField('flags', (status.flags ?? []).join(','))
    .timestamp(ms(status.since));
  if (status.area) p.tag('area', status.area);
  if (status.site) p.tag('site', status.site);
  if (status.lastSeen) p.intField('last_seen_ms', ms(status.lastSeen));
  if (status.batteryV !== undefined) p.floatField('battery_v', status.batteryV);
  if (status.rssiDbm !== undefined) p.intField('rssi', Math.round(status.rssiDbm));
  if (status.clockSkewS !== undefined) p.intField('clock_skew_s', Math.round(status.clockSkewS));
  return p;
}

export const FIFTEEN_MINUTES = 15 * 60_000;

export function bucketStart(timeMs: number): number {
  return Math.floor(timeMs / FIFTEEN_MINUTES) * FIFTEEN_MINUTES;
}

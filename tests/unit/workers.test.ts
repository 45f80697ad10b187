import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/bus/consumer.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import type { ReadingRecord } from '../../src/schemas/readings.ts';
import { aggregateCrowd } from '../../src/workers/crowd-series.ts';
import { HealthTracker } from '../../src/workers/health.ts';
import { bucketStart, readingPoint } from '../../src/workers/points.ts';

const registry = loadRegistry('devices');
const T0 = Date.parse('2026-08-14T03:00:00Z');
const record = (reading: ReadingRecord['reading'], receivedAt = T0): ReadingRecord => ({
  v: 1,
  reading,
  receivedAt: new Date(receivedAt).toISOString(),
  drill: false,
});
const flood = (deviceId: string, extra: Record<string, unknown> = {}) =>
  record({ kind: 'flood', deviceId, time: new Date(T0).toISOString(), seq: 1, wet: true, ...extra } as never);

describe('reading points', () => {
  it('map a flood reading to bounded tags and typed fields at the device time', () => {
    const line = readingPoint(
      flood('fs-takeo-003', { stage: 2, depthCm: 12.5, batteryV: 2.9, rssiDbm: -90 }),
      registry,
    ).toLineProtocol();
    expect(line).toBe(
      `flood,area=takeo-town,device=fs-takeo-003,family=contact,vendor=gateway-csv battery_v=2.9,depth_cm=12.5,rssi=-90i,seq=1i,stage=2i,wet=T ${T0}`,
    );
  });

  it('do not depend on when or how often a record was received', () => {
    const a = readingPoint(record(flood('fs-takeo-001').reading, T0), registry).toLineProtocol();
    const b = readingPoint(record(flood('fs-takeo-001').reading, T0 + 60_000), registry).toLineProtocol();
    expect(a).toBe(b);
  });

  it('map a count to the crowd measurement at the interval start', () => {
    const line = readingPoint(
      record({
        kind: 'crowd',
        deviceId: 'pc-library-1',
        seq: 3,
        intervalStart: new Date(T0).toISOString(),
        intervalEnd: new Date(T0 + 300_000).toISOString(),
        peopleIn: 5,
        peopleOut: 4,
      }),
      registry,
    ).toLineProtocol();
    expect(line).toBe(
      `crowd,device=pc-library-1,site=library,vendor=machi-json people_in=5i,people_out=4i,seq=3i ${T0}`,
    );
  });

  it('refuse devices that are not in the registry', () => {
    expect(() => readingPoint(flood('fs-ghost-001'), registry)).toThrow(/not in the registry/);
  });
});

describe('crowd 15-minute series', () => {
  it('sums people over a site’s cameras per bucket and counts the cameras', () => {
    const at = (m: number) => new Date(T0 + m * 60_000).toISOString();
    const rows = [
      { _time: at(0), _field: 'people_in', _value: 10, site: 'st', device: 'a' },
      { _time: at(5), _field: 'people_in', _value: 7, site: 'st', device: 'a' },
      { _time: at(0), _field: 'people_in', _value: 3, site: 'st', device: 'b' },
      { _time: at(0), _field: 'people_out', _value: 4, site: 'st', device: 'b' },
      { _time: at(15), _field: 'people_in', _value: 1, site: 'st', device: 'a' },
      { _time: at(0), _field: 'people_in', _value: 9, site: 'lib', device: 'c' },
    ];
    expect(aggregateCrowd(rows)).toEqual([
      { site: 'st', start: T0, people: 20, peopleOut: 4, cameras: 2 },
      { site: 'st', start: T0 + 900_000, people: 1, peopleOut: 0, cameras: 1 },
      { site: 'lib', start: T0, people: 9, peopleOut: 0, cameras: 1 },
    ]);
    expect(bucketStart(T0 + 14 * 60_000 + 59_999)).toBe(T0);
  });
});

describe('device health', () => {
  const contact = 'fs-takeo-001'; // contact, heartbeat 3600 s
  const radio = 'fs-takeo-002'; // radio, heartbeat 300 s
  const camera = 'pc-library-1'; // heartbeat 600 s

  it('reports offline after twice the heartbeat interval, and silent for radio flood sensors', () => {
    const h = new HealthTracker(registry, 2.5);
    h.own([contact, radio, camera], T0);
    expect(h.tick(T0 + 599_000)).toEqual([]);
    expect(h.tick(T0 + 601_000).map((s) => [s.deviceId, s.state])).toEqual([[radio, 'silent']]);
    expect(h.tick(T0 + 1_201_000).map((s) => [s.deviceId, s.state])).toEqual([[camera, 'offline']]);
    expect(h.tick(T0 + 7_201_000).map((s) => [s.deviceId, s.state])).toEqual([[contact, 'offline']]);
  });

  it('recovers when the device speaks again and flags a low battery', () => {
    const h = new HealthTracker(registry, 2.5);
    h.own([radio], T0);
    h.tick(T0 + 700_000);
    expect(h.status(radio)?.state).toBe('silent');
    expect(
      h.observe(record(flood(radio, { batteryV: 2.4 }).reading, T0 + 700_000), T0 + 700_000),
    ).toMatchObject({
      state: 'low-battery',
      batteryV: 2.4,
    });
    expect(
      h.observe(record(flood(radio, { batteryV: 2.9 }).reading, T0 + 700_001), T0 + 700_001),
    ).toMatchObject({ state: 'ok' });
  });

  it('judges only the devices it owns', () => {
    const h = new HealthTracker(registry, 2.5);
    h.own([contact], T0);
    expect(h.observe(flood(radio), T0)).toBeUndefined();
    expect(h.tick(T0 + 10 * 3_600_000).map((s) => s.deviceId)).toEqual([contact]);
  });
});

describe('partition ownership', () => {
  it('matches where the producer puts a device’s records', () => {
    expect(partitionOf('fs-takeo-001', 6)).toBe(5);
    expect(partitionOf('fs-takeo-002', 6)).toBe(4);
  });
});

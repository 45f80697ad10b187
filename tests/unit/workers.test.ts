import { AssignerProtocol, type Cluster, PartitionAssigners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/bus/consumer.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import type { ReadingRecord } from '../../src/schemas/readings.ts';
import { aggregateCrowd } from '../../src/workers/crowd-series.ts';
import { devicePartitionAssigner } from '../../src/workers/device-assigner.ts';
import { HealthTracker } from '../../src/workers/health.ts';
import { bucketStart, healthPoint, readingPoint } from '../../src/workers/points.ts';

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

  it('give drill data a series of its own, beside the real one of the device', () => {
    const real = readingPoint(flood('fs-takeo-001'), registry).toLineProtocol() ?? '';
    const drill = readingPoint({ ...flood('fs-takeo-001'), drill: true }, registry).toLineProtocol();
    expect(drill).toBe(real.replace('device=fs-takeo-001,', 'device=fs-takeo-001,drill=true,'));
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
    const h = new HealthTracker(registry, { lowBatteryV: 2.5, clockSkewMs: 300_000 });
    h.own([contact, radio, camera], T0);
    expect(h.tick(T0 + 599_000)).toEqual([]);
    expect(h.tick(T0 + 601_000).map((s) => [s.deviceId, s.state])).toEqual([[radio, 'silent']]);
    expect(h.tick(T0 + 1_201_000).map((s) => [s.deviceId, s.state])).toEqual([[camera, 'offline']]);
    expect(h.tick(T0 + 7_201_000).map((s) => [s.deviceId, s.state])).toEqual([[contact, 'offline']]);
  });

  it('recovers when the device speaks again and flags a low battery', () => {
    const h = new HealthTracker(registry, { lowBatteryV: 2.5, clockSkewMs: 300_000 });
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

  it('does not count a backlog read after taking a device on as older silence', () => {
    // The health consumer resumes from its last commit: records from before the take-on arrive late.
    const h = new HealthTracker(registry, { lowBatteryV: 2.5, clockSkewMs: 300_000 });
    h.own([radio], T0 + 3_600_000);
    expect(h.observe(flood(radio), T0 + 3_600_000)).toBeUndefined();
    expect(h.tick(T0 + 3_600_001)).toEqual([]);
    expect(h.tick(T0 + 3_600_000 + 601_000).map((s) => s.state)).toEqual(['silent']);
  });

  it('re-publishes only devices it has seen or judged', () => {
    const h = new HealthTracker(registry, { lowBatteryV: 2.5, clockSkewMs: 300_000 });
    h.own([contact, radio, camera], T0);
    h.observe(flood(contact), T0);
    h.tick(T0 + 601_000);
    expect(h.known().map((s) => [s.deviceId, s.state])).toEqual([
      [contact, 'ok'],
      [radio, 'silent'],
    ]);
  });

  it('judges only the devices it owns', () => {
    const h = new HealthTracker(registry, { lowBatteryV: 2.5, clockSkewMs: 300_000 });
    h.own([contact], T0);
    expect(h.observe(flood(radio), T0)).toBeUndefined();
    expect(h.tick(T0 + 10 * 3_600_000).map((s) => s.deviceId)).toEqual([contact]);
  });
});

describe('clock skew', () => {
  const radio = 'fs-takeo-002';
  const H20 = 20 * 3_600_000;
  const at = (deviceTime: number, receivedAt = T0, drill = false): ReadingRecord => ({
    ...record(flood(radio, { time: new Date(deviceTime).toISOString() }).reading, receivedAt),
    drill,
  });
  const tracker = (skewed: string[] = []) => {
    const h = new HealthTracker(registry, {
      lowBatteryV: 2.5,
      clockSkewMs: 300_000,
      onSkewedReading: (kind) => skewed.push(kind),
    });
    h.own([radio], T0);
    return h;
  };

  it('flags a device whose clock is off by more than the allowed skew, keeping its state', () => {
    const skewed: string[] = [];
    const h = tracker(skewed);
    expect(h.observe(at(T0 + H20), T0)).toMatchObject({
      state: 'ok',
      since: new Date(T0).toISOString(),
      flags: ['CLOCK_SKEW'],
      clockSkewS: 72_000,
    });
    // Still skewed: nothing changed, nothing to publish; the skew shown follows the latest reading.
    expect(h.observe(at(T0 + H20 + 61_000, T0 + 60_000), T0 + 60_000)).toBeUndefined();
    expect(h.status(radio)?.clockSkewS).toBe(72_001);
    expect(skewed).toEqual(['flood', 'flood']);
  });

  it('clears the flag when a reading comes in within the skew again', () => {
    const h = tracker();
    h.observe(at(T0 - 301_000), T0);
    expect(h.status(radio)).toMatchObject({ flags: ['CLOCK_SKEW'], clockSkewS: -301 });
    const cleared = h.observe(at(T0 + 60_000 + 299_000, T0 + 60_000), T0 + 60_000);
    expect(cleared).toMatchObject({ state: 'ok' });
    expect(cleared?.flags).toBeUndefined();
    expect(cleared?.clockSkewS).toBeUndefined();
  });

  it('reports a state change and the flag together', () => {
    const h = tracker();
    h.tick(T0 + 601_000);
    const back = h.observe(at(T0 + 601_000 + H20, T0 + 601_000), T0 + 601_000);
    expect(back).toMatchObject({
      state: 'ok',
      flags: ['CLOCK_SKEW'],
      since: new Date(T0 + 601_000).toISOString(),
    });
  });

  it('uses the end of a count’s interval as its device time', () => {
    const skewed: string[] = [];
    const h = new HealthTracker(registry, {
      lowBatteryV: 2.5,
      clockSkewMs: 300_000,
      onSkewedReading: (kind) => skewed.push(kind),
    });
    h.own(['pc-library-1'], T0);
    const count = (start: number, end: number) =>
      record({
        kind: 'crowd',
        deviceId: 'pc-library-1',
        seq: 1,
        intervalStart: new Date(start).toISOString(),
        intervalEnd: new Date(end).toISOString(),
        peopleIn: 1,
        peopleOut: 0,
      });
    // A 15-minute interval that ended just now: its start is far off, its end is not.
    expect(h.observe(count(T0 - 900_000, T0), T0)).toBeUndefined();
    expect(h.observe(count(T0, T0 + 900_000), T0)).toMatchObject({ clockSkewS: 900 });
    expect(skewed).toEqual(['crowd']);
  });

  it('ignores drill records, which run on a simulated clock, neither setting nor clearing the flag', () => {
    const skewed: string[] = [];
    const h = tracker(skewed);
    expect(h.observe(at(T0 + H20, T0, true), T0)).toBeUndefined();
    h.observe(at(T0 + H20, T0 + 1000), T0 + 1000);
    expect(h.observe(at(T0 + 2000, T0 + 2000, true), T0 + 2000)).toBeUndefined();
    expect(h.status(radio)?.flags).toEqual(['CLOCK_SKEW']);
    expect(skewed).toEqual(['flood']);
  });

  it('writes the flags to device_health, empty once cleared', () => {
    const status = { v: 1, deviceId: radio, kind: 'flood-sensor', area: 'takeo-town', state: 'ok' } as const;
    const since = new Date(T0).toISOString();
    expect(
      healthPoint({ ...status, since, flags: ['CLOCK_SKEW'], clockSkewS: 72_000 }).toLineProtocol(),
    ).toBe(
      `device_health,area=takeo-town,device=${radio},kind=flood-sensor clock_skew_s=72000i,flags="CLOCK_SKEW",state="ok" ${T0}`,
    );
    expect(healthPoint({ ...status, since }).toLineProtocol()).toBe(
      `device_health,area=takeo-town,device=${radio},kind=flood-sensor flags="",state="ok" ${T0}`,
    );
  });
});

describe('health partition assignment', () => {
  const topics = ['r.flood', 'r.crowd', 'r.heartbeat'];
  const cluster = {
    findTopicPartitionMetadata: () =>
      Array.from({ length: 6 }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
        partitionErrorCode: 0,
      })),
  } as unknown as Cluster;
  const members = ['m-a', 'm-b', 'm-c', 'm-d'].map((memberId) => ({
    memberId,
    memberMetadata: Buffer.alloc(0),
  }));

  it('gives each member the same partitions of every reading topic, whatever the member count', async () => {
    const assigner = devicePartitionAssigner({ cluster, groupId: 'g', logger: undefined as never });
    const assigned = (await assigner.assign({ members, topics })).map(
      (m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {},
    );
    expect(assigned.map((a) => a['r.flood'])).toEqual([[0, 4], [1, 5], [2], [3]]);
    for (const a of assigned) {
      expect(a['r.heartbeat']).toEqual(a['r.flood']);
      expect(a['r.crowd']).toEqual(a['r.flood']);
    }
  });

  it('is needed: kafkajs’s round robin splits a device’s topics over members', async () => {
    const assigner = PartitionAssigners.roundRobin({ cluster, groupId: 'g', logger: undefined as never });
    const assigned = (await assigner.assign({ members, topics })).map(
      (m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {},
    );
    // m-c reads flood partition 2 but crowd partitions 0 and 4: a camera's counts go elsewhere.
    expect(assigned[2]).toMatchObject({ 'r.flood': [2], 'r.crowd': [0, 4] });
  });
});

describe('partition ownership', () => {
  it('matches where the producer puts a device’s records', () => {
    expect(partitionOf('fs-takeo-001', 6)).toBe(5);
    expect(partitionOf('fs-takeo-002', 6)).toBe(4);
  });
});

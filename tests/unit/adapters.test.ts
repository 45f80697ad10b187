import { describe, expect, it } from 'vitest';
import { adapterFor } from '../../src/adapters/index.ts';
import type { Device } from '../../src/registry/schema.ts';
import type { CanonicalReading } from '../../src/schemas/readings.ts';

const sensor = { id: 'fs-test-001', kind: 'flood-sensor', stagesCm: [10, 20, 30] } as unknown as Device;
const camera = { id: 'pc-test-1', kind: 'people-counter' } as unknown as Device;

const flood: CanonicalReading = {
  kind: 'flood',
  deviceId: 'fs-test-001',
  time: '2026-08-14T03:00:00.000Z',
  seq: 42,
  wet: true,
  stage: 2,
  depthCm: 23.5,
  batteryV: 2.97,
  rssiDbm: -97,
};
const crowd: CanonicalReading = {
  kind: 'crowd',
  deviceId: 'pc-test-1',
  seq: 7,
  intervalStart: '2026-08-14T03:00:00.000Z',
  intervalEnd: '2026-08-14T03:05:00.000Z',
  peopleIn: 31,
  peopleOut: 25,
  occupancy: 120,
};
const heartbeat: CanonicalReading = {
  kind: 'heartbeat',
  deviceId: 'fs-test-001',
  time: '2026-08-14T03:00:00.000Z',
  seq: 9,
  batteryV: 3.01,
  rssiDbm: -80,
};

const message = { flood: 'reading', crowd: 'count', heartbeat: 'heartbeat' } as const;

describe.each(['machi-json', 'lpwa-hex', 'gateway-csv'])('%s adapter', (format) => {
  const adapter = adapterFor(format);
  it.each([flood, crowd, heartbeat])('round-trips a $kind reading', (reading) => {
    const device = reading.kind === 'crowd' ? camera : sensor;
    const payload = adapter?.encode(reading, device) ?? Buffer.alloc(0);
    expect(adapter?.decode(payload, { device, message: message[reading.kind] })).toMatchObject(reading);
  });
});

describe('hand-written vendor payloads', () => {
  it('lpwa-hex: a wet staged reading with depth', () => {
    // v1, flood, t=0x6a7e6a30, seq 0x002a, flags wet|depth, stage 2, 235 mm, 297 cV, -97 dBm
    const decoded = adapterFor('lpwa-hex')?.decode(Buffer.from('01016a7e6a30002a030200eb01299f'), {
      device: sensor,
      message: 'reading',
    });
    expect(decoded).toMatchObject({
      time: new Date(0x6a7e6a30 * 1000).toISOString(),
      seq: 42,
      wet: true,
      stage: 2,
      depthCm: 23.5,
      batteryV: 2.97,
      rssiDbm: -97,
    });
  });

  it('gateway-csv: a count with unknown occupancy', () => {
    const decoded = adapterFor('gateway-csv')?.decode(
      Buffer.from('C,pc-test-1,1786676400,1786676700,7,31,25,'),
      {
        device: camera,
        message: 'count',
      },
    );
    expect(decoded).toMatchObject({
      deviceId: 'pc-test-1',
      peopleIn: 31,
      peopleOut: 25,
      occupancy: undefined,
    });
  });

  it('machi-json: the topic supplies the device id and kind', () => {
    const decoded = adapterFor('machi-json')?.decode(
      Buffer.from('{"time":"2026-08-14T12:00:00+09:00","seq":1,"wet":false}'),
      { device: sensor, message: 'reading' },
    );
    expect(decoded).toMatchObject({ kind: 'flood', deviceId: 'fs-test-001', wet: false });
  });
});

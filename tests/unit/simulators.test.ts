import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import { CanonicalReading } from '../../src/schemas/readings.ts';
import { generate } from '../../src/simulators/generate.ts';
import { loadScenario, rainAt, SCENARIO_DIR } from '../../src/simulators/scenario.ts';

const registry = loadRegistry('devices');
const T0 = Date.parse('2026-08-14T00:00:00+09:00');
const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');

describe('scenarios', () => {
  it('every scenario file validates, and the three required ones exist', () => {
    const names = readdirSync(SCENARIO_DIR).map((f) => f.replace(/\.yaml$/, ''));
    expect(names).toEqual(expect.arrayContaining(['normal-day', 'festival', 'heavy-rain-2021']));
    for (const n of names) expect(loadScenario(n).name).toBe(n);
  });

  it('interpolates rain between points', () => {
    const s = loadScenario('heavy-rain-2021');
    expect(rainAt(s, 1.5)).toBeCloseTo(80, 5);
    expect(rainAt(s, 10)).toBe(0);
  });
});

describe('generated streams', () => {
  it('are the same for the same seed and differ for another', () => {
    const s = loadScenario('heavy-rain-2021');
    expect(digest(generate(s, registry, T0))).toBe(digest(generate(s, registry, T0)));
    expect(digest(generate({ ...s, seed: 7 }, registry, T0))).not.toBe(digest(generate(s, registry, T0)));
  });

  it('hold only valid canonical readings, in time order', () => {
    const stream = generate(loadScenario('festival'), registry, T0);
    expect(stream.length).toBeGreaterThan(500);
    for (const m of stream) expect(CanonicalReading.safeParse(m.reading).success).toBe(true);
    expect(stream.every((m, i) => i === 0 || (stream[i - 1]?.atMs ?? 0) <= m.atMs)).toBe(true);
  });

  it('flood low streets in the rain, silence submerged radio sensors, and drain afterwards', () => {
    const stream = generate(loadScenario('heavy-rain-2021'), registry, T0);
    const flood = stream.filter((m) => m.reading.kind === 'flood');
    const wetAt = (h0: number, h1: number) =>
      new Set(
        flood
          .filter(
            (m) => m.atMs >= h0 * 3.6e6 && m.atMs < h1 * 3.6e6 && m.reading.kind === 'flood' && m.reading.wet,
          )
          .map((m) => m.deviceId),
      );
    expect(wetAt(0, 0.3).size).toBeLessThan(3); // only the stuck-wet device before the rain
    expect(wetAt(1.5, 2.5).size).toBeGreaterThan(15);
    expect(wetAt(5.5, 6.1).size).toBeLessThan(3);
    // A staged sensor climbs its floats in order.
    const staged = flood
      .filter((m) => m.deviceId === 'fs-takeo-003' && m.reading.kind === 'flood')
      .map((m) => (m.reading.kind === 'flood' ? (m.reading.stage ?? 0) : 0));
    const firstTop = staged.indexOf(3);
    expect(firstTop).toBeGreaterThan(staged.indexOf(1));
    // Radio sensors under deep water stop transmitting for a while.
    const radio = flood.filter((m) => m.deviceId === 'fs-takeo-002').map((m) => m.atMs);
    const gaps = radio.slice(1).map((t, i) => t - (radio[i] ?? 0));
    expect(Math.max(...gaps)).toBeGreaterThan(2 * 300_000);
  });

  it('lift crowds on the festival and follow the daily shape', () => {
    const sum = (name: string, site: string) =>
      generate(loadScenario(name), registry, T0)
        .filter((m) => m.reading.kind === 'crowd' && m.deviceId.startsWith(`pc-${site}`))
        .reduce((acc, m) => acc + (m.reading.kind === 'crowd' ? m.reading.peopleIn : 0), 0);
    const festival = loadScenario('festival');
    const plain = { ...festival, crowd: { ...festival.crowd, uplift: [] } };
    const withUplift = generate(festival, registry, T0).filter((m) =>
      m.deviceId.startsWith('pc-onsen-romon'),
    );
    const without = generate(plain, registry, T0).filter((m) => m.deviceId.startsWith('pc-onsen-romon'));
    const total = (xs: typeof withUplift) =>
      xs.reduce((a, m) => a + (m.reading.kind === 'crowd' ? m.reading.peopleIn : 0), 0);
    expect(total(withUplift)).toBeGreaterThan(total(without) * 1.3);
    expect(sum('normal-day', 'library')).toBeGreaterThan(0);
  });

  it('treat Japanese public holidays like weekends', () => {
    const day = loadScenario('normal-day');
    const people = (start: string) =>
      generate(day, registry, Date.parse(start))
        .filter((m) => m.deviceId === 'pc-mifuneyama-1')
        .reduce((a, m) => a + (m.reading.kind === 'crowd' ? m.reading.peopleIn : 0), 0);
    // Labour Thanksgiving Day 2026 is a Monday; the Monday before is a working day.
    expect(people('2026-11-23T08:00:00+09:00')).toBeGreaterThan(people('2026-11-16T08:00:00+09:00') * 1.3);
  });
});

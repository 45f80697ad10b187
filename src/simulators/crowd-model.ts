// People counts per camera interval: a daily shape for working days and for weekends and Japanese
// public holidays, shinkansen arrival bursts at the station, event uplift and rain keeping visitors
// away.
import { isJapaneseHoliday } from '../forecast/model/holidays-jp.ts';
import type { PeopleCounter, Registry } from '../registry/schema.ts';
import type { CrowdCount } from '../schemas/readings.ts';
import { Rng, seedOf } from './prng.ts';
import { rainAt, type Scenario } from './scenario.ts';

/** Share of capacity per 15 minutes by JST hour, for working days and for weekends/holidays. */
const WEEKDAY = [2, 1, 1, 1, 1, 3, 8, 22, 28, 20, 30, 38, 42, 40, 38, 36, 34, 32, 26, 18, 12, 8, 5, 3];
const HOLIDAY = [3, 2, 1, 1, 1, 2, 5, 10, 20, 40, 60, 70, 72, 70, 68, 64, 56, 45, 34, 24, 16, 10, 6, 4];

export function expectedPer15Min(
  site: { id: string; capacity: number },
  at: Date,
  s: Scenario,
  hoursIn: number,
): number {
  const jst = new Date(at.getTime() + 9 * 3600_000);
  const hour = jst.getUTCHours();
  const weekend =
    s.crowd.holiday ||
    jst.getUTCDay() === 0 ||
    jst.getUTCDay() === 6 ||
    isJapaneseHoliday(jst.toISOString().slice(0, 10));
  let share = ((weekend ? HOLIDAY : WEEKDAY)[hour] ?? 0) / 100;
  // Shinkansen arrivals at :10 and :40 bring a burst through the station.
  const minute = jst.getUTCMinutes();
  if (site.id === 'takeo-onsen-station' && (Math.abs(minute - 10) < 8 || Math.abs(minute - 40) < 8))
    share *= 1.6;
  for (const u of s.crowd.uplift)
    if (u.sites.includes(site.id) && hoursIn >= u.fromH && hoursIn < u.toH) share *= u.factor;
  if (rainAt(s, hoursIn) > 10) share *= 0.5;
  return share * site.capacity;
}

export function simulateCounter(
  device: PeopleCounter,
  registry: Registry,
  s: Scenario,
  runStart: number,
): Array<{ atMs: number; reading: CrowdCount }> {
  const site = registry.sites.get(device.site);
  if (!site || !s.crowd.enabled) return [];
  const rng = new Rng(seedOf(s.seed, device.id));
  const cameras = [...registry.devices.values()].filter(
    (d) => d.kind === 'people-counter' && d.site === device.site,
  ).length;
  const out: Array<{ atMs: number; reading: CrowdCount }> = [];
  const intervals = Math.floor((s.durationH * 3600) / device.intervalS);
  let seq = Math.floor(rng.between(0, 1000));
  for (let i = 1; i <= intervals; i++) {
    const endMs = i * device.intervalS * 1000;
    const startMs = endMs - device.intervalS * 1000;
    const mean =
      (expectedPer15Min(site, new Date(runStart + startMs), s, startMs / 3600_000) * device.intervalS) /
      900 /
      cameras;
    out.push({
      atMs: endMs,
      reading: {
        kind: 'crowd',
        deviceId: device.id,
        seq: seq++ % 65536,
        intervalStart: new Date(runStart + startMs).toISOString(),
        intervalEnd: new Date(runStart + endMs).toISOString(),
        peopleIn: rng.poisson(mean),
        peopleOut: rng.poisson(mean * 0.95),
      },
    });
  }
  return out;
}

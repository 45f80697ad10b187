// What the visitors' phone page is given: nearby sites with walking distances, today's events.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { distanceM, eventsToday, visitSiteConfig } from '../../src/web/visit/visit-config.ts';

const registry = loadRegistry('devices');
const config = loadConfig({});

describe('visitSiteConfig', () => {
  it('lists the counted sites within walking distance, nearest first, at 80 m a minute', () => {
    const site = visitSiteConfig('takeo-onsen-station', registry, config);
    expect(site?.nearby.map((n) => n.id)).toEqual([
      'tourism-hall',
      'library',
      'onsen-romon',
      'ogusu-park',
      'mifuneyama',
    ]);
    const library = site?.nearby.find((n) => n.id === 'library');
    expect(library?.distanceM).toBe(640);
    expect(library?.walkMin).toBe(9);
    expect(site?.walkMPerMin).toBe(80);
    // City Hall has no counter: it is not anyone's nearby site, and its page says so.
    expect(visitSiteConfig('tourism-hall', registry, config)?.nearby.map((n) => n.id)).not.toContain(
      'city-hall',
    );
    expect(visitSiteConfig('city-hall', registry, config)?.counted).toBe(false);
    expect(visitSiteConfig('nowhere', registry, config)).toBeUndefined();
    expect(JSON.stringify(site)).not.toContain(config.mqtt.roles.signage);
  });

  it('measures great-circle distances', () => {
    // One minute of latitude is a nautical mile.
    expect(distanceM({ lat: 33, lon: 130 }, { lat: 33 + 1 / 60, lon: 130 })).toBeCloseTo(1853, -1);
  });
});

describe('eventsToday', () => {
  it('keeps the events running on the JST date, clipped to it, in every language', () => {
    // 2026-11-10 15:00 JST: inside the autumn leaves festival (3 Nov 09:00 to 30 Nov 22:00 JST).
    const events = eventsToday(registry, Date.parse('2026-11-10T06:00:00Z'));
    expect(events.map((e) => e.id)).toEqual(['mifuneyama-autumn-leaves-2026']);
    expect(events[0]?.from).toBe('2026-11-09T15:00:00.000Z');
    expect(events[0]?.to).toBe('2026-11-10T15:00:00.000Z');
    expect(events[0]?.name.ko).toBe('Mifuneyama autumn leaves festival');
    expect(events[0]?.sites[0]?.name.ja).toBe('御船山楽園');
    // Its first day starts at 09:00; the day after its end has none.
    expect(eventsToday(registry, Date.parse('2026-11-03T01:00:00Z'))[0]?.from).toBe(
      '2026-11-03T00:00:00.000Z',
    );
    expect(eventsToday(registry, Date.parse('2026-12-01T03:00:00Z'))).toEqual([]);
  });
});

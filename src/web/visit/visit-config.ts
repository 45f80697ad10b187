// What the visitors' phone page needs, built from the registry: names in every language, the
// sites within walking distance, today's events and the shelters a notice may name. No credentials:
// live data comes from machi itself (server-sent events), never from the broker.
import type { Config } from '../../config/config.ts';
import type { Registry, Site } from '../../registry/schema.ts';
import { type FullText, Languages, localized } from '../localized.ts';
import { countedSites, shelterNames } from '../signage/sign-config.ts';

/** Walking speed the page's minutes assume (the usual 80 m a minute of Japanese property listings). */
export const WALK_M_PER_MIN = 80;
/** Counted sites within this straight-line distance are "nearby" (about 40 minutes on foot). */
const NEARBY_M = 3000;

const DAY_MS = 86_400_000;
const JST_MS = 9 * 3_600_000;

export interface NearbySite {
  id: string;
  name: FullText;
  /** Straight-line distance, rounded to 10 m; the walk is at least this long. */
  distanceM: number;
  walkMin: number;
}

export interface TodayEvent {
  id: string;
  name: FullText;
  /** The part of the event that falls on today (JST). */
  from: string;
  to: string;
  sites: Array<{ id: string; name: FullText }>;
}

export interface VisitSiteConfig {
  siteId: string;
  name: FullText;
  areaId: string;
  /** False where no people counter watches the site (City Hall): the page leads to nearby ones. */
  counted: boolean;
  nearby: NearbySite[];
  events: TodayEvent[];
  shelters: Record<string, FullText>;
  areaShelters: string[];
  languages: readonly string[];
  staleS: number;
  walkMPerMin: number;
}

export interface VisitListConfig {
  sites: Array<{ id: string; name: FullText; areaId: string; counted: boolean }>;
  languages: readonly string[];
  staleS: number;
}

/** Great-circle distance in metres (haversine). */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

/** Counted sites other than `site` within NEARBY_M, nearest first (the page re-sorts by level). */
function nearbySites(site: Site, registry: Registry): NearbySite[] {
  const counted = countedSites(registry);
  return [...registry.sites.values()]
    .filter((s) => s.id !== site.id && counted.has(s.id))
    .map((s) => ({ s, m: distanceM(site, s) }))
    .filter(({ m }) => m <= NEARBY_M)
    .sort((a, b) => a.m - b.m)
    .map(({ s, m }) => ({
      id: s.id,
      name: localized(s.name),
      distanceM: Math.round(m / 10) * 10,
      walkMin: Math.max(1, Math.ceil(m / WALK_M_PER_MIN)),
    }));
}

/** Registry events that run during today's JST date at `now`, clipped to today, earliest first. */
export function eventsToday(registry: Registry, now: number): TodayEvent[] {
  const dayStart = Math.floor((now + JST_MS) / DAY_MS) * DAY_MS - JST_MS;
  const dayEnd = dayStart + DAY_MS;
  return registry.events
    .map((e) => ({
      e,
      from: Math.max(Date.parse(e.start), dayStart),
      to: Math.min(Date.parse(e.end), dayEnd),
    }))
    .filter(({ from, to }) => from < to)
    .sort((a, b) => a.from - b.from)
    .map(({ e, from, to }) => ({
      id: e.id,
      name: localized(e.name),
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      sites: e.sites.flatMap((id) => {
        const s = registry.sites.get(id);
        return s ? [{ id, name: localized(s.name) }] : [];
      }),
    }));
}

/** undefined for an unknown site. */
export function visitSiteConfig(
  siteId: string,
  registry: Registry,
  config: Config,
  now = Date.now(),
): VisitSiteConfig | undefined {
  const site = registry.sites.get(siteId);
  if (!site) return undefined;
  return {
    siteId,
    name: localized(site.name),
    areaId: site.area,
    counted: countedSites(registry).has(siteId),
    nearby: nearbySites(site, registry),
    events: eventsToday(registry, now),
    shelters: shelterNames(registry),
    areaShelters: registry.areas.get(site.area)?.shelters.map((s) => s.id) ?? [],
    languages: Languages,
    staleS: config.signage.staleS,
    walkMPerMin: WALK_M_PER_MIN,
  };
}

export function visitListConfig(registry: Registry, config: Config): VisitListConfig {
  const counted = countedSites(registry);
  return {
    sites: [...registry.sites.values()].map((s) => ({
      id: s.id,
      name: localized(s.name),
      areaId: s.area,
      counted: counted.has(s.id),
    })),
    languages: Languages,
    staleS: config.signage.staleS,
  };
}

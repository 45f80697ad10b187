// What a sign's page needs to run, built from the registry and config: names in every language,
// the documented MQTT topics, its login name and timings. The page hard-codes none of these. It is
// public, so it carries no secret.

import type { Config } from '../../config/config.ts';
import type { Registry } from '../../registry/schema.ts';
import { topics, WEBSOCKET_PATH } from '../../schemas/topics.ts';
import { type FullText, Languages, localized } from '../localized.ts';

export interface SignConfig {
  siteId: string;
  name: FullText;
  area: { id: string; name: FullText };
  /** False when no people counter watches the site (City Hall): the sign shows `nearby` instead. */
  counted: boolean;
  /** The registry's nearby sites; for an uncounted site, also every other counted site of its area. */
  nearby: Array<{ id: string; name: FullText; topic: string }>;
  /** The visitors' phone page for this site; the sign adds `?lang=` and shows it as a QR code. */
  visitUrl: string;
  /** Every shelter in the registry (notices name them by id), the site's area first. */
  shelters: Record<string, FullText>;
  areaShelters: string[];
  languages: readonly string[];
  rotateS: number;
  staleS: number;
  heartbeatS: number;
  /** No password: each sign has its own token (`machi signs add`), given in the page's URL fragment. */
  mqtt: { path: string; username: string };
  topics: { congestion: string; notice: string; heartbeat: string };
}

/** Sites a people counter watches: only these have a level. */
export function countedSites(registry: Registry): Set<string> {
  return new Set(
    [...registry.devices.values()].flatMap((d) => (d.kind === 'people-counter' ? [d.site] : [])),
  );
}

/** Every shelter of the registry by id, named in every language (notices name shelters by id). */
export function shelterNames(registry: Registry): Record<string, FullText> {
  const shelters: Record<string, FullText> = {};
  for (const a of registry.areas.values()) for (const s of a.shelters) shelters[s.id] = localized(s.name);
  return shelters;
}

/** undefined when the site is unknown or has no sign. */
export function signConfig(siteId: string, registry: Registry, config: Config): SignConfig | undefined {
  const site = registry.sites.get(siteId);
  if (!site?.signage) return undefined;
  const area = registry.areas.get(site.area);
  const counted = countedSites(registry);
  const areaSites = [...registry.sites.values()].filter((s) => s.area === site.area).map((s) => s.id);
  const shown = counted.has(siteId)
    ? site.nearby
    : [...new Set([...site.nearby, ...areaSites])].filter((id) => id !== siteId && counted.has(id));
  return {
    siteId,
    name: localized(site.name),
    area: { id: site.area, name: area ? localized(area.name) : localized({ ja: site.area, en: site.area }) },
    counted: counted.has(siteId),
    nearby: shown.flatMap((id) => {
      const n = registry.sites.get(id);
      return n ? [{ id, name: localized(n.name), topic: topics.signageCongestion(id) }] : [];
    }),
    // Relative, so the code leads to the host the sign itself was served from.
    visitUrl: `/visit/${encodeURIComponent(siteId)}`,
    shelters: shelterNames(registry),
    areaShelters: area?.shelters.map((s) => s.id) ?? [],
    languages: Languages,
    rotateS: config.signage.rotateS,
    staleS: config.signage.staleS,
    heartbeatS: config.signage.heartbeatS,
    // The signage role may only read public signage topics and publish this sign's heartbeat.
    mqtt: { path: WEBSOCKET_PATH, username: `signage/${siteId}` },
    topics: {
      congestion: topics.signageCongestion(siteId),
      notice: topics.signageNotice(siteId),
      heartbeat: topics.signageHeartbeat(siteId),
    },
  };
}

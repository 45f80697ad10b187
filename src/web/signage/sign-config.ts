// What a sign's page needs to run, built from the registry and config: names in every language,
// the documented MQTT topics, its credentials and timings. The page hard-codes none of these.

import { WEBSOCKET_PATH } from '../../broker/listeners.ts';
import type { Config } from '../../config/config.ts';
import type { Registry } from '../../registry/schema.ts';
import { topics } from '../../schemas/topics.ts';
import { type FullText, Languages, localized } from '../localized.ts';

export interface SignConfig {
  siteId: string;
  name: FullText;
  area: { id: string; name: FullText };
  nearby: Array<{ id: string; name: FullText; topic: string }>;
  /** Every shelter in the registry (notices name them by id), the site's area first. */
  shelters: Record<string, FullText>;
  areaShelters: string[];
  languages: readonly string[];
  rotateS: number;
  staleS: number;
  heartbeatS: number;
  mqtt: { path: string; username: string; password: string };
  topics: { congestion: string; notice: string; heartbeat: string };
}

/** undefined when the site is unknown or has no sign. */
export function signConfig(siteId: string, registry: Registry, config: Config): SignConfig | undefined {
  const site = registry.sites.get(siteId);
  if (!site?.signage) return undefined;
  const area = registry.areas.get(site.area);
  const shelters: Record<string, FullText> = {};
  for (const a of registry.areas.values()) for (const s of a.shelters) shelters[s.id] = localized(s.name);
  return {
    siteId,
    name: localized(site.name),
    area: { id: site.area, name: area ? localized(area.name) : localized({ ja: site.area, en: site.area }) },
    nearby: site.nearby.flatMap((id) => {
      const n = registry.sites.get(id);
      return n ? [{ id, name: localized(n.name), topic: topics.signageCongestion(id) }] : [];
    }),
    shelters,
    areaShelters: area?.shelters.map((s) => s.id) ?? [],
    languages: Languages,
    rotateS: config.signage.rotateS,
    staleS: config.signage.staleS,
    heartbeatS: config.signage.heartbeatS,
    // The signage role may only read public signage topics and publish this sign's heartbeat.
    mqtt: { path: WEBSOCKET_PATH, username: `signage/${siteId}`, password: config.mqtt.roles.signage },
    topics: {
      congestion: topics.signageCongestion(siteId),
      notice: topics.signageNotice(siteId),
      heartbeat: topics.signageHeartbeat(siteId),
    },
  };
}

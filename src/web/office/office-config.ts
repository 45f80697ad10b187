// What the office console needs: device and site positions from the registry, the documented
// MQTT topic filters and timings. The office password is never sent: staff type it in.

import { ROLE_USERS } from '../../broker/auth.ts';
import { WEBSOCKET_PATH } from '../../broker/listeners.ts';
import type { Config } from '../../config/config.ts';
import type { Registry } from '../../registry/schema.ts';
import { topics } from '../../schemas/topics.ts';

export function officeConfig(registry: Registry, config: Config) {
  return {
    mqtt: { path: WEBSOCKET_PATH, username: ROLE_USERS.office },
    topics: {
      alertsActive: topics.alertsActive('+'),
      alertAck: Object.fromEntries([...registry.areas.keys()].map((id) => [id, topics.alertAck(id)])),
      deviceStatus: [topics.deviceStatus('flood', '+'), topics.deviceStatus('crowd', '+')],
      signHeartbeat: topics.signageHeartbeat('+'),
    },
    /** A sign is alive while its last heartbeat is younger than three intervals. */
    signAliveS: config.signage.heartbeatS * 3,
    tileUrl: config.office.tileUrl ?? null,
    areas: [...registry.areas.values()].map((a) => ({
      id: a.id,
      name: a.name.ja,
      lat: a.lat,
      lon: a.lon,
      shelters: a.shelters.map((s) => ({ id: s.id, name: s.name.ja, lat: s.lat, lon: s.lon })),
    })),
    signs: [...registry.sites.values()]
      .filter((s) => s.signage)
      .map((s) => ({ id: s.id, name: s.name.ja, lat: s.lat, lon: s.lon })),
    devices: [...registry.devices.values()].map((d) => ({
      id: d.id,
      kind: d.kind,
      place: d.kind === 'flood-sensor' ? d.area : d.site,
      lat: d.lat,
      lon: d.lon,
    })),
  };
}

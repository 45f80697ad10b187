// What the office console needs: device and site positions from the registry, the documented
// MQTT topic filters and timings. No password is ever sent: staff log in with their own name
// (MQTT user `office/<name>`; in demo mode the shared user `office` too).

import type { Config } from '../../config/config.ts';
import type { Registry } from '../../registry/schema.ts';
import { MAX_SERIES_HOURS } from '../../schemas/office.ts';
import { ROLE_USERS, topics, WEBSOCKET_PATH } from '../../schemas/topics.ts';
import { OFFICE_API } from './api.ts';

export function officeConfig(registry: Registry, config: Config) {
  return {
    mqtt: {
      path: WEBSOCKET_PATH,
      userPrefix: `${ROLE_USERS.office}/`,
      demoUser: config.mode === 'demo' ? ROLE_USERS.office : null,
    },
    topics: {
      alertsActive: topics.alertsActive('+'),
      alertAck: Object.fromEntries([...registry.areas.keys()].map((id) => [id, topics.alertAck(id)])),
      deviceStatus: [topics.deviceStatus('flood', '+'), topics.deviceStatus('crowd', '+')],
      signHeartbeat: topics.signageHeartbeat('+'),
    },
    api: { ...OFFICE_API, maxSeriesHours: MAX_SERIES_HOURS },
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

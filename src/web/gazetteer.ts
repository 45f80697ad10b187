// Grafana's geomap places markers by looking a field up in a gazetteer; this one maps every
// registry device and site id to its position (grafana/gazetteer/devices.json, mounted into Grafana).
import type { Registry } from '../registry/schema.ts';

export interface GazetteerEntry {
  key: string;
  name: string;
  latitude: number;
  longitude: number;
}

export function gazetteer(registry: Registry): GazetteerEntry[] {
  const places = [...registry.devices.values(), ...registry.sites.values()];
  return places.map((p) => ({ key: p.id, name: p.id, latitude: p.lat, longitude: p.lon }));
}

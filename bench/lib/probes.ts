// Probe devices: extra flood sensors a case adds to its throwaway registry to time one path
// precisely (alerts, end to end) while the load devices make the traffic. Demo secrets, verified as
// generated ones (src/simulators/load-registry.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Area } from '../../src/registry/schema.ts';
import { demoSecret, hashGeneratedSecret } from '../../src/registry/secrets.ts';

export interface Probe {
  id: string;
  area: string;
}

/** Writes `<name>.yaml` into the registry dir with the probes (and any new areas they need). */
export function writeProbes(
  dir: string,
  name: string,
  probes: Probe[],
  areas: Array<Pick<Area, 'id' | 'name' | 'lat' | 'lon'>> = [],
): void {
  const devices = probes.map((p, i) => ({
    id: p.id,
    kind: 'flood-sensor',
    vendor: 'machi-json',
    family: 'contact',
    area: p.area,
    lat: 33.1 + i * 0.01,
    lon: 130.1,
    heartbeatS: 60,
    secretHash: hashGeneratedSecret(demoSecret(p.id)),
  }));
  writeFileSync(join(dir, `${name}.yaml`), stringify({ areas, devices }));
}

// A throwaway registry of N load-test flood sensors (plus Takeo's areas and sites). Their demo
// secrets stand in for generated ones (same 144-bit shape) and get the verifier `machi devices add`
// writes for those, so a benchmark's broker checks logins as it would for a provisioned fleet.
// Never for real devices.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { demoSecret, hashGeneratedSecret } from '../registry/secrets.ts';

export const loadDeviceId = (i: number) => `fs-load-${String(i).padStart(5, '0')}`;

export function makeLoadRegistry(dir: string, devices: number, from = 'devices'): string[] {
  mkdirSync(dir, { recursive: true });
  for (const f of ['areas.yaml', 'sites.yaml']) copyFileSync(join(from, f), join(dir, f));
  const ids = Array.from({ length: devices }, (_, i) => loadDeviceId(i));
  const entries = ids.map((id, i) => ({
    id,
    kind: 'flood-sensor',
    vendor: 'machi-json',
    family: 'contact',
    area: 'takeo-town',
    lat: 33.19 + (i % 100) * 0.0001,
    lon: 130.01 + Math.floor(i / 100) * 0.0001,
    heartbeatS: 60,
    secretHash: hashGeneratedSecret(demoSecret(id)),
  }));
  writeFileSync(
    join(dir, 'load-devices.yaml'),
    `# Load-test devices: demo secrets. Not for real use.\n${stringify({ demo: true, devices: entries })}`,
  );
  return ids;
}

// Regenerates grafana/gazetteer/devices.json from the registry: `npx tsx scripts/grafana-gazetteer.ts`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config/config.ts';
import { loadRegistry } from '../src/registry/load.ts';
import { gazetteer } from '../src/web/gazetteer.ts';

mkdirSync('grafana/gazetteer', { recursive: true });
const entries = gazetteer(loadRegistry(loadConfig().devicesDir));
writeFileSync('grafana/gazetteer/devices.json', `${JSON.stringify(entries, null, 2)}\n`);
console.log(`grafana/gazetteer/devices.json: ${entries.length} places`);

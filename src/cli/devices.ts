import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import { addDevice, rotateSecret, setDeviceDisabled } from '../registry/edit.ts';
import { loadRegistry } from '../registry/load.ts';
import type { Command } from './command.ts';

const USAGE = `machi devices list [--dir DIR]
machi devices add --id ID --kind flood-sensor|people-counter --vendor machi-json|lpwa-hex|gateway-csv
                  --lat LAT --lon LON --heartbeat SECONDS
                  (flood-sensor) --family contact|radio --area AREA [--stages 10,20,30]
                  (people-counter) --site SITE [--interval SECONDS]   [--dir DIR] [--file NAME]
machi devices rotate-secret ID [--dir DIR]
machi devices disable|enable ID [--dir DIR]
(a running broker reloads the registry: a rotated or disabled device is disconnected at once)`;

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'list devices, add one, rotate a secret, disable one (secrets are printed once, stored as hashes)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: Object.fromEntries(
        [
          'dir',
          'file',
          'id',
          'kind',
          'vendor',
          'lat',
          'lon',
          'heartbeat',
          'family',
          'area',
          'stages',
          'site',
          'interval',
        ].map((o) => [o, { type: 'string' as const }]),
      ),
    });
    const dir = values.dir ?? loadConfig().devicesDir;
    const [action, id] = positionals;
    if (action === 'list') {
      const registry = loadRegistry(dir);
      console.log(['id', 'kind', 'vendor', 'family', 'area/site', 'heartbeat s'].join('\t'));
      for (const d of registry.devices.values()) {
        const place = d.kind === 'flood-sensor' ? d.area : d.site;
        const family = d.kind === 'flood-sensor' ? d.family : '-';
        console.log([d.id, d.kind, d.vendor, family, place, d.heartbeatS].join('\t'));
      }
      return 0;
    }
    if (action === 'add') {
      const common = {
        id: values.id,
        kind: values.kind,
        vendor: values.vendor,
        lat: num(values.lat),
        lon: num(values.lon),
        heartbeatS: num(values.heartbeat),
      };
      const fields =
        values.kind === 'people-counter'
          ? { ...common, site: values.site, intervalS: num(values.interval) }
          : {
              ...common,
              family: values.family,
              area: values.area,
              stagesCm: values.stages?.split(',').map(Number),
            };
      const { secret, file } = addDevice(dir, fields, values.file);
      console.log(`added ${values.id} to ${file}`);
      console.log(`secret (shown once, only its hash is stored): ${secret}`);
      return 0;
    }
    if (action === 'rotate-secret' && id) {
      const { secret, file } = rotateSecret(dir, id);
      console.log(`new secret for ${id} (shown once; ${file} stores only its hash): ${secret}`);
      return 0;
    }
    if ((action === 'disable' || action === 'enable') && id) {
      const file = setDeviceDisabled(dir, id, action === 'disable');
      console.log(`${id} ${action}d in ${file}`);
      return 0;
    }
    console.error(`usage:\n${USAGE}`);
    return 2;
  },
};

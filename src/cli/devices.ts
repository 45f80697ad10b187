import { loadConfig } from '../config/config.ts';
import { addDevice, rotateSecret, setDeviceDisabled } from '../registry/edit.ts';
import { loadRegistry } from '../registry/load.ts';
import { type Command, type OptionSpecs, parseOptions, usageError } from './command.ts';

const USAGE = `machi devices list [--dir DIR]
machi devices add --id ID --kind flood-sensor|people-counter --vendor machi-json|lpwa-hex|gateway-csv
                  --lat LAT --lon LON --heartbeat SECONDS
                  (flood-sensor) --family contact|radio --area AREA [--stages 10,20,30]
                  (people-counter) --site SITE [--interval SECONDS]   [--dir DIR] [--file NAME]
machi devices rotate-secret ID [--dir DIR]
machi devices disable|enable ID [--dir DIR]
(a running broker reloads the registry: a rotated or disabled device is disconnected at once)`;

const options = {
  dir: { type: 'string', arg: 'DIR', help: 'the registry folder (default MACHI_DEVICES_DIR)' },
  file: {
    type: 'string',
    arg: 'NAME',
    help: 'add: the file in DIR to add to (default flood-sensors.yaml or cameras.yaml)',
  },
  id: { type: 'string', arg: 'ID', help: 'add: the new device id' },
  kind: { type: 'string', arg: 'KIND', help: 'add: flood-sensor or people-counter' },
  vendor: { type: 'string', arg: 'FORMAT', help: 'add: machi-json, lpwa-hex or gateway-csv' },
  lat: { type: 'string', arg: 'LAT', help: 'add: latitude' },
  lon: { type: 'string', arg: 'LON', help: 'add: longitude' },
  heartbeat: { type: 'string', arg: 'SECONDS', help: 'add: heartbeat interval' },
  family: { type: 'string', arg: 'FAMILY', help: 'add (flood-sensor): contact or radio' },
  area: { type: 'string', arg: 'AREA', help: 'add (flood-sensor): the area id' },
  stages: { type: 'string', arg: 'CM,CM,..', help: 'add (flood-sensor): stage heights in cm' },
  site: { type: 'string', arg: 'SITE', help: 'add (people-counter): the site id' },
  interval: { type: 'string', arg: 'SECONDS', help: 'add (people-counter): count interval' },
} satisfies OptionSpecs;

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'list devices, add one, rotate a secret, disable one (secrets are printed once, stored as hashes)',
  usage: USAGE,
  options,
  async run(args) {
    const { values, positionals } = parseOptions(options, args);
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
    return usageError(this);
  },
};

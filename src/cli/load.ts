import { parseArgs } from 'node:util';
import { runLoad } from '../../simulators/load.ts';
import { makeLoadRegistry } from '../../simulators/load-registry.ts';
import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { demoSecret } from '../registry/secrets.ts';
import type { Command } from './command.ts';

export const loadCommand: Command = {
  name: 'load',
  summary:
    'load generator: N device connections publishing QoS 1 at a total rate; or make a load-test registry',
  usage:
    'machi load --devices N --rate R --duration S [--window W] [--client mqtt.js|lean]\nmachi load --make-registry DIR --devices N',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        devices: { type: 'string', default: '10' },
        rate: { type: 'string', default: '0' },
        duration: { type: 'string', default: '10' },
        window: { type: 'string', default: '20' },
        client: { type: 'string', default: 'mqtt.js' },
        'make-registry': { type: 'string' },
      },
    });
    const n = Number(values.devices);
    if (values['make-registry']) {
      makeLoadRegistry(values['make-registry'], n);
      console.log(
        `wrote ${n} load devices to ${values['make-registry']} (start the broker with MACHI_DEVICES_DIR=${values['make-registry']})`,
      );
      return 0;
    }
    const client = values.client;
    if (client !== 'mqtt.js' && client !== 'lean') {
      console.error(`--client must be mqtt.js or lean, not ${client}`);
      return 2;
    }
    const config = loadConfig();
    const ids = [...loadRegistry(config.devicesDir).devices.values()]
      .filter((d) => d.kind === 'flood-sensor' && d.vendor === 'machi-json')
      .map((d) => d.id);
    if (ids.length < n) {
      console.error(
        `the registry in ${config.devicesDir} has ${ids.length} JSON flood sensors; make a bigger one with machi load --make-registry DIR --devices ${n}`,
      );
      return 2;
    }
    const result = await runLoad({
      url: `mqtt://${config.mqtt.host}:${config.mqtt.port}`,
      deviceIds: ids.slice(0, n),
      secret: (id) => demoSecret(id),
      rate: Number(values.rate),
      durationS: Number(values.duration),
      window: Number(values.window),
      client,
    });
    console.log(JSON.stringify(result, null, 2));
    return result.failed === 0 ? 0 : 1;
  },
};

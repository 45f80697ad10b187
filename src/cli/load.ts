import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { demoSecret } from '../registry/secrets.ts';
import { brokerTls, brokerUrl } from '../runtime/component.ts';
import { runLoad } from '../simulators/load.ts';
import { makeLoadRegistry } from '../simulators/load-registry.ts';
import { type Command, type OptionSpecs, parseOptions } from './command.ts';

const options = {
  devices: {
    type: 'string',
    default: '10',
    arg: 'N',
    help: 'device connections (JSON flood sensors of the registry)',
  },
  rate: {
    type: 'string',
    default: '0',
    arg: 'R',
    help: 'messages per second in all (0 = each device keeps --window in flight)',
  },
  duration: { type: 'string', default: '10', arg: 'S', help: 'seconds to run' },
  window: {
    type: 'string',
    default: '20',
    arg: 'W',
    help: 'with --rate 0: QoS 1 messages each device keeps awaiting their PUBACK',
  },
  client: {
    type: 'string',
    default: 'mqtt.js',
    arg: 'mqtt.js|lean',
    help: 'the MQTT client to publish with',
  },
  'make-registry': {
    type: 'string',
    arg: 'DIR',
    help: 'instead: write a registry of --devices N load devices to DIR',
  },
} satisfies OptionSpecs;

export const loadCommand: Command = {
  name: 'load',
  summary:
    'load generator: N device connections publishing QoS 1 at a total rate; or make a load-test registry',
  usage:
    'machi load --devices N --rate R --duration S [--window W] [--client mqtt.js|lean]\nmachi load --make-registry DIR --devices N',
  options,
  async run(args) {
    const { values } = parseOptions(options, args, false);
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
      // Where machi's own services connect: MQTT_URL and MQTT_CA for a broker on TLS only.
      url: brokerUrl({ config, local: {} }),
      tls: brokerTls(config),
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

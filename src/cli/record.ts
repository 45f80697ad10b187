import { untilSignal } from '../app/run.ts';
import { loadConfig } from '../config/config.ts';
import { brokerTls, brokerUrl } from '../runtime/component.ts';
import { filters } from '../schemas/topics.ts';
import { record } from '../simulators/record.ts';
import { type Command, type OptionSpecs, parseOptions } from './command.ts';

const options = {
  out: { type: 'string', default: 'recording.ndjson', arg: 'FILE', help: 'the NDJSON file to append to' },
  topic: { type: 'string', default: filters.all, arg: 'FILTER', help: 'the MQTT topic filter to record' },
  duration: { type: 'string', arg: 'SECONDS', help: 'stop after this many seconds (default: at Ctrl-C)' },
} satisfies OptionSpecs;

export const recordCommand: Command = {
  name: 'record',
  summary: 'record MQTT traffic to NDJSON (time, topic, qos, payload base64) until Ctrl-C',
  usage: 'machi record [--out FILE] [--topic FILTER] [--duration SECONDS]',
  options,
  async run(args) {
    const { values } = parseOptions(options, args, false);
    const config = loadConfig();
    const recording = await record({
      // Where machi's own services connect: MQTT_URL and MQTT_CA for a broker on TLS only.
      url: brokerUrl({ config, local: {} }),
      tls: brokerTls(config),
      password: config.mqtt.roles.recorder,
      file: values.out,
      filter: values.topic,
    });
    console.log(`recording ${values.topic} to ${values.out} (Ctrl-C to stop)`);
    await (values.duration
      ? new Promise((r) => setTimeout(r, Number(values.duration) * 1000))
      : untilSignal());
    await recording.stop();
    console.log(`recorded ${recording.count()} messages`);
    return 0;
  },
};

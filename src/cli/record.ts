import { parseArgs } from 'node:util';
import { record } from '../../simulators/record.ts';
import { untilSignal } from '../app/run.ts';
import { loadConfig } from '../config/config.ts';
import { type Command, showHelp, wantsHelp } from './command.ts';

export const recordCommand: Command = {
  name: 'record',
  summary: 'record MQTT traffic to NDJSON (time, topic, qos, payload base64) until Ctrl-C',
  usage: 'machi record [--out FILE] [--topic FILTER] [--duration SECONDS]',
  options: [
    ['--out FILE', 'the NDJSON file to append to (default recording.ndjson)'],
    ['--topic FILTER', 'the MQTT topic filter to record (default takeo/v1/#)'],
    ['--duration SECONDS', 'stop after this many seconds (default: at Ctrl-C)'],
  ],
  async run(args) {
    if (wantsHelp(args)) return showHelp(this);
    const { values } = parseArgs({
      args,
      options: {
        out: { type: 'string', default: 'recording.ndjson' },
        topic: { type: 'string', default: 'takeo/v1/#' },
        duration: { type: 'string' },
      },
    });
    const config = loadConfig();
    const recording = await record({
      url: `mqtt://${config.mqtt.host}:${config.mqtt.port}`,
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

import cliProgress from 'cli-progress';
import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { brokerTls, brokerUrl } from '../runtime/component.ts';
import { replay } from '../simulators/replay.ts';
import { type Command, type OptionSpecs, parseOptions, usageError } from './command.ts';

const options = {
  speed: { type: 'string', default: '1', arg: 'N', help: 'the original spacing divided by N' },
  drill: {
    type: 'boolean',
    default: false,
    help: 'replay as a drill: a new exercise id, every alert marked 訓練 / DRILL',
  },
} satisfies OptionSpecs;

export const replayCommand: Command = {
  name: 'replay',
  summary: "replay a recording through each device's own credentials, spacing scaled by --speed",
  usage: 'machi replay FILE [--speed N] [--drill]',
  options,
  async run(args) {
    const { values, positionals } = parseOptions(options, args);
    const file = positionals[0];
    if (!file) return usageError(this);
    const config = loadConfig();
    const bar = new cliProgress.SingleBar(
      { format: 'replay [{bar}] {percentage}% | {value}/{total} | {speed} msg/s | ETA {eta_formatted}' },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    const result = await replay({
      file,
      // Where machi's own services connect: MQTT_URL and MQTT_CA for a broker on TLS only.
      url: brokerUrl({ config, local: {} }),
      tls: brokerTls(config),
      registry: loadRegistry(config.devicesDir),
      speed: Number(values.speed),
      drill: values.drill,
      onStart: (run) => {
        if (run.exercise) console.log(`replay ${file}: drill exercise ${run.exercise}`);
        bar.start(1, 0, { speed: 0 });
      },
      onProgress: (done, total) => {
        bar.setTotal(total);
        bar.update(done, { speed: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) });
      },
    });
    bar.stop();
    console.log(
      `sent ${result.sent}, acknowledged ${result.acknowledged}, failed ${result.failed}, skipped ${result.skipped} (not device topics)`,
    );
    return result.failed === 0 ? 0 : 1;
  },
};

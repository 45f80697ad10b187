import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { replay } from '../../simulators/replay.ts';
import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import type { Command } from './command.ts';

export const replayCommand: Command = {
  name: 'replay',
  summary: "replay a recording through each device's own credentials, spacing scaled by --speed",
  usage: 'machi replay FILE [--speed N] [--drill]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { speed: { type: 'string', default: '1' }, drill: { type: 'boolean', default: false } },
    });
    const file = positionals[0];
    if (!file) {
      console.error(`usage: ${this.usage}`);
      return 2;
    }
    const config = loadConfig();
    const bar = new cliProgress.SingleBar(
      { format: 'replay [{bar}] {percentage}% | {value}/{total} | {speed} msg/s | ETA {eta_formatted}' },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(1, 0, { speed: 0 });
    const result = await replay({
      file,
      url: `mqtt://${config.mqtt.host}:${config.mqtt.port}`,
      registry: loadRegistry(config.devicesDir),
      speed: Number(values.speed),
      drill: values.drill,
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

import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { replay } from '../../simulators/replay.ts';
import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { type Command, showHelp, wantsHelp } from './command.ts';

export const replayCommand: Command = {
  name: 'replay',
  summary: "replay a recording through each device's own credentials, spacing scaled by --speed",
  usage: 'machi replay FILE [--speed N] [--drill]',
  options: [
    ['--speed N', 'the original spacing divided by N (default 1)'],
    ['--drill', 'replay as a drill: a new exercise id, every alert marked 訓練 / DRILL'],
  ],
  async run(args) {
    if (wantsHelp(args)) return showHelp(this);
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
    const result = await replay({
      file,
      url: `mqtt://${config.mqtt.host}:${config.mqtt.port}`,
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

import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { runScenario } from '../../simulators/run.ts';
import { loadScenario } from '../../simulators/scenario.ts';
import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import type { Command } from './command.ts';

export const simulateCommand: Command = {
  name: 'simulate',
  summary:
    'play a scenario (normal-day, festival, heavy-rain-2021, or a YAML file) through the broker as the devices',
  usage: 'machi simulate SCENARIO [--speed N] [--seed S] [--drill] [--duration SECONDS]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        speed: { type: 'string', default: '60' },
        seed: { type: 'string' },
        drill: { type: 'boolean' },
        duration: { type: 'string' },
      },
    });
    const name = positionals[0];
    if (!name) {
      console.error(`usage: ${this.usage}`);
      return 2;
    }
    const config = loadConfig();
    const scenario = loadScenario(name);
    if (values.seed) scenario.seed = Number(values.seed);
    const bar = new cliProgress.SingleBar(
      { format: `${scenario.name} [{bar}] {percentage}% | {value}/{total} messages | ETA {eta_formatted}` },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0);
    const result = await runScenario({
      scenario,
      registry: loadRegistry(config.devicesDir),
      url: `mqtt://${config.mqtt.host}:${config.mqtt.port}`,
      speed: Number(values.speed),
      drill: values.drill || scenario.drill,
      maxSeconds: values.duration ? Number(values.duration) : undefined,
      onProgress: (done, total) => {
        bar.setTotal(total);
        bar.update(done);
      },
    });
    bar.stop();
    console.log(`sent ${result.sent}, acknowledged ${result.acknowledged}, failed ${result.failed}`);
    return result.failed === 0 ? 0 : 1;
  },
};

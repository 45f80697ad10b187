import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { z } from 'zod';
import { runScenario } from '../../simulators/run.ts';
import { loadScenario } from '../../simulators/scenario.ts';
import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { type Command, showHelp, wantsHelp } from './command.ts';

const IsoTime = z.iso.datetime({ offset: true });

/** `--start`: an ISO-8601 time with seconds and a UTC offset; a local time would be ambiguous. */
export function parseStart(text: string): number {
  if (!IsoTime.safeParse(text).success)
    throw new Error(
      `--start "${text}" is not an ISO-8601 time with a UTC offset, e.g. 2026-08-14T09:00:00+09:00 or 2026-08-14T00:00:00Z`,
    );
  return Date.parse(text);
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary:
    'play a scenario (normal-day, festival, heavy-rain-2021, or a YAML file) through the broker as the devices',
  usage: 'machi simulate SCENARIO [--speed N] [--seed S] [--drill] [--start TIME] [--duration SECONDS]',
  options: [
    ['--speed N', 'simulated seconds per real second (default 60; 0 = as fast as PUBACKs come)'],
    ['--seed S', "the random seed (default: the scenario's)"],
    ['--drill', 'a drill: a new exercise id, every alert marked 訓練 / DRILL (drill scenarios always are)'],
    ['--start TIME', 'device time at the scenario start, ISO-8601 with offset (default: now)'],
    ['--duration SECONDS', 'stop after this many real seconds'],
  ],
  async run(args) {
    if (wantsHelp(args)) return showHelp(this);
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        speed: { type: 'string', default: '60' },
        seed: { type: 'string' },
        drill: { type: 'boolean' },
        start: { type: 'string' },
        duration: { type: 'string' },
      },
    });
    const name = positionals[0];
    if (!name) {
      console.error(`usage: ${this.usage}`);
      return 2;
    }
    const start = values.start === undefined ? undefined : parseStart(values.start);
    const config = loadConfig();
    const scenario = loadScenario(name);
    if (values.seed) scenario.seed = Number(values.seed);
    const bar = new cliProgress.SingleBar(
      { format: `${scenario.name} [{bar}] {percentage}% | {value}/{total} messages | ETA {eta_formatted}` },
      cliProgress.Presets.shades_classic,
    );
    const result = await runScenario({
      scenario,
      registry: loadRegistry(config.devicesDir),
      url: `mqtt://${config.mqtt.host}:${config.mqtt.port}`,
      speed: Number(values.speed),
      drill: values.drill || scenario.drill,
      start,
      maxSeconds: values.duration ? Number(values.duration) : undefined,
      onStart: (run) => {
        console.log(
          `${scenario.name}: device times from ${new Date(run.start).toISOString()}${run.exercise ? `, drill exercise ${run.exercise}` : ''}`,
        );
        bar.start(1, 0);
      },
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

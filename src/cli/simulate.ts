import cliProgress from 'cli-progress';
import { z } from 'zod';
import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { brokerTls, brokerUrl } from '../runtime/component.ts';
import { runScenario } from '../simulators/run.ts';
import { loadScenario } from '../simulators/scenario.ts';
import { type Command, type OptionSpecs, parseOptions, usageError } from './command.ts';

const IsoTime = z.iso.datetime({ offset: true });

/** `--start`: an ISO-8601 time with seconds and a UTC offset; a local time would be ambiguous. */
export function parseStart(text: string): number {
  if (!IsoTime.safeParse(text).success)
    throw new Error(
      `--start "${text}" is not an ISO-8601 time with a UTC offset, e.g. 2026-08-14T09:00:00+09:00 or 2026-08-14T00:00:00Z`,
    );
  return Date.parse(text);
}

const options = {
  speed: {
    type: 'string',
    default: '60',
    arg: 'N',
    help: 'simulated seconds per real second (0 = as fast as PUBACKs come)',
  },
  seed: { type: 'string', arg: 'S', help: "the random seed (default: the scenario's)" },
  drill: {
    type: 'boolean',
    help: 'a drill: a new exercise id, every alert marked 訓練 / DRILL (drill scenarios always are)',
  },
  start: {
    type: 'string',
    arg: 'TIME',
    help: 'device time at the scenario start, ISO-8601 with offset (default: now)',
  },
  duration: { type: 'string', arg: 'SECONDS', help: 'stop after this many real seconds' },
} satisfies OptionSpecs;

export const simulateCommand: Command = {
  name: 'simulate',
  summary:
    'play a scenario (normal-day, festival, heavy-rain-2021, or a YAML file) through the broker as the devices',
  usage: 'machi simulate SCENARIO [--speed N] [--seed S] [--drill] [--start TIME] [--duration SECONDS]',
  options,
  async run(args) {
    const { values, positionals } = parseOptions(options, args);
    const name = positionals[0];
    if (!name) return usageError(this);
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
      // Where machi's own services connect: MQTT_URL and MQTT_CA for a broker on TLS only.
      url: brokerUrl({ config, local: {} }),
      tls: brokerTls(config),
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

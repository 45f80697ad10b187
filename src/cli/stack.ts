import { loadConfig } from '../config/config.ts';
import { stackDown, stackStatus, stackUp } from '../stack/stack.ts';
import { type Command, type OptionSpecs, parseOptions, usageError } from './command.ts';
import { onStopSignals } from './stop-signals.ts';

const options = {
  'kafka-nodes': {
    type: 'string',
    arg: 'N',
    help: "up: Kafka as N KRaft nodes on ports from KAFKA_BROKERS's first on (default: as last started, else 1)",
  },
} satisfies OptionSpecs;

export const stackCommand: Command = {
  name: 'stack',
  summary: 'start, stop or inspect the native Kafka + InfluxDB stack',
  usage: 'machi stack up [--kafka-nodes N]|down|status',
  options,
  async run(args) {
    const { values, positionals } = parseOptions(options, args);
    const config = loadConfig();
    switch (positionals[0]) {
      case 'up': {
        const nodes = values['kafka-nodes'];
        if (nodes !== undefined && !/^[1-9]\d*$/.test(nodes)) {
          console.error(`--kafka-nodes must be a positive integer, not "${nodes}"`);
          return 2;
        }
        // Ctrl-C while Kafka or InfluxDB starts stops what this run spawned, instead of waiting for it.
        const interrupt = new AbortController();
        const release = onStopSignals(() => interrupt.abort());
        try {
          const kafkaNodes = nodes === undefined ? undefined : Number(nodes);
          const started = await stackUp(config, process.env, kafkaNodes, interrupt.signal);
          console.log(started.length ? `started: ${started.join(', ')}` : 'stack was already running');
          return 0;
        } catch (err) {
          if (!interrupt.signal.aborted) throw err;
          const e = err as { code?: string; message?: string };
          console.error(`machi: ${e.message} [${e.code}]; what this run had started is stopped`);
          return 130;
        } finally {
          release();
        }
      }
      case 'down': {
        const result = await stackDown();
        for (const [service, outcome] of Object.entries(result)) console.log(`${service}: ${outcome}`);
        return 0;
      }
      case 'status': {
        const statuses = await stackStatus(config);
        for (const s of statuses) {
          const state = s.reachable ? 'up' : 'down';
          const pid = s.pid ? `pid ${s.pid}` : 'not started by machi';
          console.log(`${s.name.padEnd(9)} ${state.padEnd(5)} ${s.address}  (${pid})  log: ${s.log}`);
        }
        return statuses.every((s) => s.reachable) ? 0 : 1;
      }
      default:
        return usageError(this);
    }
  },
};

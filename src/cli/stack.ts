import { loadConfig } from '../config/config.ts';
import { stackDown, stackStatus, stackUp } from '../stack/stack.ts';
import type { Command } from './command.ts';

export const stackCommand: Command = {
  name: 'stack',
  summary: 'start, stop or inspect the native Kafka + InfluxDB stack',
  usage: 'machi stack up|down|status',
  async run(args) {
    const config = loadConfig();
    switch (args[0]) {
      case 'up': {
        const started = await stackUp(config);
        console.log(started.length ? `started: ${started.join(', ')}` : 'stack was already running');
        return 0;
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
          console.log(`${s.service.padEnd(9)} ${state.padEnd(5)} ${s.address}  (${pid})  log: ${s.log}`);
        }
        return statuses.every((s) => s.reachable) ? 0 : 1;
      }
      default:
        console.error(`usage: ${this.usage}`);
        return 2;
    }
  },
};

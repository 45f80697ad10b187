import { describeConfig } from '../config/config.ts';
import type { Command } from './command.ts';

export const configCommand: Command = {
  name: 'config',
  summary: 'print the effective configuration (secrets masked)',
  usage: 'machi config',
  async run() {
    const rows = describeConfig();
    const width = Math.max(...rows.map(([name]) => name.length));
    for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
    return 0;
  },
};

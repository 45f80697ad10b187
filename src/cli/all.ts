import { pipelineComponents } from '../app/pipeline.ts';
import { createRuntime, startComponents, untilSignal } from '../app/run.ts';
import { loadConfig } from '../config/config.ts';
import { assertStackReachable } from '../stack/stack.ts';
import type { Command } from './command.ts';

export const allCommand: Command = {
  name: 'all',
  summary: 'run every pipeline component in one process (used by the demo)',
  usage: 'machi all',
  async run() {
    const config = loadConfig();
    // Fail fast, naming the address tried, rather than letting each component time out on its own.
    await assertStackReachable(config);
    const running = await startComponents(createRuntime(config), pipelineComponents);
    await untilSignal();
    await running.stop();
    return 0;
  },
};

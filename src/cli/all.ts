import { pipelineComponents } from '../runtime/pipeline.ts';
import { createRuntime, startComponents, untilSignal } from '../runtime/run.ts';
import type { Command } from './command.ts';

export const allCommand: Command = {
  name: 'all',
  summary: 'run every pipeline component in one process (used by the demo)',
  usage: 'machi all',
  async run() {
    const running = await startComponents(createRuntime(), pipelineComponents);
    await untilSignal();
    await running.stop();
    return 0;
  },
};

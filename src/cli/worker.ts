import { createRuntime, startComponents, untilSignal } from '../runtime/run.ts';
import { workerComponent } from '../workers/component.ts';
import type { Command } from './command.ts';

export const workerCommand: Command = {
  name: 'worker',
  summary:
    'run one stream worker (Kafka → InfluxDB, crowd series, device health); start several to scale out',
  usage: 'machi worker',
  async run() {
    const running = await startComponents(createRuntime(), [workerComponent]);
    await untilSignal();
    await running.stop();
    return 0;
  },
};

import { brokerComponent } from '../broker/component.ts';
import { createRuntime, startComponents, untilSignal } from '../runtime/run.ts';
import type { Command } from './command.ts';

export const brokerCommand: Command = {
  name: 'broker',
  summary: 'run the MQTT broker (TCP, WebSocket at /mqtt, optional TLS) with the Kafka hand-off',
  usage: 'machi broker',
  async run() {
    const running = await startComponents(createRuntime(), [brokerComponent]);
    await untilSignal();
    await running.stop();
    return 0;
  },
};

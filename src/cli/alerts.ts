import { alertsComponent } from '../alerts/component.ts';
import { createRuntime, startComponents, untilSignal } from '../runtime/run.ts';
import type { Command } from './command.ts';

export const alertsCommand: Command = {
  name: 'alerts',
  summary: 'run the flood rules: alerts to Kafka, retained MQTT, InfluxDB and webhooks; office acks',
  usage: 'machi alerts',
  async run() {
    const running = await startComponents(createRuntime(), [alertsComponent]);
    await untilSignal();
    await running.stop();
    return 0;
  },
};

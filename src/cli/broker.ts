import { brokerComponent } from '../broker/component.ts';
import { componentCommand } from './command.ts';

export const brokerCommand = componentCommand(
  'broker',
  'run the MQTT broker (TCP, WebSocket at /mqtt, optional TLS) with the Kafka hand-off',
  brokerComponent,
);

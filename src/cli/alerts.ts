import { singletons } from '../app/pipeline.ts';
import { componentCommand } from './command.ts';

export const alertsCommand = componentCommand(
  'alerts',
  'run the flood rules: alerts to Kafka, retained MQTT, InfluxDB and webhooks; office acks',
  singletons.alerts,
);

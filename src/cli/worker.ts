import { workerComponent } from '../workers/component.ts';
import { componentCommand } from './command.ts';

export const workerCommand = componentCommand(
  'worker',
  'run one stream worker (Kafka → InfluxDB, crowd series, device health); start several to scale out',
  workerComponent,
);

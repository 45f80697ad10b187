// The components `machi all` (and the demo) run in one process, in data-path order.
import { alertsComponent } from '../alerts/component.ts';
import { brokerComponent } from '../broker/component.ts';
import { forecastComponent } from '../forecast/component.ts';
import type { ComponentFactory } from '../runtime/component.ts';
import { webComponent } from '../web/component.ts';
import { workerComponent } from '../workers/component.ts';

export const pipelineComponents: ComponentFactory[] = [
  brokerComponent,
  workerComponent,
  alertsComponent,
  forecastComponent,
  webComponent,
];

// The components `machi all` (and the demo) run in one process, in data-path order.
import { alertsComponent } from '../alerts/component.ts';
import { brokerComponent } from '../broker/component.ts';
import { forecastComponent } from '../forecast/component.ts';
import type { ComponentFactory } from '../runtime/component.ts';
import { webComponent } from '../web/component.ts';
import { workerComponent } from '../workers/component.ts';
import { singleton } from './singleton.ts';

export const pipelineComponents: ComponentFactory[] = [
  brokerComponent,
  workerComponent,
  alertsComponent,
  forecastComponent,
  webComponent,
];

/**
 * `machi alerts` and `machi forecast serve`: any number may run, one of each is active and the
 * others stand by to take over (docs/operations.md). `machi all` runs them plainly.
 */
export const singletons = {
  alerts: singleton('alerts', alertsComponent),
  forecast: singleton('forecast', forecastComponent),
};

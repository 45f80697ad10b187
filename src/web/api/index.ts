// The city's data-linkage platform on machi's public listener: /api/v1 (JSON, CSV, OpenAPI),
// /ngsi-ld/v1 (Smart Data Models) and the open-data downloads, all behind one gate.
import { InfluxDB } from '@influxdata/influxdb-client';
import type { Registry } from '../../registry/schema.ts';
import type { Runtime } from '../../runtime/component.ts';
import { NGSI_PREFIX, ngsiLdPlugin } from '../ngsi-ld/plugin.ts';
import { startUpsertPush } from '../ngsi-ld/upsert-push.ts';
import type { AlertHistoryFeed } from '../office/history-feed.ts';
import type { VisitLive } from '../visit/live.ts';
import { RetainedAlerts } from './active-alerts.ts';
import { InfluxReads } from './influx-reads.ts';
import { OPEN_DATA_OPERATIONS, openDataPlugin } from './open-data.ts';
import { API_PREFIX, apiPlugin } from './plugin.ts';
import { publicGate } from './public-http.ts';
import { OpenDataSource } from './source.ts';

export function startOpenData(
  runtime: Runtime,
  registry: Registry,
  feed: AlertHistoryFeed,
  live: VisitLive,
): { stop(): Promise<void> } {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'open-data' });
  const influx = new InfluxDB({ url: config.influx.url, token: config.influx.token, timeout: 10_000 });
  const alerts = new RetainedAlerts(runtime);
  const source = new OpenDataSource(
    registry,
    new InfluxReads(influx, config),
    (siteId) => live.congestionOf(siteId),
    alerts,
    feed,
  );
  const gate = publicGate(runtime.http, [API_PREFIX, NGSI_PREFIX], config.api.ratePerMinute);
  runtime.http.register(ngsiLdPlugin, { config, gate, source, log });
  runtime.http.register(openDataPlugin, { config, gate, source, log });
  runtime.http.register(apiPlugin, { config, gate, source, log, more: OPEN_DATA_OPERATIONS });
  alerts.start();
  const push = config.ngsiLdPush && startUpsertPush(runtime, registry, config.ngsiLdPush);
  return { stop: async () => void (await Promise.all([alerts.stop(), push?.stop()])) };
}

// The web component: the signage pages, the office console, the visitors' phone pages and the
// browser builds they load. Signs and office get live data over MQTT/WebSocket; visitors' phones
// get it from machi as server-sent events (visit/live.ts). The office's API adds the alert history
// (read from the Kafka audit trail in the background) and sensor series from InfluxDB.
import { loadRegistry } from '../registry/load.ts';
import type { Component, Runtime } from '../runtime/component.ts';
import { startOpenData } from './api/index.ts';
import { officeApiPlugin } from './office/api.ts';
import { AlertHistoryFeed } from './office/history-feed.ts';
import { officePlugin } from './office/plugin.ts';
import { signagePlugin } from './signage/plugin.ts';
import { vendorPlugin } from './static.ts';
import { VisitLive } from './visit/live.ts';
import { visitPlugin } from './visit/plugin.ts';

export function webComponent(runtime: Runtime): Component {
  let live: VisitLive | undefined;
  let openData: { stop(): Promise<void> } | undefined;
  const officeLog = runtime.log.child({ component: 'office' });
  const feed = new AlertHistoryFeed(runtime.config, officeLog);
  return {
    name: 'web',
    async start() {
      const registry = loadRegistry(runtime.config.devicesDir);
      runtime.http.register(vendorPlugin, undefined);
      runtime.http.register(signagePlugin, { config: runtime.config, registry });
      // The office is for staff: on the internal listener (with the vendor builds its page loads).
      if (runtime.internal !== runtime.http) runtime.internal.register(vendorPlugin, undefined);
      runtime.internal.register(officePlugin, { config: runtime.config, registry });
      runtime.internal.register(officeApiPlugin, {
        config: runtime.config,
        login: runtime.officeLogin,
        registry,
        feed,
        log: officeLog,
      });
      feed.start();
      live = new VisitLive(runtime, registry);
      live.start();
      runtime.http.register(visitPlugin, { config: runtime.config, registry, live });
      openData = startOpenData(runtime, registry, feed, live);
    },
    async stop() {
      await Promise.all([live?.stop(), feed.stop(), openData?.stop()]);
    },
  };
}

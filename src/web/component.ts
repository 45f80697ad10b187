// The web component: the signage pages, the office console and the browser builds they load.
// It reads only the registry and config; live data reaches the pages over MQTT/WebSocket.
import { loadRegistry } from '../registry/load.ts';
import type { Component, Runtime } from '../runtime/component.ts';
import { officePlugin } from './office/plugin.ts';
import { signagePlugin } from './signage/plugin.ts';
import { vendorPlugin } from './static.ts';

export function webComponent(runtime: Runtime): Component {
  return {
    name: 'web',
    async start() {
      const registry = loadRegistry(runtime.config.devicesDir);
      runtime.http.register(vendorPlugin, undefined);
      runtime.http.register(signagePlugin, { config: runtime.config, registry });
      runtime.http.register(officePlugin, { config: runtime.config, registry });
    },
    async stop() {},
  };
}

// A long-running part of machi (broker, worker, alerts, forecast, web). `machi all` runs several in
// one process; each also runs alone (`machi broker`, `machi worker`, ...) for scale-out.

import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.ts';
import type { HttpApp } from '../http/app.ts';
import type { ReadinessCheck } from '../http/health.ts';
import type { OfficeLogin } from '../http/office-login.ts';
import type { Logger } from '../observability/logger.ts';
import { ROLE_USERS } from '../schemas/topics.ts';

export interface Runtime {
  config: Config;
  log: Logger;
  metrics: Registry;
  http: HttpApp;
  /** /metrics, /readyz, the office and the ack API: the internal listener, or `http` in the demo. */
  internal: HttpApp;
  /** The office's HTTP login, one per process so its failure budgets cover every office route. */
  officeLogin: OfficeLogin;
  readiness: Record<string, ReadinessCheck>;
  /** Set by an in-process broker once it listens, so other components reach it (even on port 0). */
  local: { mqttPort?: number; tlsPort?: number };
  /** Set for a component that runs once per role (src/app/singleton.ts): the process's lease. */
  lease?: {
    /** Asks Kafka whether the lease is still this process's. */
    holds(): Promise<boolean>;
    /** The component found a newer process in its place (fenced): the process exits as on a lost lease. */
    lost(reason: string): void;
  };
}

/**
 * Where this process's services reach the MQTT broker: MQTT_URL, else the in-process broker (else
 * the configured one) over plaintext on its host, or over TLS when plaintext is off. The CLI's
 * stand-in devices (simulate, replay, load) pass no in-process ports and go the same way.
 */
export function brokerUrl(runtime: Pick<Runtime, 'config' | 'local'>): string {
  return brokerUrls(runtime)[0] as string;
}

/** Every broker MQTT_URL names (else the one brokerUrl picks), in the order they are tried. */
export function brokerUrls(runtime: Pick<Runtime, 'config' | 'local'>): string[] {
  const { mqtt } = runtime.config;
  const { local } = runtime;
  if (mqtt.service.urls) return mqtt.service.urls;
  if (mqtt.plaintext) return [`mqtt://${mqtt.host}:${local.mqttPort ?? mqtt.port}`];
  return [`mqtts://${mqtt.host}:${local.tlsPort ?? mqtt.tls?.port}`];
}

/**
 * How a service connects: the first broker, then on every reconnect the next one MQTT_URL lists
 * (mqtt.js's `servers`), so the alerts' screens follow a dead broker's clients to another.
 */
export function serviceConnectOptions(runtime: Pick<Runtime, 'config' | 'local'>): IClientOptions {
  const servers = brokerUrls(runtime).map((u) => {
    const url = new URL(u);
    return {
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883)),
      protocol: url.protocol.slice(0, -1) as 'mqtt' | 'mqtts',
    };
  });
  return {
    ...brokerTls(runtime.config),
    ...(servers.length > 1 ? { servers } : {}),
    username: ROLE_USERS.service,
    password: runtime.config.mqtt.roles.service,
  };
}

/** The CA a client trusts for the broker's certificate; none: Node's own CAs. */
export interface BrokerTrust {
  ca?: Buffer;
}

/** The services' TLS trust: MQTT_CA when set, else Node's CAs; the broker's name is always checked. */
export function brokerTls(config: Config): BrokerTrust {
  return config.mqtt.service.caPath ? { ca: readFileSync(config.mqtt.service.caPath) } : {};
}

export interface Component {
  name: string;
  /** Resolves once the component serves; it may register routes and readiness checks first. */
  start(): Promise<void>;
  /** Drains in-flight work, then releases everything it holds. */
  stop(): Promise<void>;
  /**
   * Called on every component at once as the process begins to stop, before any `stop()` (which
   * goes in reverse order and can take a while): go unready and take no new connections.
   */
  beginStop?(): void;
}

export type ComponentFactory = (runtime: Runtime) => Component;

/** An MQTT connection as machi's service role, reconnecting by itself, for a component's outputs. */
export function connectService(runtime: Runtime, component: string): MqttClient {
  const client = mqtt.connect(brokerUrl(runtime), {
    ...serviceConnectOptions(runtime),
    clientId: `machi-${component}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    reconnectPeriod: 2000,
  });
  client.on('error', (err) => runtime.log.debug({ component, err: err.message }, 'mqtt error'));
  return client;
}

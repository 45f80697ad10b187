// Starts machi's real broker in-process on ephemeral ports, against real Kafka, with its own topics.
import type { AddressInfo } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { adapterFor } from '../../src/adapters/index.ts';
import { createRuntime, type Running, startComponents } from '../../src/app/run.ts';
import { type BrokerComponent, brokerComponent } from '../../src/broker/component.ts';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import type { ComponentFactory } from '../../src/runtime/component.ts';
import type { CanonicalReading } from '../../src/schemas/readings.ts';
import { topics as mqttTopics } from '../../src/schemas/topics.ts';
import { uniqueName } from '../support/helpers.ts';

export interface BrokerHarness {
  config: Config;
  broker: BrokerComponent;
  running: Running;
  mqttUrl: string;
  wsUrl: string;
  httpUrl: string;
  topics: ReturnType<typeof kafkaTopics>;
  connect(username?: string, password?: string, opts?: IClientOptions): Promise<MqttClient>;
  device(id: string, opts?: IClientOptions): Promise<MqttClient>;
  /** Publishes a reading as its device would: its own login, its vendor format, QoS 1. */
  publishReading(reading: CanonicalReading): Promise<void>;
  stop(): Promise<void>;
}

/** `more` components start after the broker behind the same HTTP server (e.g. the web pages). */
export async function startBroker(
  env: Record<string, string> = {},
  more: ComponentFactory[] = [],
): Promise<BrokerHarness> {
  const config = loadConfig({
    ...process.env,
    KAFKA_TOPIC_PREFIX: uniqueName('broker'),
    MQTT_PORT: '0',
    HTTP_PORT: '0',
    MACHI_LOG_LEVEL: process.env.MACHI_LOG_LEVEL ?? 'warn',
    ...env,
  });
  const runtime = createRuntime(config);
  let broker: BrokerComponent | undefined;
  const running = await startComponents(runtime, [
    (rt) => {
      broker = brokerComponent(rt);
      return broker;
    },
    ...more,
  ]);
  if (!broker) throw new Error('broker did not start');
  const httpPort = (runtime.http.server.address() as AddressInfo).port;
  const mqttUrl = `mqtt://127.0.0.1:${broker.ports.mqtt}`;
  const clients: MqttClient[] = [];
  const deviceClients = new Map<string, MqttClient>();
  const registry = broker.registry;
  const connect = async (username?: string, password?: string, opts: IClientOptions = {}) => {
    // A device's client id must start with its id (the broker binds client ids to identities).
    const clientId =
      username !== undefined && registry.devices.has(username)
        ? `${username}-${Math.random().toString(16).slice(2, 10)}`
        : undefined;
    const client = await mqtt.connectAsync(
      opts.protocol === 'ws' ? `ws://127.0.0.1:${httpPort}/mqtt` : mqttUrl,
      {
        username,
        password,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...(clientId ? { clientId } : {}),
        ...opts,
      },
    );
    clients.push(client);
    return client;
  };
  return {
    config,
    broker,
    running,
    mqttUrl,
    wsUrl: `ws://127.0.0.1:${httpPort}/mqtt`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    topics: kafkaTopics(config.kafka.topicPrefix),
    connect,
    device: (id, opts) => connect(id, demoSecret(id), opts),
    async publishReading(reading) {
      const device = registry.devices.get(reading.deviceId);
      if (!device) throw new Error(`unknown device ${reading.deviceId}`);
      let client = deviceClients.get(device.id);
      if (!client) {
        client = await connect(device.id, demoSecret(device.id));
        deviceClients.set(device.id, client);
      }
      const topic =
        reading.kind === 'flood'
          ? mqttTopics.floodReading(device.id)
          : reading.kind === 'crowd'
            ? mqttTopics.crowdCount(device.id)
            : mqttTopics.heartbeat(device.kind === 'flood-sensor' ? 'flood' : 'crowd', device.id);
      await client.publishAsync(topic, adapterFor(device.vendor)?.encode(reading, device) ?? '', { qos: 1 });
    },
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
      await running.stop();
    },
  };
}

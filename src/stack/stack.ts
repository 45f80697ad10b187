// `machi stack up|down|status`: the native Kafka + InfluxDB pair every test and the demo run on.
import type { Config } from '../config/config.ts';
import { StackError } from './errors.ts';
import { type InfluxEndpoint, influxPaths, influxPingOk, startInfluxd } from './influxdb.ts';
import { kafkaMetadataOk, startKafka, stopKafka } from './kafka.ts';
import { type KafkaEndpoint, kafkaLayout, kafkaNodesOnDisk } from './kafka-nodes.ts';
import { isOurs, readPid, stopProcess, throwIfInterrupted } from './processes.ts';

const SERVICES = ['kafka', 'influxdb'] as const;
export type ServiceName = (typeof SERVICES)[number];

export function endpoints(config: Config): { kafka: KafkaEndpoint; influx: InfluxEndpoint } {
  const [host, port] = (config.kafka.brokers[0] ?? '127.0.0.1:9092').split(':');
  const influxUrl = new URL(config.influx.url);
  return {
    kafka: { host: host ?? '127.0.0.1', port: Number(port) },
    influx: {
      host: influxUrl.hostname,
      port: Number(influxUrl.port || 8086),
      database: config.influx.bucket.split('/')[0] ?? config.influx.bucket,
    },
  };
}

/**
 * Starts whatever is not running yet, Kafka and InfluxDB side by side; returns the services this
 * call started. Kafka runs as `kafkaNodes` nodes, by default as many as its state directory holds
 * (one at first). Aborting `signal` (Ctrl-C) stops what this call started and rejects with
 * MACHI_ERR_START_INTERRUPTED; so does a failure of either service, with that service's error.
 */
export async function stackUp(
  config: Config,
  env = process.env,
  kafkaNodes = kafkaNodesOnDisk(env) ?? 1,
  signal?: AbortSignal,
): Promise<ServiceName[]> {
  const ep = endpoints(config);
  const started = new Set<ServiceName>();
  // A failure of one service interrupts the other's start, which then stops what it spawned.
  const failed = new AbortController();
  const interrupt = signal ? AbortSignal.any([signal, failed.signal]) : failed.signal;
  const kafka = async () => {
    if ((await startKafka(ep.kafka, env, kafkaNodes, interrupt)) === 'started') started.add('kafka');
    const layout = kafkaLayout(ep.kafka, kafkaNodes, env);
    for (const node of layout) {
      const label = kafkaNodes === 1 ? 'Kafka    ' : `Kafka ${node.id}/${kafkaNodes}`;
      console.log(`✓ ${label} ${node.host}:${node.port}   log: ${node.log}`);
    }
    const brokers = layout.map((n) => `${n.host}:${n.port}`).join(',');
    if (kafkaNodes > 1 && config.kafka.brokers.join(',') !== brokers)
      console.log(`  clients should list every node: KAFKA_BROKERS=${brokers}`);
  };
  const influx = async () => {
    if ((await startInfluxd(ep.influx, env, interrupt)) === 'started') started.add('influxdb');
    console.log(`✓ InfluxDB  http://${ep.influx.host}:${ep.influx.port}   log: ${influxPaths(env).log}`);
  };
  const errors: unknown[] = [];
  const failing = (err: unknown) => {
    errors.push(err);
    failed.abort();
  };
  await Promise.all([kafka().catch(failing), influx().catch(failing)]);
  // In the same order whichever got ready first.
  const ours = SERVICES.filter((service) => started.has(service));
  try {
    // The first error is the cause; the other service's is then its interruption.
    if (errors.length > 0) throw errors[0];
    // A Ctrl-C that came as the last service got ready still means: leave nothing of this call running.
    throwIfInterrupted(signal, 'starting the stack');
    return ours;
  } catch (err) {
    // Leave nothing half-started: stop what this call started before reporting the failure.
    await stackDown(ours, env);
    throw err;
  }
}

export async function stackDown(
  services: ServiceName[] = ['influxdb', 'kafka'],
  env = process.env,
): Promise<Record<string, string>> {
  // Both at once: neither needs the other to stop.
  const [influxdb, kafka] = await Promise.all([
    services.includes('influxdb') ? stopProcess(influxPaths(env).pid) : undefined,
    services.includes('kafka') ? stopKafka(env) : undefined,
  ]);
  return { ...(influxdb && { influxdb }), ...kafka };
}

export interface ServiceStatus {
  service: ServiceName;
  /** The service, or the Kafka node (kafka-1, kafka-2, ...) when Kafka runs as a cluster. */
  name: string;
  address: string;
  pid: number | undefined;
  reachable: boolean;
  log: string;
}

export async function stackStatus(config: Config, env = process.env): Promise<ServiceStatus[]> {
  const ep = endpoints(config);
  const influxPid = readPid(influxPaths(env).pid);
  const kafka = kafkaLayout(ep.kafka, kafkaNodesOnDisk(env) ?? 1, env).map(async (node) => {
    const record = readPid(node.pid);
    return {
      service: 'kafka' as const,
      name: node.name,
      address: `${node.host}:${node.port}`,
      pid: isOurs(record) ? record.pid : undefined,
      reachable: await kafkaMetadataOk(node),
      log: node.log,
    };
  });
  return [
    ...(await Promise.all(kafka)),
    {
      service: 'influxdb',
      name: 'influxdb',
      address: `http://${ep.influx.host}:${ep.influx.port}`,
      pid: isOurs(influxPid) ? influxPid.pid : undefined,
      reachable: await influxPingOk(ep.influx).catch(() => false),
      log: influxPaths(env).log,
    },
  ];
}

/** For services started elsewhere (CI, docker): fail with the address tried when not reachable. */
export async function assertStackReachable(config: Config): Promise<void> {
  const ep = endpoints(config);
  if (!(await kafkaMetadataOk(ep.kafka))) {
    throw new StackError(
      'MACHI_ERR_START_FAILED',
      `Kafka is not reachable at ${config.kafka.brokers.join(',')}`,
    );
  }
  if (!(await influxPingOk(ep.influx).catch(() => false))) {
    throw new StackError('MACHI_ERR_START_FAILED', `InfluxDB is not reachable at ${config.influx.url}`);
  }
}

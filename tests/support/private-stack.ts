// A private Kafka or InfluxDB for fault tests that stop, kill or pause a service: it runs from its
// own state directory on its own ports, so the shared stack other tests use is never touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { influxPaths, startInfluxd } from '../../src/stack/influxdb.ts';
import { startKafka } from '../../src/stack/kafka.ts';
import { kafkaLayout } from '../../src/stack/kafka-nodes.ts';
import { readPid, stopProcess } from '../../src/stack/processes.ts';

export interface PrivateService {
  /** host:port (Kafka) or http://host:port (InfluxDB). */
  address: string;
  /** Starts it again on the same data (after stop, kill or a crash). */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** SIGKILL, no goodbye. */
  kill(): void;
  /** SIGSTOP / SIGCONT: a network stall as the clients see it. */
  pause(): void;
  resume(): void;
  /** Stops it and deletes its data. */
  dispose(): Promise<void>;
}

function privateService(kind: 'kafka' | 'influxdb', port: number): PrivateService {
  const dir = mkdtempSync(join(tmpdir(), `machi-private-${kind}-`));
  const env = { ...process.env, MACHI_STACK_DIR: dir };
  const pidFile =
    kind === 'kafka'
      ? (kafkaLayout({ host: '127.0.0.1', port }, 1, env)[0]?.pid ?? '')
      : influxPaths(env).pid;
  const signal = (sig: NodeJS.Signals) => {
    const record = readPid(pidFile);
    if (record) process.kill(record.pid, sig);
  };
  const service: PrivateService = {
    address: kind === 'kafka' ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}`,
    async start() {
      const result =
        kind === 'kafka'
          ? await startKafka({ host: '127.0.0.1', port }, env)
          : await startInfluxd({ host: '127.0.0.1', port, database: 'machi' }, env);
      // A leftover service on this port would be adopted as "external" and never stopped by us.
      if (result === 'external')
        throw new Error(`port ${port} is already served by a ${kind} this test did not start`);
    },
    async stop() {
      await stopProcess(pidFile);
    },
    kill: () => signal('SIGKILL'),
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async dispose() {
      signal('SIGCONT');
      await stopProcess(pidFile, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return service;
}

/** Kafka on `port` (controller on port + 1). Pick ports no other test uses, e.g. 19092, 19192. */
export async function startPrivateKafka(port: number): Promise<PrivateService> {
  const service = privateService('kafka', port);
  await service.start();
  return service;
}

/** InfluxDB on `port` (RPC on port + 2), with database "machi". */
export async function startPrivateInflux(port: number): Promise<PrivateService> {
  const service = privateService('influxdb', port);
  await service.start();
  return service;
}

/**
 * A private Kafka and InfluxDB started side by side (each takes seconds, mostly waiting); when one
 * fails to start, neither is left running.
 */
export async function startPrivateStack(ports: {
  kafka: number;
  influx: number;
}): Promise<{ kafka: PrivateService; influx: PrivateService }> {
  const kafka = privateService('kafka', ports.kafka);
  const influx = privateService('influxdb', ports.influx);
  const started = await Promise.allSettled([kafka.start(), influx.start()]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all([kafka.dispose(), influx.dispose()]);
    throw failed.reason;
  }
  return { kafka, influx };
}

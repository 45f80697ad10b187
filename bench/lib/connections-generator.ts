// One generator worker of the connections case (a child process: 20,000 MQTT.js clients are too
// heavy for one Node process on 2 cores). It opens its slice of authenticated device connections
// from its own source address, reports when they are all CONNACKed, then on command has each
// device publish one QoS 1 reading per period at an offset spread evenly over the whole fleet.
import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import { demoSecret } from '../../src/registry/secrets.ts';
import type { FloodReading } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { loadDeviceId } from '../../src/simulators/load-registry.ts';
import {
  type ConnectedReport,
  ParentMessage,
  type PublishCommand,
  type PublishReport,
  type WorkerTask,
} from './connections-protocol.ts';

const ACK_GRACE_MS = 30_000;
const TICK_MS = 20;

const send = (message: ConnectedReport | PublishReport) => process.send?.(message);

/** Connections that closed after their CONNACK, before the bench stopped them (none should). */
let dropped = 0;
let stopping = false;

function open(task: WorkerTask, id: string): Promise<MqttClient> {
  const broker = new URL(task.url);
  return new Promise((resolve, reject) => {
    // MQTT.js's own TCP stream ignores `localAddress`, so the socket is made here.
    const client = new MqttClient(
      () =>
        createConnection({
          host: broker.hostname,
          port: Number(broker.port),
          localAddress: task.localAddress,
        }),
      {
        username: id,
        password: demoSecret(id),
        clientId: `conn-${id}`,
        reconnectPeriod: 0,
        connectTimeout: task.connectTimeoutMs,
      },
    );
    const fail = (err: Error) => {
      client.off('connect', connected);
      client.end(true);
      reject(err);
    };
    const closed = () => fail(new Error('closed before CONNACK'));
    const connected = () => {
      client.off('error', fail);
      client.off('close', closed);
      client.on('error', () => {}); // a late socket error shows up as a drop below
      client.once('close', () => {
        if (!stopping) dropped++;
      });
      resolve(client);
    };
    client.once('connect', connected);
    client.once('error', fail);
    client.once('close', closed);
  });
}

async function connectAll(task: WorkerTask, clients: MqttClient[]): Promise<ConnectedReport> {
  const errors = new Set<string>();
  let failed = 0;
  let next = 0;
  let lastConnackAt = 0;
  const firstAttemptAt = Date.now();
  const lane = async () => {
    while (next < task.count) {
      const k = next++;
      try {
        clients[k] = await open(task, loadDeviceId(task.from + k));
        lastConnackAt = Date.now();
      } catch (err) {
        failed++;
        if (errors.size < 5) errors.add((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(task.concurrency, task.count) }, lane));
  return {
    type: 'connected',
    connected: clients.filter(Boolean).length,
    failed,
    errors: [...errors],
    firstAttemptAt,
    lastConnackAt,
  };
}

async function publishAll(
  task: WorkerTask,
  clients: MqttClient[],
  cmd: PublishCommand,
): Promise<PublishReport> {
  // Device g of the fleet publishes at startAt + (g / total) × period, then once every period.
  const due: { at: number; k: number }[] = [];
  for (let cycle = 0; cycle * cmd.periodMs < cmd.holdMs; cycle++)
    for (let k = 0; k < task.count; k++) {
      const at = cycle * cmd.periodMs + ((task.from + k) / task.total) * cmd.periodMs;
      if (at < cmd.holdMs) due.push({ at: cmd.startAt + at, k });
    }
  const latenciesMs: number[] = [];
  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  const seqs = new Array<number>(task.count).fill(0);
  const publishOne = (k: number) => {
    const client = clients[k];
    if (!client?.connected) {
      failed++;
      return;
    }
    const id = loadDeviceId(task.from + k);
    const seq = seqs[k] ?? 0;
    seqs[k] = seq + 1;
    const reading: Omit<FloodReading, 'kind' | 'deviceId'> = {
      time: new Date().toISOString(),
      seq,
      wet: false,
      batteryV: 3.1,
      rssiDbm: -85,
    };
    const t0 = performance.now();
    sent++;
    client.publish(topics.floodReading(id), JSON.stringify(reading), { qos: 1 }, (err) => {
      if (err) failed++;
      else {
        acknowledged++;
        latenciesMs.push(performance.now() - t0);
      }
    });
  };
  let i = 0;
  while (i < due.length) {
    const now = Date.now();
    while (i < due.length && (due[i] as { at: number }).at <= now) publishOne((due[i++] as { k: number }).k);
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  const deadline = Date.now() + ACK_GRACE_MS;
  while (acknowledged + failed < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return { type: 'published', sent, acknowledged, failed, dropped, latenciesMs };
}

let task: WorkerTask | undefined;
const clients: MqttClient[] = [];

process.on('disconnect', () => process.exit(0)); // never outlive the bench
process.on('message', (raw) => {
  const msg = ParentMessage.parse(raw);
  if (msg.type === 'task') {
    task = msg;
    void connectAll(msg, clients).then(send);
  } else if (msg.type === 'publish') {
    if (!task) throw new Error('publish before task');
    void publishAll(task, clients, msg).then(send);
  } else {
    stopping = true;
    const ended = Promise.all(clients.map((c) => c?.endAsync(true)));
    void Promise.race([ended, new Promise((r) => setTimeout(r, 5000))]).then(() => process.exit(0));
  }
});

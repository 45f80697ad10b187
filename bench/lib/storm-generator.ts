// One generator worker of the reconnect-storm case (a child process, one source address). Its
// devices behave as device firmware with a client-side list of brokers should: a lost connection
// or a broker that does not answer moves on to the next one in the list; a broker that answers
// "busy" (CONNACK 3) is tried again. Every retry waits a random delay up to
// BACKOFF_BASE_MS, doubling per failed attempt up to BACKOFF_CAP_MS ("full jitter"), so a fleet
// that loses its broker at the same instant does not come back in lockstep. On each reconnect a
// device publishes one QoS 1 reading, as a device sends what it buffered while offline.
import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { loadDeviceId } from '../../src/simulators/load-registry.ts';
import type { ConnectedReport } from './connections-protocol.ts';
import { type RecoveryReport, StormParentMessage, type StormTask } from './storm-protocol.ts';

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 8000;
const CONNECT_TIMEOUT_MS = 30_000;

const send = (message: ConnectedReport | RecoveryReport) => process.send?.(message);

let stopping = false;
/** Epoch ms of the broker's kill, told before it happens: attempts from then on count. */
let killedAt: number | undefined;
const afterKill = () => killedAt !== undefined && Date.now() >= killedAt;
const stats = { attempts: 0, noConnack: 0, refused: {} as Record<string, number>, errors: [] as string[] };

interface Device {
  client: MqttClient;
  /** Index in the broker list of the current (or next) connection. */
  server: () => number;
  /** Counts the device as reconnected now and publishes its reading (again, until one is PUBACKed). */
  backAfterKill: () => void;
  reconnectedMs: number;
  republishedMs: number;
}

/** Connects device `k` of the task and keeps it connected; resolves at its first CONNACK. */
function startDevice(task: StormTask, k: number): { device: Device; connected: Promise<void> } {
  const id = loadDeviceId(task.from + k);
  const servers = task.servers.map((s) => new URL(s));
  let server = 0;
  let failures = 0;
  let answered = false; // this attempt got a CONNACK, accepting or refusing
  let busy = false; // ...and it was a refusal: stay on this broker
  let seq = 0;
  let connectedOnce = false;
  let firstConnack: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    firstConnack = resolve;
  });
  const client = new MqttClient(
    () => {
      answered = false;
      busy = false;
      if (afterKill()) stats.attempts++;
      const url = servers[server] as URL;
      return createConnection({
        host: url.hostname,
        port: Number(url.port),
        localAddress: task.localAddress,
      });
    },
    {
      username: id,
      password: demoSecret(id),
      clientId: `storm-${id}`,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
    },
  );
  const device: Device = {
    client,
    server: () => server,
    backAfterKill() {
      if (device.republishedMs >= 0) return;
      const since = killedAt as number;
      if (device.reconnectedMs < 0) device.reconnectedMs = Date.now() - since;
      const reading = { time: new Date().toISOString(), seq: seq++, wet: false, batteryV: 3.1, rssiDbm: -85 };
      client.publish(topics.floodReading(id), JSON.stringify(reading), { qos: 1 }, (err) => {
        if (!err && device.republishedMs < 0) device.republishedMs = Date.now() - since;
      });
    },
    reconnectedMs: -1,
    republishedMs: -1,
  };
  client.on('connect', () => {
    answered = true;
    failures = 0;
    connectedOnce = true;
    firstConnack();
    if (afterKill()) device.backAfterKill();
  });
  client.on('error', (err) => {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'number') {
      if (afterKill() && stats.errors.length < 5 && !stats.errors.includes(err.message))
        stats.errors.push(err.message);
      return;
    }
    answered = true;
    busy = true;
    if (afterKill()) stats.refused[code] = (stats.refused[code] ?? 0) + 1;
  });
  client.on('close', () => {
    if (stopping) return;
    if (!answered && afterKill()) stats.noConnack++;
    // Until its first CONNACK a device keeps to the first broker: the whole fleet starts there.
    if (!busy && connectedOnce) server = (server + 1) % servers.length;
    const delay = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** failures);
    failures++;
    setTimeout(() => {
      if (!stopping) client.reconnect();
    }, delay);
  });
  return { device, connected };
}

const devices: Device[] = [];

async function connectAll(task: StormTask): Promise<ConnectedReport> {
  let next = 0;
  let lastConnackAt = 0;
  const firstAttemptAt = Date.now();
  const lane = async () => {
    while (next < task.count) {
      const k = next++;
      const { device, connected } = startDevice(task, k);
      devices[k] = device;
      await connected;
      lastConnackAt = Date.now();
    }
  };
  await Promise.all(Array.from({ length: Math.min(task.concurrency, task.count) }, lane));
  return {
    type: 'connected',
    connected: devices.length,
    failed: 0,
    errors: [],
    firstAttemptAt,
    lastConnackAt,
  };
}

async function awaitRecovery(deadline: number): Promise<RecoveryReport> {
  while (Date.now() < deadline && devices.some((d) => d.republishedMs < 0))
    await new Promise((r) => setTimeout(r, 200));
  return {
    type: 'recovered',
    reconnectedMs: devices.map((d) => d.reconnectedMs),
    republishedMs: devices.map((d) => d.republishedMs),
    ...stats,
  };
}

process.on('disconnect', () => process.exit(0)); // never outlive the bench
process.on('message', (raw) => {
  const msg = StormParentMessage.parse(raw);
  if (msg.type === 'task') void connectAll(msg).then(send);
  else if (msg.type === 'await') {
    killedAt = msg.killedAt;
    // A device that lost the first broker earlier (a keepalive missed on a busy machine) is on
    // another one already: it only has to publish.
    setTimeout(
      () => {
        for (const d of devices) if (d.client.connected && d.server() !== 0) d.backAfterKill();
      },
      Math.max(0, msg.killedAt - Date.now()),
    );
    void awaitRecovery(msg.deadline).then(send);
  } else {
    stopping = true;
    const ended = Promise.all(devices.map((d) => d.client.endAsync(true)));
    void Promise.race([ended, new Promise((r) => setTimeout(r, 5000))]).then(() => process.exit(0));
  }
});

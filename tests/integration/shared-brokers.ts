// Several `machi broker` processes sharing one Kafka prefix (issue #24), and the mosquitto clients
// that witness what they serve: for the tests of src/broker/shared-state.ts.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMachi, stopChild } from '../../bench/lib/processes.ts';
import { config, eventually } from '../support/helpers.ts';

const run = promisify(execFile);
export const roles = config.mqtt.roles;

export interface SharedBroker {
  name: string;
  mqtt: number;
  http: number;
  child?: ChildProcess;
}

export function sharedBrokers(env: NodeJS.ProcessEnv) {
  const logDir = mkdtempSync(join(tmpdir(), 'machi-shared-'));
  const started: SharedBroker[] = [];
  return {
    /** Starts `broker` as its own process; resolves with the ms until its /readyz answered 200. */
    async start(broker: SharedBroker): Promise<number> {
      const began = Date.now();
      broker.child = startMachi(
        ['broker'],
        {
          ...env,
          MQTT_PORT: String(broker.mqtt),
          HTTP_PORT: String(broker.http),
          MACHI_BROKER_ID: broker.name,
          MACHI_LOG_LEVEL: 'info',
        },
        join(logDir, broker.name),
      );
      if (!started.includes(broker)) started.push(broker);
      await ready(broker);
      return Date.now() - began;
    },
    log: (broker: SharedBroker) => readFileSync(join(logDir, broker.name), 'utf8'),
    stopAll: () => Promise.all(started.map((broker) => stopChild(broker.child))),
  };
}

/** Resolves once `broker` answers /readyz with 200. */
export function ready(broker: SharedBroker, timeoutMs = 60_000): Promise<true> {
  return eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${broker.http}/readyz`, { signal: AbortSignal.timeout(1000) });
    return res.ok || undefined;
  }, timeoutMs);
}

/** The value of the first line of `broker`'s /metrics matching `line` (its one group), else 0. */
export async function metric(broker: SharedBroker, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${broker.http}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? 0);
}

export const login = (broker: SharedBroker, user: string, password: string) => [
  '-h',
  '127.0.0.1',
  '-p',
  String(broker.mqtt),
  '-u',
  user,
  '-P',
  password,
];
export const asSign = (broker: SharedBroker) => login(broker, 'signage/city-hall', roles.signage);

/** What mosquitto_sub prints ("<retain flag> <payload>" lines) until it has `count` messages or `seconds` pass. */
export async function subscribe(args: string[], topic: string, count: number, seconds: number) {
  const all = [...args, '-t', topic, '-F', '%r %p', '-C', String(count), '-W', String(seconds)];
  // -W ends mosquitto_sub with a non-zero code; what it printed until then is the answer.
  const { stdout } = await run('mosquitto_sub', all).catch((err: { stdout?: string }) => ({
    stdout: err.stdout ?? '',
  }));
  return stdout.split('\n').filter(Boolean);
}

/**
 * A mosquitto_sub left running: `lines` once it ends, `printed` so far, `connected` once the broker
 * counts its role.
 */
export function liveSubscriber(
  broker: SharedBroker,
  args: string[],
  topic: string,
  { count, seconds, role }: { count: number; seconds: number; role: string },
) {
  const all = [...args, '-t', topic, '-F', '%r %p', '-C', String(count), '-W', String(seconds)];
  const child = spawn('mosquitto_sub', all);
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const lines = new Promise<string[]>((resolve) =>
    child.once('exit', () => resolve(out.split('\n').filter(Boolean))),
  );
  const connected = eventually(async () =>
    (await metric(broker, new RegExp(`machi_broker_connections\\{role="${role}"\\} (\\d+)`))) > 0
      ? true
      : undefined,
  );
  return { lines, connected, printed: () => out.split('\n').filter(Boolean), stop: () => child.kill() };
}

/** mosquitto_pub, QoS 1. */
export async function publish(args: string[], topic: string, payload: string): Promise<void> {
  await run('mosquitto_pub', [...args, '-q', '1', '-t', topic, '-m', payload]);
}

export const notice = (n: number) => JSON.stringify({ v: 1, siteId: 'city-hall', n });

/** Resolves once a sign connecting to `broker` gets `payload` on `topic` as its retained message. */
export function retainedOn(broker: SharedBroker, topic: string, payload: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const [line] = await subscribe(asSign(broker), topic, 1, 2);
    return line === `1 ${payload}` ? line : undefined;
  }, timeoutMs);
}

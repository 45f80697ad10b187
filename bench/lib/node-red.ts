// The peer for the side-by-side case: Node-RED with node-red-contrib-influxdb, installed into a cache
// outside the repo, run as a child process with generated settings and flows (bench/node-red/), fed
// through a bare aedes broker and writing to its own InfluxDB 1.x database over the v1 API.
//
// Node-RED 4.1 rather than 5: node-red 5.x declares engines node >= 22.9 and machi runs on Node 20.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { NODE_RED_MEASUREMENT, type NodeRedVariant, nodeRedFlows } from '../node-red/flows.ts';
import { type InfluxQlResult, influxQl } from './influxql.ts';
import { sleep, stopChild } from './processes.ts';

export { NODE_RED_MEASUREMENT, type NodeRedVariant };

export const NODE_RED_VERSION = '4.1.15';
export const INFLUX_NODES_VERSION = '0.7.0';
export const NODE_RED_CACHE = join(homedir(), '.cache', 'machi', 'node-red');

const READY_TIMEOUT_MS = 60_000;

const installedVersion = (name: string): string | undefined => {
  const manifest = join(NODE_RED_CACHE, 'node_modules', name, 'package.json');
  return existsSync(manifest)
    ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
    : undefined;
};

/** Installs the pinned Node-RED and InfluxDB nodes into the cache once; returns the path of red.js. */
export async function ensureNodeRed(): Promise<string> {
  const redJs = join(NODE_RED_CACHE, 'node_modules', 'node-red', 'red.js');
  if (
    installedVersion('node-red') !== NODE_RED_VERSION ||
    installedVersion('node-red-contrib-influxdb') !== INFLUX_NODES_VERSION
  ) {
    mkdirSync(NODE_RED_CACHE, { recursive: true });
    await promisify(execFile)(
      'npm',
      [
        'install',
        '--prefix',
        NODE_RED_CACHE,
        '--no-audit',
        '--no-fund',
        '--save-exact',
        `node-red@${NODE_RED_VERSION}`,
        `node-red-contrib-influxdb@${INFLUX_NODES_VERSION}`,
      ],
      { timeout: 300_000, maxBuffer: 16 * 2 ** 20 },
    );
  }
  if (!existsSync(redJs)) throw new Error(`node-red installed but ${redJs} is missing`);
  return redJs;
}

// ---- InfluxDB 1.x (the peer's database, v1 API, InfluxQL) ----

/** CREATE DATABASE is idempotent in InfluxDB 1.x. */
export const ensureDatabase = (influxUrl: string, database: string) =>
  influxQl(influxUrl, `CREATE DATABASE "${database}"`).then(() => undefined);

export const dropDatabase = (influxUrl: string, database: string) =>
  influxQl(influxUrl, `DROP DATABASE "${database}"`).then(() => undefined);

/**
 * What the peer has stored since `sinceMs`: `rows` is count(seq) over the measurement, `distinct`
 * the number of distinct (device, seq) pairs. They are equal by construction (see the timestamp
 * scheme in bench/node-red/flows.ts); compare either with the load generator's acknowledged count.
 * Device ids must be unique to the run (seq restarts at 0 for every runLoad); `devicePrefix`
 * counts only that run's devices when runs share a database and overlap in time.
 */
export async function countStored(
  influxUrl: string,
  database: string,
  sinceMs: number,
  devicePrefix?: string,
): Promise<{ rows: number; distinct: number }> {
  const devices =
    devicePrefix === undefined
      ? ''
      : ` AND device =~ /^${devicePrefix.replace(/[\\/.*+?^$()[\]{}|]/g, '\\$&')}/`;
  const where = `FROM "${NODE_RED_MEASUREMENT}" WHERE time >= ${Math.floor(sinceMs)}ms${devices}`;
  const [rows, perDevice] = await Promise.all([
    influxQl(influxUrl, `SELECT count(seq) ${where}`, database),
    influxQl(influxUrl, `SELECT count(distinct(seq)) ${where} GROUP BY device`, database),
  ]);
  const first = (r: InfluxQlResult) => r.results?.[0]?.series ?? [];
  const sum = (series: ReturnType<typeof first>) =>
    series.reduce((a, s) => a + Number(s.values[0]?.[1] ?? 0), 0);
  return { rows: sum(first(rows)), distinct: sum(first(perDevice)) };
}

/**
 * Polls countStored until `expected` rows are there or the count stops moving for `quietMs`
 * (bounded by `timeoutMs`): what the peer ends up with once it has drained its backlog.
 */
export async function settleStored(
  influxUrl: string,
  database: string,
  sinceMs: number,
  expected: number,
  {
    quietMs = 15_000,
    timeoutMs = 180_000,
    devicePrefix,
  }: { quietMs?: number; timeoutMs?: number; devicePrefix?: string } = {},
): Promise<{ rows: number; distinct: number }> {
  const deadline = Date.now() + timeoutMs;
  const count = () => countStored(influxUrl, database, sinceMs, devicePrefix);
  let last = await count();
  let movedAt = Date.now();
  while (last.rows < expected && Date.now() < deadline && Date.now() - movedAt < quietMs) {
    await sleep(1000);
    const now = await count();
    if (now.rows !== last.rows) movedAt = Date.now();
    last = now;
  }
  return last;
}

/**
 * The plain flow opens a connection per point: past its limit it leaves tens of thousands of
 * loopback sockets to InfluxDB in TIME_WAIT, and anything else connecting to InfluxDB fails with
 * EADDRNOTAVAIL until they expire. Waits (bounded) until fewer than `max` remain (Linux).
 */
export async function waitInfluxSocketsSettled(
  influxUrl: string,
  { max = 2000, timeoutMs = 120_000 } = {},
): Promise<number> {
  const port = Number(new URL(influxUrl).port || 8086)
    .toString(16)
    .toUpperCase()
    .padStart(4, '0');
  const TIME_WAIT = '06';
  const count = () =>
    readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === TIME_WAIT && (f[1]?.endsWith(`:${port}`) || f[2]?.endsWith(`:${port}`))).length;
  const deadline = Date.now() + timeoutMs;
  let n = count();
  while (n >= max && Date.now() < deadline) {
    await sleep(2000);
    n = count();
  }
  return n;
}

// ---- the Node-RED process ----

export interface NodeRedOptions {
  variant: NodeRedVariant;
  mqttPort: number;
  influxUrl: string;
  database: string;
  /** Node-RED's HTTP port (127.0.0.1 only; no editor or admin API, an empty node-HTTP root). */
  httpPort: number;
  userDir: string;
  cleanSession: boolean;
  /** Fixed MQTT client id; default `nodered-<database>-<variant>`. */
  clientId?: string;
  /** Batching variant: flush at this many points (default 1000) or after flushMs (default 100). */
  batchSize?: number;
  flushMs?: number;
}

export interface NodeRedPipeline {
  /** The current Node-RED process (a new one after restart). */
  readonly child: ChildProcess;
  /** Node-RED's console output, for diagnosis. */
  readonly logFile: string;
  /** SIGTERM (then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Kill (SIGKILL by default), stay down `downMs`, start again with the same userDir and MQTT
   *  session; resolves once the flow is subscribed again, with the whole outage in ms (downMs plus
   *  Node-RED's start-up). */
  restart(downMs: number, signal?: NodeJS.Signals): Promise<number>;
}

const settingsFile = (o: NodeRedOptions) =>
  `// Written by bench/lib/node-red.ts for one bench run.
module.exports = ${JSON.stringify(
    {
      uiHost: '127.0.0.1',
      uiPort: o.httpPort,
      httpAdminRoot: false,
      httpNodeRoot: '/',
      disableEditor: true,
      flowFile: 'flows.json',
      flowFilePretty: true,
      credentialSecret: 'machi-bench-node-red',
      userDir: o.userDir,
      logging: { console: { level: 'info', metrics: false, audit: false } },
      contextStorage: { default: { module: 'memory' } },
      telemetry: { enabled: false },
      diagnostics: { enabled: false },
      runtimeState: { enabled: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false } },
    },
    null,
    2,
  )};
`;

/** Resolves once a probe published on the broker comes back through the flow's echo. */
async function waitSubscribed(
  mqttPort: number,
  probeTopic: string,
  echoTopic: string,
  child: ChildProcess,
  logFile: string,
): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: `nodered-probe-${randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
  try {
    const echoed = new Promise<void>((resolve) => client.once('message', () => resolve()));
    await client.subscribeAsync(echoTopic, { qos: 0 });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let answered = false;
    echoed.then(() => {
      answered = true;
    });
    while (!answered) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`node-red exited (${child.exitCode ?? child.signalCode}); see ${logFile}`);
      if (Date.now() > deadline)
        throw new Error(`node-red not subscribed within ${READY_TIMEOUT_MS / 1000} s; see ${logFile}`);
      await client.publishAsync(probeTopic, 'probe', { qos: 0 });
      await Promise.race([echoed, sleep(250)]);
    }
  } finally {
    await client.endAsync(true);
  }
}

/** Writes settings and flows into userDir, starts Node-RED and waits until its flow is subscribed. */
export async function startNodeRed(opts: NodeRedOptions): Promise<NodeRedPipeline> {
  const redJs = await ensureNodeRed();
  await ensureDatabase(opts.influxUrl, opts.database);
  mkdirSync(opts.userDir, { recursive: true });
  const clientId = opts.clientId ?? `nodered-${opts.database}-${opts.variant}`;
  const probeTopic = `machi-bench/node-red/${clientId}/probe`;
  const echoTopic = `machi-bench/node-red/${clientId}/echo`;
  writeFileSync(join(opts.userDir, 'settings.js'), settingsFile(opts));
  writeFileSync(
    join(opts.userDir, 'flows.json'),
    JSON.stringify(
      nodeRedFlows({
        variant: opts.variant,
        mqttPort: opts.mqttPort,
        influxUrl: opts.influxUrl,
        database: opts.database,
        cleanSession: opts.cleanSession,
        clientId,
        probeTopic,
        echoTopic,
        batchSize: opts.batchSize ?? 1000,
        flushMs: opts.flushMs ?? 100,
      }),
      null,
      2,
    ),
  );
  const logFile = join(opts.userDir, 'node-red.log');

  const launch = async (): Promise<ChildProcess> => {
    const log = openSync(logFile, 'a');
    const child = spawn(
      process.execPath,
      [
        redJs,
        '--userDir',
        opts.userDir,
        '--settings',
        join(opts.userDir, 'settings.js'),
        '--port',
        String(opts.httpPort),
      ],
      { stdio: ['ignore', log, log], env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' } },
    );
    try {
      await waitSubscribed(opts.mqttPort, probeTopic, echoTopic, child, logFile);
    } catch (err) {
      await stopChild(child, 'SIGKILL');
      throw err;
    }
    return child;
  };

  let child = await launch();
  return {
    get child() {
      return child;
    },
    logFile,
    stop: () => stopChild(child),
    kill: () => stopChild(child, 'SIGKILL'),
    async restart(downMs, signal = 'SIGKILL') {
      const t0 = Date.now();
      await stopChild(child, signal);
      await sleep(downMs);
      child = await launch();
      return Date.now() - t0;
    },
  };
}

// InfluxDB 1.8 (pure Go, built from the Go module proxy) with Flux and the /api/v2 endpoints on.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertPortFree,
  isOurs,
  readPid,
  type StartResult,
  spawnDetached,
  stopProcess,
  throwIfInterrupted,
  waitUntil,
} from './processes.ts';
import { cacheDir, INFLUXDB_MODULE, INFLUXDB_VERSION, requireTool, runStep, stateDir } from './tools.ts';

export interface InfluxEndpoint {
  host: string;
  port: number;
  /** InfluxDB 1.8 maps a v2 bucket name to a database; the stack creates it. */
  database: string;
}

export function influxPaths(env = process.env) {
  const bin = join(cacheDir(env), `influxdb-${INFLUXDB_VERSION}`, 'bin');
  const state = join(stateDir(env), 'influxdb');
  return {
    bin,
    influxd: join(bin, 'influxd'),
    state,
    config: join(state, 'influxd.conf'),
    log: join(state, 'influxd.log'),
    pid: join(state, 'influxd.pid'),
  };
}

/** Builds influxd once per machine with `go install` (about a minute on 2 cores). */
export async function ensureInfluxd(env = process.env, signal?: AbortSignal): Promise<void> {
  const paths = influxPaths(env);
  if (existsSync(paths.influxd)) return;
  requireTool('go');
  console.log(
    `• building influxd ${INFLUXDB_VERSION} from the Go module proxy into ${paths.bin} (once per machine, ~1-3 min)`,
  );
  mkdirSync(paths.bin, { recursive: true });
  await runStep({
    label: 'go',
    command: 'go',
    args: ['install', `${INFLUXDB_MODULE}/cmd/influxd@${INFLUXDB_VERSION}`],
    env: { ...env, GOBIN: paths.bin, GOWORK: 'off', GOFLAGS: '-mod=mod' },
    failure: {
      code: 'MACHI_ERR_BUILD_FAILED',
      hint: 'go install of influxd failed: check that the Go module proxy is reachable (GOPROXY); if your Go is too new for InfluxDB 1.8, set GOTOOLCHAIN to an older go1.2x release.',
    },
    // `go: downloading ...` lines are the build's progress.
    showLine: (line) => line.startsWith('go: downloading') || /error|cannot/i.test(line),
    signal,
  });
  console.log('  [go] influxd built');
}

function writeConfig(endpoint: InfluxEndpoint, env = process.env): void {
  const paths = influxPaths(env);
  mkdirSync(paths.state, { recursive: true });
  writeFileSync(
    paths.config,
    `reporting-disabled = true
bind-address = "${endpoint.host}:${endpoint.port + 2}"

[meta]
  dir = "${join(paths.state, 'meta')}"

[data]
  dir = "${join(paths.state, 'data')}"
  wal-dir = "${join(paths.state, 'wal')}"
  index-version = "tsi1"
  query-log-enabled = false

[http]
  bind-address = "${endpoint.host}:${endpoint.port}"
  flux-enabled = true
  log-enabled = false
  max-body-size = 0

[monitor]
  store-enabled = false
`,
  );
}

export async function influxPingOk(endpoint: Pick<InfluxEndpoint, 'host' | 'port'>): Promise<boolean> {
  const res = await fetch(`http://${endpoint.host}:${endpoint.port}/ping`, {
    signal: AbortSignal.timeout(1000),
  });
  return res.status === 204;
}

/** InfluxDB 1.8 has no v2 bucket API: the v1 query endpoint creates the database behind the bucket. */
async function createDatabase(endpoint: InfluxEndpoint): Promise<void> {
  const body = new URLSearchParams({ q: `CREATE DATABASE "${endpoint.database}"` });
  const res = await fetch(`http://${endpoint.host}:${endpoint.port}/query`, { method: 'POST', body });
  if (!res.ok) throw new Error(`CREATE DATABASE failed: ${res.status} ${await res.text()}`);
}

/** Aborting `signal` stops the influxd this call spawned and rejects with MACHI_ERR_START_INTERRUPTED. */
export async function startInfluxd(
  endpoint: InfluxEndpoint,
  env = process.env,
  signal?: AbortSignal,
): Promise<StartResult> {
  const paths = influxPaths(env);
  if (isOurs(readPid(paths.pid))) {
    await createDatabase(endpoint);
    return 'already-running';
  }
  // An InfluxDB someone else runs (docker with 2.7, which makes its own bucket) is used as it is.
  if (await influxPingOk(endpoint).catch(() => false)) return 'external';
  await ensureInfluxd(env, signal);
  await assertPortFree(endpoint.host, endpoint.port, 'InfluxDB');
  await assertPortFree(endpoint.host, endpoint.port + 2, 'the InfluxDB RPC service');
  writeConfig(endpoint, env);
  throwIfInterrupted(signal, 'preparing InfluxDB');
  const record = spawnDetached({
    command: paths.influxd,
    args: ['run', '-config', paths.config],
    logFile: paths.log,
    pidFile: paths.pid,
    marker: 'influxd',
    env,
  });
  try {
    await waitUntil(`InfluxDB on ${endpoint.host}:${endpoint.port}`, () => influxPingOk(endpoint), {
      timeoutMs: 60_000,
      pid: record.pid,
      logFile: paths.log,
      signal,
    });
  } catch (err) {
    // Leave no influxd of this call running half-started.
    await stopProcess(paths.pid, 5000);
    throw err;
  }
  await createDatabase(endpoint);
  return 'started';
}

// `machi all` as the fuzzer runs it: every component (broker, worker, alerts, forecast, web) in one
// child process on the shared stack, its structured log read as it comes, so the fuzzer can see
// each refusal the services only log (an acknowledgement for no open alert, a skipped record) and
// every error. Stopped by PID, never left behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Config } from '../../src/config/config.ts';
import type { loadRegistry } from '../../src/registry/load.ts';
import { type HttpSite, STATIC_PREFIXES, type StaticPrefix } from './fuzz-http.ts';
import { sleep } from './processes.ts';

/** Logged when something escaped a handler: each one is a finding. */
const ESCAPED = new Set([
  'unhandled promise rejection (the process keeps running)',
  'uncaught exception: stopping',
  'request failed',
  'upgrade failed',
  'acknowledgement failed',
]);

/** What the fuzzer reads from machi's log (pino JSON lines on stdout). */
export class LogWatch {
  /** Acknowledgements taken as well-formed but naming no open alert, by alert id. */
  readonly ignoredAcks = new Map<string, number>();
  /** Kafka records the alert service skipped, by `pid topic:partition@offset`. */
  readonly skipped = new Map<string, number>();
  /** Errors and worse, by message; samples of each. */
  readonly errors = new Map<string, number>();
  readonly samples: string[] = [];
  /** Lines saying an error escaped a handler (unhandled rejection, uncaught exception, HTTP 500). */
  readonly escaped: string[] = [];

  attach(child: ChildProcess): void {
    if (!child.stdout) return;
    createInterface({ input: child.stdout }).on('line', (line) => this.line(line));
  }

  private line(line: string): void {
    if (!line.startsWith('{')) return;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    const msg = String(e.msg ?? '');
    if (msg === 'acknowledgement for no open, unacknowledged alert') {
      const id = String(e.alertId);
      this.ignoredAcks.set(id, (this.ignoredAcks.get(id) ?? 0) + 1);
    } else if (msg === 'record skipped') {
      const key = skippedKey(Number(e.pid), String(e.topic), Number(e.partition), String(e.offset));
      this.skipped.set(key, (this.skipped.get(key) ?? 0) + 1);
    }
    if (typeof e.level === 'number' && e.level >= 50) {
      this.errors.set(msg, (this.errors.get(msg) ?? 0) + 1);
      const err = e.err as { message?: string } | string | undefined;
      const text = `${e.component ?? '-'}: ${msg}${err ? ` (${typeof err === 'string' ? err : err.message})` : ''}`;
      if (this.samples.length < 20 && !this.samples.includes(text)) this.samples.push(text.slice(0, 300));
      if (ESCAPED.has(msg)) this.escaped.push(text.slice(0, 300));
    }
  }
}

export const skippedKey = (pid: number, topic: string, partition: number, offset: string) =>
  `${pid} ${topic}:${partition}@${offset}`;

export interface MachiAll {
  child: ChildProcess;
  pid: number;
  /** Set once the process has exited on its own: how. */
  exit(): string | undefined;
}

/** `node bin/machi.js all` in demo mode (demo registry and secrets); its log to `logs`, stderr through. */
export function startMachiAll(env: NodeJS.ProcessEnv, logs: LogWatch): MachiAll {
  const child = spawn('node', ['bin/machi.js', 'all'], {
    env: { ...process.env, MACHI_MODE: 'demo', MACHI_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  logs.attach(child);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    exit = `exited with ${signal ?? code}`;
  });
  return { child, pid: child.pid ?? -1, exit: () => exit };
}

/** `promise`, or a rejection naming `what` once `ms` have passed: no wait of the run is unbounded. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Polls `url` until it answers `status` (true) or the time runs out (false). */
export async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const got = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (got === status) return true;
    await sleep(500);
  }
  return false;
}

/** /healthz and /readyz of a machi process, with the readiness checks it reports. */
export async function liveness(httpPort: number): Promise<{
  healthz: number;
  readyz: number;
  checks: Record<string, boolean>;
}> {
  const get = (path: string) =>
    fetch(`http://127.0.0.1:${httpPort}${path}`, { signal: AbortSignal.timeout(10_000) }).then(
      async (r) => ({
        status: r.status,
        body: (await r.json().catch(() => ({}))) as Record<string, unknown>,
      }),
      () => ({ status: 0, body: {} as Record<string, unknown> }),
    );
  const healthz = await get('/healthz');
  const readyz = await get('/readyz');
  return {
    healthz: healthz.status,
    readyz: readyz.status,
    checks: (readyz.body.checks as Record<string, boolean> | undefined) ?? {},
  };
}

/** What the HTTP model needs to know of the site: the static files, the signs, the office password. */
export function httpSite(config: Config, registry: ReturnType<typeof loadRegistry>): HttpSite {
  const dirs: Record<StaticPrefix, string> = {
    '/assets/': 'src/web/public',
    '/vendor/leaflet/images/': 'node_modules/leaflet/dist/images',
    '/vendor/leaflet/': 'node_modules/leaflet/dist',
    '/signage/assets/': 'src/web/signage/public',
    '/signage/messages/': 'src/web/signage/messages',
    '/office/assets/': 'src/web/office/public',
  };
  const files = (dir: string) => new Set(readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()));
  return {
    staticFiles: Object.fromEntries(
      STATIC_PREFIXES.map((p) => [p, files(dirs[p])]),
    ) as unknown as HttpSite['staticFiles'],
    signs: [...registry.sites.values()].filter((s) => s.signage).map((s) => s.id),
    areas: [...registry.areas.keys()],
    officePassword: config.mqtt.roles.office,
  };
}

// The parent side of the connections case's load: a fleet of device connections spread over
// generator workers (child processes, one source address each), connected as fast as the broker
// CONNACKs them, then held for a while with every device publishing once per period.
import { type ChildProcess, spawn } from 'node:child_process';
import type { z } from 'zod';
import {
  type ConnectedReport,
  type ParentMessage,
  type PublishReport,
  WorkerMessage,
} from './connections-protocol.ts';
import { sleep, stopChild } from './processes.ts';
import { percentile } from './stats.ts';

export interface FleetOptions {
  url: string;
  total: number;
  /** One generator worker per source address. */
  localAddresses: string[];
  /** Connection attempts outstanding at once per worker. */
  concurrency: number;
  periodMs: number;
  holdMs: number;
  /** Called once every connection is CONNACKed (or has failed), before publishing starts. */
  onConnected(): Promise<void>;
}

export interface FleetResult {
  connected: number;
  connectFailed: number;
  connectErrors: string[];
  connectSeconds: number;
  /** Connections per second from the first CONNECT to the last CONNACK. */
  connectRate: number;
  sent: number;
  acknowledged: number;
  failed: number;
  dropped: number;
  pubackMs: { p50: number; p99: number; max: number };
}

const CONNECT_TIMEOUT_MS = 60_000;

/** The next IPC message of `type` from a generator worker, parsed with `schema`; bounded in time. */
export function nextMessage<M extends { type: string }, T extends M['type']>(
  child: ChildProcess,
  schema: z.ZodType<M>,
  type: T,
  timeoutMs: number,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no ${type} report within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const onMessage = (raw: unknown) => {
      const msg = schema.parse(raw);
      if (msg.type === type) done(undefined, msg as Extract<M, { type: T }>);
    };
    const onExit = (code: number | null) =>
      done(new Error(`generator worker exited (${code}) before ${type}`));
    function done(err?: Error, msg?: Extract<M, { type: T }>) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(msg as Extract<M, { type: T }>);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const tell = (child: ChildProcess, msg: ParentMessage) => child.send(msg);

export async function runFleet(opts: FleetOptions): Promise<FleetResult> {
  const n = opts.localAddresses.length;
  const workers = opts.localAddresses.map(() =>
    spawn(process.execPath, ['--import', 'tsx', 'bench/lib/connections-generator.ts'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    // Connecting takes a while with auth (scrypt per device): allow a generous, bounded time.
    const connectBudgetMs = CONNECT_TIMEOUT_MS + opts.total * 20;
    const connectedReports = workers.map((w) => nextMessage(w, WorkerMessage, 'connected', connectBudgetMs));
    workers.forEach((w, i) => {
      const from = Math.floor((i * opts.total) / n);
      const to = Math.floor(((i + 1) * opts.total) / n);
      tell(w, {
        type: 'task',
        url: opts.url,
        from,
        count: to - from,
        total: opts.total,
        localAddress: opts.localAddresses[i] as string,
        concurrency: opts.concurrency,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      });
    });
    const connected: ConnectedReport[] = await Promise.all(connectedReports);
    await opts.onConnected();

    const published = workers.map((w) => nextMessage(w, WorkerMessage, 'published', opts.holdMs + 60_000));
    const startAt = Date.now() + 1000;
    for (const w of workers)
      tell(w, { type: 'publish', startAt, periodMs: opts.periodMs, holdMs: opts.holdMs });
    const reports: PublishReport[] = await Promise.all(published);

    const sum = <R>(rs: R[], f: (r: R) => number) => rs.reduce((a, r) => a + f(r), 0);
    const ok = sum(connected, (r) => r.connected);
    const connectSeconds =
      (Math.max(...connected.map((r) => r.lastConnackAt)) -
        Math.min(...connected.map((r) => r.firstAttemptAt))) /
      1000;
    const latencies = reports.flatMap((r) => r.latenciesMs);
    return {
      connected: ok,
      connectFailed: sum(connected, (r) => r.failed),
      connectErrors: [...new Set(connected.flatMap((r) => r.errors))],
      connectSeconds,
      connectRate: ok / connectSeconds,
      sent: sum(reports, (r) => r.sent),
      acknowledged: sum(reports, (r) => r.acknowledged),
      failed: sum(reports, (r) => r.failed),
      dropped: sum(reports, (r) => r.dropped),
      pubackMs: {
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        max: latencies.reduce((a, b) => Math.max(a, b), 0),
      },
    };
  } finally {
    for (const w of workers) if (w.connected) tell(w, { type: 'stop' });
    await Promise.all(
      workers.map(async (w) => {
        if (w.exitCode === null && w.signalCode === null)
          await Promise.race([new Promise((r) => w.once('exit', r)), sleep(10_000)]);
        await stopChild(w);
      }),
    );
  }
}

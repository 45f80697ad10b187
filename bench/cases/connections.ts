// Connections: 20,000 concurrent authenticated device connections on one machi broker process
// (Kafka hand-off included), each publishing one QoS 1 reading a minute, spread evenly, held for
// a while. Measures the connect rate, the broker's RSS idle / all connected / peak, memory per
// connection against a bare aedes broker holding the same connections in the same run, and that
// every publish is acknowledged. The broker can hold no more sockets than its open-files limit:
// when that is below 20,000 (+ a reserve for its own files) the case runs the largest count that
// fits and says so.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLoadRegistry } from '../../src/simulators/load-registry.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { type FleetResult, runFleet } from '../lib/connections-fleet.ts';
import { openFilesLimit, rssBytes, sleep, stopChild, waitForPort } from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import { startBareAedes, startMachiBroker } from './ingest.ts';

const PORT = 21885;
const HTTP_PORT = 28085;
const WANTED = 20_000;
/** Descriptors the broker needs besides device sockets (stdio, epoll, Kafka, HTTP, listeners: ~30). */
const FD_RESERVE = 100;
const PERIOD_MS = 60_000;
const RSS_TARGET = 2 * 2 ** 30;
/** One generator worker per source address, so no address runs short of ephemeral ports. */
const SOURCE_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const CONNECT_CONCURRENCY = 100;
const IDLE_WINDOW_MS = 20_000;
const CONNECTED_WINDOW_MS = 10_000;
const MiB = 2 ** 20;

/**
 * The broker's footprint over a quiet window: the lowest RSS sampled each second for `windowMs`.
 * V8 gives back garbage from start-up (parsing a 20,000-device registry) or from a connect storm
 * some seconds later; the minimum is what the process keeps.
 */
async function quietRss(pid: number, windowMs: number): Promise<number> {
  let low = await rssBytes(pid);
  for (const end = Date.now() + windowMs; Date.now() < end; ) {
    await sleep(1000);
    low = Math.min(low, await rssBytes(pid));
  }
  return low;
}

interface Measurement extends FleetResult {
  rssIdle: number;
  rssConnected: number;
  rssPeak: number;
  bytesPerConnection: number;
}

async function measure(
  kind: 'bare' | 'machi',
  registryDir: string,
  prefix: string,
  count: number,
  holdMs: number,
): Promise<Measurement> {
  const server =
    kind === 'bare' ? startBareAedes(PORT) : startMachiBroker(registryDir, PORT, HTTP_PORT, prefix);
  let sampler: NodeJS.Timeout | undefined;
  try {
    await waitForPort(PORT, 120_000);
    const pid = server.pid as number;
    const rssIdle = await quietRss(pid, IDLE_WINDOW_MS);
    let rssPeak = rssIdle;
    sampler = setInterval(() => {
      rssBytes(pid).then(
        (v) => {
          rssPeak = Math.max(rssPeak, v);
        },
        () => {},
      );
    }, 500);
    let rssConnected = Number.NaN;
    const fleet = await runFleet({
      url: `mqtt://127.0.0.1:${PORT}`,
      total: count,
      localAddresses: SOURCE_ADDRESSES,
      concurrency: CONNECT_CONCURRENCY,
      periodMs: PERIOD_MS,
      holdMs,
      async onConnected() {
        rssConnected = await quietRss(pid, CONNECTED_WINDOW_MS);
      },
    });
    rssPeak = Math.max(rssPeak, rssConnected, await rssBytes(pid));
    return {
      ...fleet,
      rssIdle,
      rssConnected,
      rssPeak,
      bytesPerConnection: (rssConnected - rssIdle) / fleet.connected,
    };
  } finally {
    clearInterval(sampler);
    await stopChild(server);
  }
}

const mib = (b: number) => `${Math.round(b / MiB)} MiB`;

export const connectionsCase: BenchCase = {
  name: 'connections',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const holdMs = ctx.quick ? PERIOD_MS : 2 * PERIOD_MS;
    const limit = openFilesLimit();
    const count = Math.min(WANTED, limit - FD_RESERVE);
    const limited =
      count < WANTED
        ? `${count} connections, not ${WANTED}: the open-files limit is ${limit} and cannot be raised here`
        : `${count} connections`;
    if (count < WANTED) console.log(`  ${limited}`);
    const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-connections-'));
    const prefix = `bench-conn-${Date.now().toString(36)}`;
    try {
      makeLoadRegistry(registryDir, count);
      const runs: Record<'bare' | 'machi', Measurement[]> = { bare: [], machi: [] };
      for (let run = 0; run < ctx.runs; run++) {
        for (const kind of ['bare', 'machi'] as const) {
          const m = await measure(kind, registryDir, prefix, count, holdMs);
          runs[kind].push(m);
          console.log(
            `  ${kind} run ${run + 1}: ${m.connected}/${count} connected in ${m.connectSeconds.toFixed(1)} s (${Math.round(m.connectRate)}/s), RSS ${mib(m.rssIdle)} idle → ${mib(m.rssConnected)} connected, peak ${mib(m.rssPeak)}, ${(m.bytesPerConnection / 1024).toFixed(1)} KiB/connection; ${m.acknowledged}/${m.sent} acknowledged, ${m.failed} failed, ${m.dropped} dropped, PUBACK p50/p99 ${m.pubackMs.p50.toFixed(1)}/${m.pubackMs.p99.toFixed(1)} ms${m.connectErrors.length ? `; connect errors: ${m.connectErrors.join(' | ')}` : ''}`,
          );
        }
      }
      const med = (kind: 'bare' | 'machi', f: (m: Measurement) => number) => median(runs[kind].map(f));
      const perConnection = (kind: 'bare' | 'machi') => med(kind, (m) => m.bytesPerConnection) / 1024;
      const all = [...runs.bare, ...runs.machi];
      const everyoneIn = all.every((m) => m.connected === count && m.dropped === 0);
      const everyAcked = all.every((m) => m.acknowledged === m.sent && m.failed === 0 && m.sent > 0);
      const machiPeak = Math.max(...runs.machi.map((m) => m.rssPeak));
      const total = (f: (m: Measurement) => number) => runs.machi.reduce((a, m) => a + f(m), 0);
      const held = `${count} devices, 1 QoS 1 reading/min each, held ${holdMs / 1000} s`;
      return [
        {
          case: 'connections-memory',
          metric: 'broker KiB per connection',
          value: perConnection('machi'),
          baseline: { name: 'bare aedes', value: perConnection('bare') },
          ratio: perConnection('machi') / perConnection('bare'),
          target: 'broker RSS < 2 GiB',
          pass: machiPeak < RSS_TARGET && everyoneIn,
          context: `${limited}; machi RSS ${mib(med('machi', (m) => m.rssIdle))} idle → ${mib(med('machi', (m) => m.rssConnected))} all connected, peak ${mib(machiPeak)} (bare ${mib(med('bare', (m) => m.rssIdle))} → ${mib(med('bare', (m) => m.rssConnected))})`,
          runs: ctx.runs,
          details: runs,
        },
        {
          case: 'connections-connect-rate',
          metric: 'connections/s until all CONNACKed',
          value: med('machi', (m) => m.connectRate),
          baseline: { name: 'bare aedes', value: med('bare', (m) => m.connectRate) },
          ratio: med('machi', (m) => m.connectRate) / med('bare', (m) => m.connectRate),
          target: 'all connected, every publish PUBACKed',
          pass: everyoneIn && everyAcked,
          context: `${held}; machi ${total((m) => m.acknowledged)}/${total((m) => m.sent)} acknowledged, ${total((m) => m.failed)} failed, ${total((m) => m.dropped)} dropped, PUBACK p50/p99 ${med('machi', (m) => m.pubackMs.p50).toFixed(1)}/${med('machi', (m) => m.pubackMs.p99).toFixed(1)} ms (bare ${med('bare', (m) => m.pubackMs.p50).toFixed(1)}/${med('bare', (m) => m.pubackMs.p99).toFixed(1)} ms)`,
          runs: ctx.runs,
        },
      ];
    } finally {
      rmSync(registryDir, { recursive: true, force: true });
    }
  },
};

// Ingest: acknowledged QoS 1 throughput of machi's broker (auth + validation + PUBACK only after
// Kafka acked) against a bare aedes broker (no auth, no Kafka), both in their own process, fed by
// the same load generator in the same run, with 10 and with 1,000 concurrent devices.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoSecret } from '../../src/registry/secrets.ts';
import { type LoadResult, runLoad } from '../../src/simulators/load.ts';
import { makeLoadRegistry } from '../../src/simulators/load-registry.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { startMachi, stopChild, waitForPort } from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const TARGET_RATIO = 0.35;
const PORT = 21883;
const HTTP_PORT = 28080;

export function startBareAedes(port: number): ChildProcess {
  return spawn('node', ['--import', 'tsx', 'bench/lib/bare-aedes.ts', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** machi's broker alone (Kafka from the shared stack), on its own topic prefix. */
export function startMachiBroker(
  registryDir: string,
  port: number,
  httpPort: number,
  prefix: string,
): ChildProcess {
  return startMachi(['broker'], {
    MQTT_PORT: String(port),
    HTTP_PORT: String(httpPort),
    MACHI_DEVICES_DIR: registryDir,
    KAFKA_TOPIC_PREFIX: prefix,
    MACHI_INFLIGHT_PER_CLIENT: '1000',
    // The connections case opens 5,000 devices from each of its generator addresses, as fast as
    // the broker takes them: that is what it measures, not the connect-rate cap (the
    // reconnect-storm case runs with the cap's default).
    MACHI_MQTT_MAX_CONNECTIONS_PER_IP: '100000',
    MACHI_MQTT_CONNECT_RATE: '100000',
  });
}

/** The most the load generator gets acknowledged by machi's broker, for cases that run at a fraction of it. */
export async function saturate(
  kind: 'bare' | 'machi',
  ids: string[],
  registryDir: string,
  seconds: number,
): Promise<LoadResult> {
  const server =
    kind === 'bare'
      ? startBareAedes(PORT)
      : startMachiBroker(registryDir, PORT, HTTP_PORT, `bench-${Date.now().toString(36)}`);
  try {
    await waitForPort(PORT);
    return await runLoad({
      url: `mqtt://127.0.0.1:${PORT}`,
      deviceIds: ids,
      secret: demoSecret,
      rate: 0,
      durationS: seconds,
      window: ids.length >= 100 ? 2 : 50,
    });
  } finally {
    await stopChild(server);
  }
}

export const ingestCase: BenchCase = {
  name: 'ingest',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const seconds = ctx.quick ? 5 : 10;
    const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-registry-'));
    try {
      const all = makeLoadRegistry(registryDir, 1000);
      const results: CaseResult[] = [];
      for (const devices of [10, 1000]) {
        const ids = all.slice(0, devices);
        const runs: Record<'bare' | 'machi', LoadResult[]> = { bare: [], machi: [] };
        for (let run = 0; run < ctx.runs; run++) {
          // Interleaved, so drift on a shared machine hits both sides alike.
          for (const kind of ['bare', 'machi'] as const) {
            const r = await saturate(kind, ids, registryDir, seconds);
            runs[kind].push(r);
            console.log(
              `  ${kind} ${devices} devices run ${run + 1}: ${Math.round(r.throughput)} msg/s acknowledged, p99 ${r.latencyMs.p99.toFixed(1)} ms, failed ${r.failed}`,
            );
          }
        }
        const bare = median(runs.bare.map((r) => r.throughput));
        const machi = median(runs.machi.map((r) => r.throughput));
        const ratio = machi / bare;
        results.push({
          case: `ingest-${devices}-devices`,
          metric: 'acknowledged QoS 1 msg/s',
          value: machi,
          baseline: { name: 'bare aedes', value: bare },
          ratio,
          target: `≥ ${TARGET_RATIO}× bare aedes`,
          pass: ratio >= TARGET_RATIO,
          context: `machi p99 PUBACK ${median(runs.machi.map((r) => r.latencyMs.p99)).toFixed(1)} ms, ${runs.machi.reduce((a, r) => a + r.failed, 0)} failed; ${seconds} s runs`,
          runs: ctx.runs,
          details: runs,
        });
      }
      return results;
    } finally {
      rmSync(registryDir, { recursive: true, force: true });
    }
  },
};

// Alert latency: from the reading that makes a flood condition true to the retained alert on MQTT,
// while the ingest load runs at half of machi's maximum (measured first in the same run).
// Ten probe areas with one contact sensor each cycle dry → wet → raised → dry → cleared; the
// latency runs from publishing the wet reading to the office receiving the retained alert. The
// load devices (1,000, all in takeo-town, wet every other reading: a storm) keep the engine busy.
// Each run measures twice: with InfluxDB up, and with the alert service's InfluxDB unreachable
// (its address a closed port, as when InfluxDB is killed): InfluxDB is off the alert path, so the
// two must match.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { type LoadResult, runLoad } from '../../src/simulators/load.ts';
import { makeLoadRegistry } from '../../src/simulators/load-registry.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { writeProbes } from '../lib/probes.ts';
import { sleep, startMachi, stopChild, waitForPort } from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { median, percentile } from '../lib/stats.ts';
import { saturate } from './ingest.ts';

const PORT = 21883;
const TARGET_P99_MS = 1000;
const PROBES = 10;
const CLEAR_MS = 1000;
/** A raise slower than this counts as missed: the case fails, and the probe goes on with its next cycle. */
const RAISE_TIMEOUT_MS = 10_000;

/** Nothing listens here: the alert service sees InfluxDB down (connection refused). */
const INFLUX_DOWN_URL = 'http://127.0.0.1:1';
const VARIANTS = [
  { name: 'alert-latency', label: 'InfluxDB up', env: {} },
  { name: 'alert-latency-influx-down', label: 'InfluxDB down', env: { INFLUX_URL: INFLUX_DOWN_URL } },
] as const;

interface RunResult {
  maxRate: number;
  loadRate: number;
  load: LoadResult;
  samples: number;
  /** Raises that did not reach the office within RAISE_TIMEOUT_MS (the probe then moves on). */
  missed: number;
  p50: number;
  p99: number;
}

const probeArea = (i: number) => `bench-probe-${i}`;
const probeDevice = (i: number) => `fs-probe-${i}`;

function addProbes(dir: string): void {
  const areas = Array.from({ length: PROBES }, (_, i) => ({
    id: probeArea(i),
    name: { ja: `計測${i}`, en: `Probe ${i}` },
    lat: 33.1 + i * 0.01,
    lon: 130.1,
  }));
  const probes = Array.from({ length: PROBES }, (_, i) => ({ id: probeDevice(i), area: probeArea(i) }));
  writeProbes(dir, 'probes', probes, areas);
}

interface ActiveState {
  alerts: unknown[];
}

/** One probe's cycles until `end`: the latency of every raise after the first (warm-up) one. */
async function probe(
  i: number,
  office: MqttClient,
  end: number,
  latencies: number[],
  missed: { count: number },
): Promise<void> {
  const id = probeDevice(i);
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${PORT}`, {
    username: id,
    password: demoSecret(id),
    clientId: `probe-${id}`,
    reconnectPeriod: 0,
  });
  const topic = topics.alertsActive(probeArea(i));
  const next = (want: (s: ActiveState) => boolean, timeoutMs: number) =>
    new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => {
        office.off('message', onMessage);
        resolve(undefined);
      }, timeoutMs);
      const onMessage = (t: string, payload: Buffer) => {
        if (t !== topic || !want(JSON.parse(payload.toString()) as ActiveState)) return;
        clearTimeout(timer);
        office.off('message', onMessage);
        resolve(performance.now());
      };
      office.on('message', onMessage);
    });
  let seq = 0;
  const send = (wet: boolean) =>
    device.publishAsync(
      topics.floodReading(id),
      JSON.stringify({ time: new Date().toISOString(), seq: seq++, wet }),
      { qos: 1 },
    );
  try {
    for (let cycle = 0; Date.now() < end; cycle++) {
      const raised = next((s) => s.alerts.length > 0, cycle === 0 ? 60_000 : RAISE_TIMEOUT_MS);
      const sentAt = performance.now();
      await send(true);
      const at = await raised;
      if (at === undefined && cycle === 0) throw new Error(`probe ${id}: no first alert within 60 s`);
      if (at === undefined) missed.count++;
      else if (cycle > 0) latencies.push(at - sentAt);
      // Dry for longer than the clear time: the alert clears (on the next reading or tick). A late
      // raise still clears: wait for the clear either way before the next cycle.
      const cleared = next((s) => s.alerts.length === 0, 60_000);
      await send(false);
      await sleep(CLEAR_MS + 100);
      await send(false);
      if ((await cleared) === undefined)
        throw new Error(`probe ${id}: alert did not clear within 60 s (cycle ${cycle})`);
      // Spread the probes so their conditions do not fall on the same tick.
      await sleep(37 * i);
    }
  } finally {
    await device.endAsync();
  }
}

/** One measurement: a broker and an alert service with `extraEnv`, the load at `loadRate`, the probes. */
async function measure(
  ctx: BenchContext,
  ids: string[],
  registryDir: string,
  seconds: number,
  loadRate: number,
  extraEnv: Record<string, string>,
  tag: string,
): Promise<Omit<RunResult, 'maxRate'>> {
  const env = {
    MQTT_PORT: String(PORT),
    MACHI_DEVICES_DIR: registryDir,
    KAFKA_TOPIC_PREFIX: `bench-alerts-${Date.now().toString(36)}`,
    MACHI_INFLIGHT_PER_CLIENT: '1000',
    // No debounce: the single wet reading is what makes the condition true. (With a debounce
    // the clock makes it true, and the engine's one-second tick raises the alert.)
    MACHI_ALERT_DEBOUNCE_S: '0',
    MACHI_ALERT_CLEAR_S: String(CLEAR_MS / 1000),
    ...extraEnv,
  };
  const broker = startMachi(['broker'], { ...env, HTTP_PORT: '28080' });
  let alerts: ReturnType<typeof startMachi> | undefined;
  try {
    await waitForPort(PORT);
    alerts = startMachi(['alerts'], { ...env, HTTP_PORT: '28083' });
    await waitForPort(28083);
    const office = await mqtt.connectAsync(`mqtt://127.0.0.1:${PORT}`, {
      username: 'office',
      password: ctx.config.mqtt.roles.office,
      clientId: `bench-office-${tag}`,
    });
    await office.subscribeAsync(
      Array.from({ length: PROBES }, (_, i) => topics.alertsActive(probeArea(i))),
      { qos: 1 },
    );
    const end = Date.now() + seconds * 1000;
    const latencies: number[] = [];
    const missed = { count: 0 };
    const [load] = await Promise.all([
      runLoad({
        url: `mqtt://127.0.0.1:${PORT}`,
        deviceIds: ids,
        secret: demoSecret,
        rate: loadRate,
        durationS: seconds + 5,
      }),
      Promise.all(Array.from({ length: PROBES }, (_, i) => probe(i, office, end, latencies, missed))),
    ]);
    await office.endAsync();
    return {
      loadRate,
      load,
      samples: latencies.length,
      missed: missed.count,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
    };
  } finally {
    await stopChild(alerts);
    await stopChild(broker);
  }
}

export const alertLatencyCase: BenchCase = {
  name: 'alert-latency',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const seconds = ctx.quick ? 40 : 120;
    const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-alerts-'));
    const runs = new Map<string, RunResult[]>(VARIANTS.map((v) => [v.name, []]));
    try {
      const ids = makeLoadRegistry(registryDir, 1000);
      addProbes(registryDir);
      for (let run = 0; run < ctx.runs; run++) {
        const max = await saturate('machi', ids, registryDir, 10);
        const loadRate = Math.round(max.throughput / 2);
        for (const variant of VARIANTS) {
          const r = {
            maxRate: max.throughput,
            ...(await measure(
              ctx,
              ids,
              registryDir,
              seconds,
              loadRate,
              variant.env,
              `${run}-${variant.name}`,
            )),
          };
          runs.get(variant.name)?.push(r);
          console.log(
            `  run ${run + 1}, ${variant.label}: load ${Math.round(r.load.throughput)} msg/s acknowledged (target ${loadRate}, max ${Math.round(max.throughput)}), ${r.samples} alerts, ${r.missed} missed (> ${RAISE_TIMEOUT_MS / 1000} s), p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms`,
          );
        }
      }
    } finally {
      rmSync(registryDir, { recursive: true, force: true });
    }
    return VARIANTS.map((variant) => {
      const rs = runs.get(variant.name) ?? [];
      const p99 = median(rs.map((r) => r.p99));
      const missed = rs.reduce((n, r) => n + r.missed, 0);
      return {
        case: variant.name,
        metric: `p99 reading → retained alert (ms), ${variant.label}`,
        value: p99,
        target: `≤ ${TARGET_P99_MS} ms at half the ingest maximum`,
        pass: p99 <= TARGET_P99_MS && missed === 0,
        context: `${missed} raises missed (> ${RAISE_TIMEOUT_MS / 1000} s) in all runs; p50 ${median(rs.map((r) => r.p50)).toFixed(0)} ms; ${median(rs.map((r) => r.samples))} alerts per run; load ${Math.round(median(rs.map((r) => r.load.throughput)))} of max ${Math.round(median(rs.map((r) => r.maxRate)))} msg/s; ${seconds} s runs`,
        runs: rs.length,
        details: rs,
      };
    });
  },
};

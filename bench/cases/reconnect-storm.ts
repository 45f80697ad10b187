// Reconnect storm: two brokers sharing state through Kafka, 20,000 authenticated devices (as in the
// connections case) all on broker A, each with the list [A, B]; A is SIGKILLed, and every device
// reconnects to B (bench/lib/storm-generator.ts: full-jitter backoff, CONNACK 3 retried on the same
// broker). Measures the seconds from the kill until every device has had a reading PUBACKed by B
// again (target ≤ 60 s), and the alert latency (reading → retained alert at the office, as in the
// alert-latency case) of 10 probe areas on B from the kill until the fleet is back. The brokers
// run with the door limits' defaults, except connections per address: the fleet comes from four.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { makeLoadRegistry } from '../../src/simulators/load-registry.ts';
import {
  addAlertProbes,
  PROBE_CLEAR_MS,
  type ProbeSample,
  probeAlertTopics,
  runAlertProbe,
} from '../lib/alert-probe.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { nextMessage } from '../lib/connections-fleet.ts';
import {
  cpuSeconds,
  openFilesLimit,
  rssBytes,
  sleep,
  startMachi,
  stopChild,
  waitForPort,
  waitForReady,
} from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { median, percentile } from '../lib/stats.ts';
import { type RecoveryReport, type StormParentMessage, StormWorkerMessage } from '../lib/storm-protocol.ts';

const BROKERS = [
  { id: 'storm-a', mqtt: 21901, http: 28101 },
  { id: 'storm-b', mqtt: 21902, http: 28102 },
] as const;
const ALERTS_HTTP = 28103;
const WANTED = 20_000;
const QUICK = 4_000;
/** Descriptors a broker needs besides device sockets, as in the connections case. */
const FD_RESERVE = 100;
const TARGET_S = 60;
const TARGET_ALERT_P99_MS = 1000;
const PROBES = 10;
const SOURCE_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const CONNECT_CONCURRENCY = 100;
/** Probes cycle this long before the kill (their first raise is a warm-up). */
const PROBE_WARMUP_MS = 15_000;
/** Recovery after the kill is awaited this long at most. */
const RECOVERY_LIMIT_MS = 180_000;

const url = (b: (typeof BROKERS)[number]) => `mqtt://127.0.0.1:${b.mqtt}`;

/**
 * Connections the kernel dropped because a listen queue was full (TcpExt ListenOverflows, for the
 * whole machine: meaningful on a quiet one). Dropped SYNs are retried by TCP after 1, 3, 7… s.
 */
function listenOverflows(): number {
  const [names, values] = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('TcpExt:'))
    .map((l) => l.trim().split(/\s+/));
  return Number(values?.[names?.indexOf('ListenOverflows') ?? -1] ?? Number.NaN);
}

interface StormRun {
  devices: number;
  /** Seconds from the kill until the last device's reading was PUBACKed by B (NaN: not all). */
  recoveredS: number;
  lastConnackS: number;
  notRecovered: number;
  deviceRecoveryS: { p50: number; p99: number };
  attempts: number;
  refused: Record<string, number>;
  noConnack: number;
  errors: string[];
  brokerBRssPeakMiB: number;
  /** Broker B's CPU ms per device from the kill until the fleet was back: its connect cost. */
  brokerBCpuMsPerDevice: number;
  listenOverflows: number;
  alerts: { samples: number; missed: number; p50: number; p99: number };
}

function startBroker(b: (typeof BROKERS)[number], env: NodeJS.ProcessEnv): ChildProcess {
  return startMachi(['broker'], {
    ...env,
    MQTT_PORT: String(b.mqtt),
    HTTP_PORT: String(b.http),
    MACHI_BROKER_ID: b.id,
  });
}

async function storm(ctx: BenchContext, registryDir: string, count: number, tag: string): Promise<StormRun> {
  const env = {
    MACHI_DEVICES_DIR: registryDir,
    KAFKA_TOPIC_PREFIX: `bench-storm-${tag}`,
    MACHI_MQTT_MAX_CONNECTIONS_PER_IP: '100000',
    MACHI_ALERT_DEBOUNCE_S: '0',
    MACHI_ALERT_CLEAR_S: String(PROBE_CLEAR_MS / 1000),
  };
  const [a, b] = BROKERS;
  const children: ChildProcess[] = [];
  const workers: ChildProcess[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let office: MqttClient | undefined;
  try {
    const brokerA = startBroker(a, env);
    const brokerB = startBroker(b, env);
    children.push(brokerA, brokerB);
    await Promise.all([waitForReady(a.http), waitForReady(b.http)]);
    // The alert engine publishes through the broker that stays (its own failover is not measured here).
    children.push(startMachi(['alerts'], { ...env, MQTT_URL: url(b), HTTP_PORT: String(ALERTS_HTTP) }));
    await waitForPort(ALERTS_HTTP);

    // One generator worker per source address.
    for (let i = 0; i < SOURCE_ADDRESSES.length; i++)
      workers.push(
        spawn(process.execPath, ['--import', 'tsx', 'bench/lib/storm-generator.ts'], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      );
    const tell = (w: ChildProcess, m: StormParentMessage) => w.send(m);
    const connected = workers.map((w) =>
      nextMessage(w, StormWorkerMessage, 'connected', 60_000 + count * 20),
    );
    workers.forEach((w, i) => {
      const from = Math.floor((i * count) / workers.length);
      const to = Math.floor(((i + 1) * count) / workers.length);
      tell(w, {
        type: 'task',
        servers: [url(a), url(b)],
        from,
        count: to - from,
        localAddress: SOURCE_ADDRESSES[i] as string,
        concurrency: CONNECT_CONCURRENCY,
      });
    });
    const reports = await Promise.all(connected);
    const connectS =
      (Math.max(...reports.map((r) => r.lastConnackAt)) - Math.min(...reports.map((r) => r.firstAttemptAt))) /
      1000;
    console.log(`  ${count} devices on broker A in ${connectS.toFixed(1)} s`);

    const watcher = await mqtt.connectAsync(url(b), {
      username: 'office',
      password: ctx.config.mqtt.roles.office,
      clientId: `bench-storm-office-${tag}`,
      reconnectPeriod: 0,
    });
    office = watcher;
    await watcher.subscribeAsync(probeAlertTopics(PROBES), { qos: 1 });
    const samples: ProbeSample[] = [];
    let probing = true;
    const probes = Promise.all(
      Array.from({ length: PROBES }, (_, i) =>
        runAlertProbe(
          url(b),
          i,
          watcher,
          () => probing,
          (s) => samples.push(s),
        ),
      ),
    );
    // A probe that fails fails the run once the storm is over, not the bench process meanwhile.
    probes.catch(() => {});
    await sleep(PROBE_WARMUP_MS);

    let peak = await rssBytes(brokerB.pid as number);
    sampler = setInterval(() => {
      rssBytes(brokerB.pid as number).then(
        (v) => {
          peak = Math.max(peak, v);
        },
        () => {},
      );
    }, 500);
    const killedAt = Date.now() + 1000;
    const recovered = workers.map((w) =>
      nextMessage(w, StormWorkerMessage, 'recovered', RECOVERY_LIMIT_MS + 30_000),
    );
    for (const w of workers) tell(w, { type: 'await', killedAt, deadline: killedAt + RECOVERY_LIMIT_MS });
    await sleep(killedAt - Date.now());
    const cpuB = cpuSeconds(brokerB.pid as number);
    const overflows = listenOverflows();
    brokerA.kill('SIGKILL');
    const rs: RecoveryReport[] = await Promise.all(recovered);
    const over = Date.now();
    const brokerBCpuMsPerDevice = ((cpuSeconds(brokerB.pid as number) - cpuB) * 1000) / count;
    const dropped = listenOverflows() - overflows;
    clearInterval(sampler);
    probing = false;
    await probes;
    const during = samples.filter((x) => x.sentAt >= killedAt && x.sentAt <= over);
    return {
      ...summarize(rs, count, during),
      brokerBRssPeakMiB: peak / 2 ** 20,
      brokerBCpuMsPerDevice,
      listenOverflows: dropped,
    };
  } finally {
    clearInterval(sampler);
    await office?.endAsync(true);
    for (const w of workers) if (w.connected) w.send({ type: 'stop' } satisfies StormParentMessage);
    await Promise.all(workers.map((w) => stopChild(w, 'SIGTERM', 10_000)));
    for (const c of children.reverse()) await stopChild(c);
  }
}

/** The fleet's recovery and the probes' alert latencies from the kill until the fleet was back. */
function summarize(
  rs: RecoveryReport[],
  devices: number,
  during: ProbeSample[],
): Omit<StormRun, 'brokerBRssPeakMiB' | 'brokerBCpuMsPerDevice' | 'listenOverflows'> {
  const republished = rs.flatMap((r) => r.republishedMs);
  const back = republished.filter((ms) => ms >= 0);
  const refused: Record<string, number> = {};
  for (const r of rs)
    for (const [code, n] of Object.entries(r.refused)) refused[code] = (refused[code] ?? 0) + n;
  const latencies = during.flatMap((x) => (x.latencyMs === undefined ? [] : [x.latencyMs]));
  const notRecovered = republished.length - back.length + (devices - republished.length);
  return {
    devices,
    recoveredS: notRecovered === 0 ? Math.max(...back) / 1000 : Number.NaN,
    lastConnackS: Math.max(...rs.flatMap((r) => r.reconnectedMs)) / 1000,
    notRecovered,
    deviceRecoveryS: { p50: percentile(back, 0.5) / 1000, p99: percentile(back, 0.99) / 1000 },
    attempts: rs.reduce((n, r) => n + r.attempts, 0),
    refused,
    noConnack: rs.reduce((n, r) => n + r.noConnack, 0),
    errors: [...new Set(rs.flatMap((r) => r.errors))],
    alerts: {
      samples: latencies.length,
      missed: during.length - latencies.length,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
    },
  };
}

export const reconnectStormCase: BenchCase = {
  name: 'reconnect-storm',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const limit = openFilesLimit();
    const wanted = ctx.quick ? QUICK : WANTED;
    // Broker B holds the whole fleet plus the probes, the office and the alert service.
    const count = Math.min(wanted, limit - FD_RESERVE - PROBES - 2);
    const limited =
      count < wanted
        ? `${count} devices, not ${wanted}: the open-files limit is ${limit}`
        : `${count} devices`;
    if (count < wanted) console.log(`  ${limited}`);
    const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-storm-'));
    const runs: StormRun[] = [];
    try {
      makeLoadRegistry(registryDir, count);
      addAlertProbes(registryDir, PROBES);
      for (let run = 0; run < ctx.runs; run++) {
        const r = await storm(ctx, registryDir, count, `${Date.now().toString(36)}-${run}`);
        runs.push(r);
        console.log(
          `  run ${run + 1}: ${r.devices - r.notRecovered}/${r.devices} published again through B, the last ${r.recoveredS.toFixed(1)} s after the kill (last CONNACK ${r.lastConnackS.toFixed(1)} s; per device p50 ${r.deviceRecoveryS.p50.toFixed(1)} s, p99 ${r.deviceRecoveryS.p99.toFixed(1)} s); ${r.attempts} CONNECT attempts, refused ${JSON.stringify(r.refused)}, ${r.noConnack} without CONNACK${r.errors.length ? ` (${r.errors.join(' | ')})` : ''}; B peak RSS ${Math.round(r.brokerBRssPeakMiB)} MiB, CPU ${r.brokerBCpuMsPerDevice.toFixed(2)} ms per device; ${r.listenOverflows} listen-queue overflows (machine-wide); alerts during the storm: ${r.alerts.samples}, ${r.alerts.missed} missed, p50 ${r.alerts.p50.toFixed(0)} ms, p99 ${r.alerts.p99.toFixed(0)} ms`,
        );
      }
    } finally {
      rmSync(registryDir, { recursive: true, force: true });
    }
    const med = (f: (r: StormRun) => number) => median(runs.map(f));
    const allBack = runs.every((r) => r.notRecovered === 0);
    const recovered = med((r) => r.recoveredS);
    const p99 = med((r) => r.alerts.p99);
    const missed = runs.reduce((n, r) => n + r.alerts.missed, 0);
    const busy = med((r) => r.refused['3'] ?? 0);
    const context = `${limited}, 2 brokers, all on A, A SIGKILLed; last CONNACK from B ${med((r) => r.lastConnackS).toFixed(1)} s; per device p50/p99 ${med((r) => r.deviceRecoveryS.p50).toFixed(1)}/${med((r) => r.deviceRecoveryS.p99).toFixed(1)} s; ${Math.round(med((r) => r.attempts))} CONNECT attempts, ${Math.round(busy)} refused busy (CONNACK 3); ${runs.reduce((n, r) => n + r.notRecovered, 0)} not back in all runs; B peak RSS ${Math.round(med((r) => r.brokerBRssPeakMiB))} MiB, B CPU ${med((r) => r.brokerBCpuMsPerDevice).toFixed(2)} ms per device reconnected; ${Math.round(med((r) => r.listenOverflows))} listen-queue overflows (machine-wide)`;
    return [
      {
        case: 'reconnect-storm',
        metric: 's from SIGKILL until every device published again',
        value: recovered,
        target: `≤ ${TARGET_S} s`,
        pass: allBack && recovered <= TARGET_S,
        context,
        runs: runs.length,
        details: runs,
      },
      {
        case: 'reconnect-storm-alert-latency',
        metric: 'p99 reading → retained alert (ms) during the storm',
        value: p99,
        target: `≤ ${TARGET_ALERT_P99_MS} ms, none missed`,
        pass: p99 <= TARGET_ALERT_P99_MS && missed === 0,
        context: `${PROBES} probe areas on broker B from the kill until the fleet was back; p50 ${med((r) => r.alerts.p50).toFixed(0)} ms; ${med((r) => r.alerts.samples)} alerts per run; ${missed} raises missed (> 10 s) in all runs`,
        runs: runs.length,
      },
    ];
  },
};

// Scale-out: readings/s held end to end (MQTT → Kafka → InfluxDB) by two brokers + two workers
// against one of each, in the same run on the same machine, and the CPU seconds per reading of the
// broker and worker processes (from /proc/<pid>/stat), so the capacity of more machines can be
// computed from it. On a machine with fewer cores than processes no gain is expected. The one
// broker runs as a single broker does (no shared state); the two share their state through Kafka.
// Then the retained-state fan-out alone: a service publishes retained messages through broker A,
// and the CPU each broker spends per shared record is measured (A writes it to Kafka, B reads it
// and serves it), next to how many shared records the load brought per reading.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { type LoadResult, runLoad } from '../../src/simulators/load.ts';
import { makeLoadRegistry } from '../../src/simulators/load-registry.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { consumerLag } from '../lib/pipelines.ts';
import { cpuSeconds, sleep, startMachi, stopChild, waitForReady } from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const BROKERS = [
  { id: 'scale-a', mqtt: 21903, http: 28104 },
  { id: 'scale-b', mqtt: 21904, http: 28105 },
] as const;
const WORKER_HTTP = [28106, 28107] as const;
const DEVICES = 1000;
/** After the load, the workers get this long to store everything (lag 0); beyond it the run fails. */
const DRAIN_LIMIT_MS = 120_000;
const IDLE_WINDOW_MS = 5000;

type Variant = 'one' | 'two';
const LABEL: Record<Variant, string> = { one: '1 broker + 1 worker', two: '2 brokers + 2 workers' };

interface Processes {
  brokers: ChildProcess[];
  workers: ChildProcess[];
}

interface LoadRun {
  /** Acknowledged readings / (load + drain) seconds: what the pipeline stored at its pace. */
  heldPerS: number;
  acknowledgedPerS: number;
  acknowledged: number;
  failed: number;
  drainS: number;
  drained: boolean;
  brokerCpuUsPerReading: number;
  workerCpuUsPerReading: number;
  generatorCpuUsPerReading: number;
  /** Records the brokers wrote to the shared topics per reading (0 with one broker). */
  sharedPerReading: number;
}

interface FanOut {
  records: number;
  /** CPU µs per shared record: the broker that received the publish, and one that serves it. */
  originCpuUs: number;
  servingCpuUs: number;
}

const cpu = (ps: ChildProcess[]) => ps.reduce((s, p) => s + cpuSeconds(p.pid as number), 0);

/** A counter's total over its labels, from a broker's /metrics. */
async function counter(httpPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
}

async function start(variant: Variant, env: NodeJS.ProcessEnv): Promise<Processes> {
  const n = variant === 'one' ? 1 : 2;
  const brokers = BROKERS.slice(0, n).map((b) =>
    startMachi(['broker'], {
      ...env,
      MQTT_PORT: String(b.mqtt),
      HTTP_PORT: String(b.http),
      ...(n > 1 ? { MACHI_BROKER_ID: b.id } : {}),
    }),
  );
  const workers = WORKER_HTTP.slice(0, n).map((http, i) =>
    startMachi(['worker'], {
      ...env,
      HTTP_PORT: String(http),
      MQTT_URL: `mqtt://127.0.0.1:${(BROKERS[i] as (typeof BROKERS)[number]).mqtt}`,
    }),
  );
  const ps = { brokers, workers };
  try {
    await Promise.all([
      ...BROKERS.slice(0, n).map((b) => waitForReady(b.http)),
      ...WORKER_HTTP.slice(0, n).map((p) => waitForReady(p)),
    ]);
  } catch (err) {
    await stop(ps);
    throw err;
  }
  return ps;
}

async function stop(ps: Processes): Promise<void> {
  for (const p of [...ps.workers, ...ps.brokers]) await stopChild(p);
}

async function load(
  ctx: BenchContext,
  variant: Variant,
  ps: Processes,
  env: { KAFKA_TOPIC_PREFIX: string; MACHI_WORKER_GROUP: string },
  ids: string[],
  seconds: number,
): Promise<LoadRun> {
  const kafka = new Kafka({
    brokers: ctx.config.kafka.brokers,
    clientId: 'bench-scale',
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const readingTopics = Object.values(kafkaTopics(env.KAFKA_TOPIC_PREFIX).readings);
    const brokers = variant === 'one' ? [BROKERS[0]] : [...BROKERS];
    const sharedBefore = await Promise.all(
      brokers.map((b) => counter(b.http, 'machi_broker_shared_sent_total')),
    );
    const before = { brokers: cpu(ps.brokers), workers: cpu(ps.workers), self: process.cpuUsage() };
    const began = Date.now();
    // Half the devices on each broker's port (both halves on the one broker): the same generator either way.
    const halves = [ids.slice(0, ids.length / 2), ids.slice(ids.length / 2)];
    const results: LoadResult[] = await Promise.all(
      halves.map((deviceIds, i) =>
        runLoad({
          url: `mqtt://127.0.0.1:${(brokers[i % brokers.length] as (typeof BROKERS)[number]).mqtt}`,
          deviceIds,
          secret: demoSecret,
          rate: 0,
          durationS: seconds,
          window: 2,
          client: 'lean',
        }),
      ),
    );
    const loaded = Date.now();
    let drained = false;
    while (Date.now() - loaded < DRAIN_LIMIT_MS) {
      if ((await consumerLag(admin, env.MACHI_WORKER_GROUP, readingTopics)) === 0) {
        drained = true;
        break;
      }
      await sleep(250);
    }
    const end = Date.now();
    const self = process.cpuUsage(before.self);
    const acknowledged = results.reduce((s, r) => s + r.acknowledged, 0);
    const sharedAfter = await Promise.all(
      brokers.map((b) => counter(b.http, 'machi_broker_shared_sent_total')),
    );
    const perReading = (cpuS: number) => (cpuS * 1e6) / acknowledged;
    return {
      heldPerS: drained ? acknowledged / ((end - began) / 1000) : Number.NaN,
      acknowledgedPerS: acknowledged / ((loaded - began) / 1000),
      acknowledged,
      failed: results.reduce((s, r) => s + r.failed, 0),
      drainS: (end - loaded) / 1000,
      drained,
      brokerCpuUsPerReading: perReading(cpu(ps.brokers) - before.brokers),
      workerCpuUsPerReading: perReading(cpu(ps.workers) - before.workers),
      generatorCpuUsPerReading: perReading((self.user + self.system) / 1e6),
      sharedPerReading:
        (sharedAfter.reduce((a, b) => a + b, 0) - sharedBefore.reduce((a, b) => a + b, 0)) / acknowledged,
    };
  } finally {
    await admin.disconnect();
  }
}

/** `records` retained publishes by a service through broker A; the CPU each broker spends on them. */
async function fanOut(ctx: BenchContext, ps: Processes, ids: string[], records: number): Promise<FanOut> {
  const [a, b] = BROKERS;
  const [brokerA, brokerB] = ps.brokers as [ChildProcess, ChildProcess];
  // What the brokers spend doing nothing (Kafka polls, timers), taken off what the records cost.
  const idle0 = [cpuSeconds(brokerA.pid as number), cpuSeconds(brokerB.pid as number)];
  await sleep(IDLE_WINDOW_MS);
  const idlePerS = [
    (cpuSeconds(brokerA.pid as number) - (idle0[0] as number)) / (IDLE_WINDOW_MS / 1000),
    (cpuSeconds(brokerB.pid as number) - (idle0[1] as number)) / (IDLE_WINDOW_MS / 1000),
  ];
  const service = await mqtt.connectAsync(`mqtt://127.0.0.1:${a.mqtt}`, {
    username: 'machi-service',
    password: ctx.config.mqtt.roles.service,
    clientId: `bench-scale-service-${Date.now().toString(36)}`,
  });
  try {
    const applied0 = await counter(b.http, 'machi_broker_shared_applied_total');
    const cpu0 = [cpuSeconds(brokerA.pid as number), cpuSeconds(brokerB.pid as number)];
    const began = Date.now();
    const window = 100;
    for (let k = 0; k < records; k += window) {
      await Promise.all(
        Array.from({ length: Math.min(window, records - k) }, (_, j) => {
          const id = ids[(k + j) % ids.length] as string;
          const status = {
            deviceId: id,
            kind: 'flood-sensor',
            state: 'online',
            flags: [],
            at: new Date().toISOString(),
            seq: k + j,
          };
          return service.publishAsync(topics.deviceStatus('flood', id), JSON.stringify(status), {
            qos: 1,
            retain: true,
          });
        }),
      );
    }
    while ((await counter(b.http, 'machi_broker_shared_applied_total')) - applied0 < records) {
      if (Date.now() - began > 120_000)
        throw new Error('broker B did not apply every shared record within 120 s');
      await sleep(100);
    }
    const s = (Date.now() - began) / 1000;
    const used = (i: 0 | 1, p: ChildProcess) =>
      cpuSeconds(p.pid as number) - (cpu0[i] as number) - (idlePerS[i] as number) * s;
    return {
      records,
      originCpuUs: (used(0, brokerA) * 1e6) / records,
      servingCpuUs: (used(1, brokerB) * 1e6) / records,
    };
  } finally {
    await service.endAsync();
  }
}

export const scaleOutCase: BenchCase = {
  name: 'scale-out',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const seconds = ctx.quick ? 10 : 60;
    const records = ctx.quick ? 5000 : 50_000;
    const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-scale-'));
    const runs: Record<Variant, LoadRun[]> = { one: [], two: [] };
    const fanOuts: FanOut[] = [];
    try {
      const ids = makeLoadRegistry(registryDir, DEVICES);
      for (let run = 0; run < ctx.runs; run++) {
        // Interleaved, so drift on a shared machine hits both sides alike.
        for (const variant of ['one', 'two'] as const) {
          const tag = `bench-scale-${Date.now().toString(36)}`;
          const env = { MACHI_DEVICES_DIR: registryDir, KAFKA_TOPIC_PREFIX: tag, MACHI_WORKER_GROUP: tag };
          const ps = await start(variant, env);
          try {
            const r = await load(ctx, variant, ps, env, ids, seconds);
            runs[variant].push(r);
            console.log(
              `  ${LABEL[variant]} run ${run + 1}: ${Math.round(r.heldPerS)} readings/s held (${Math.round(r.acknowledgedPerS)}/s acknowledged for ${seconds} s, ${r.failed} failed, stored ${r.drainS.toFixed(1)} s after${r.drained ? '' : ': NOT DRAINED'}); CPU µs/reading broker ${r.brokerCpuUsPerReading.toFixed(1)}, worker ${r.workerCpuUsPerReading.toFixed(1)}, generator ${r.generatorCpuUsPerReading.toFixed(1)}; shared records/reading ${r.sharedPerReading.toFixed(4)}`,
            );
            if (variant === 'two') {
              const f = await fanOut(ctx, ps, ids, records);
              fanOuts.push(f);
              console.log(
                `  fan-out run ${run + 1}: ${f.records} retained records, CPU µs/record: origin broker ${f.originCpuUs.toFixed(1)}, serving broker ${f.servingCpuUs.toFixed(1)}`,
              );
            }
          } finally {
            await stop(ps);
          }
        }
      }
    } finally {
      rmSync(registryDir, { recursive: true, force: true });
    }
    const med = (v: Variant, f: (r: LoadRun) => number) => median(runs[v].map(f));
    const held = (v: Variant) => med(v, (r) => r.heldPerS);
    const allDrained = [...runs.one, ...runs.two].every((r) => r.drained && r.failed === 0);
    const cpuOf = (v: Variant) =>
      `broker ${med(v, (r) => r.brokerCpuUsPerReading).toFixed(1)}, worker ${med(v, (r) => r.workerCpuUsPerReading).toFixed(1)} µs`;
    const origin = median(fanOuts.map((f) => f.originCpuUs));
    const serving = median(fanOuts.map((f) => f.servingCpuUs));
    const sharedPerReading = med('two', (r) => r.sharedPerReading);
    return [
      {
        case: 'scale-out',
        metric: 'readings/s held, 2 brokers + 2 workers',
        value: held('two'),
        baseline: { name: LABEL.one, value: held('one') },
        ratio: held('two') / held('one'),
        target: 'everything acknowledged stored; CPU per reading reported',
        pass: allDrained,
        context: `${DEVICES} devices, ${seconds} s at full speed then until stored; CPU per reading (all processes of a kind): two ${cpuOf('two')}, one ${cpuOf('one')}; generator ${med('two', (r) => r.generatorCpuUsPerReading).toFixed(1)} µs`,
        runs: ctx.runs,
        details: runs,
      },
      {
        case: 'scale-out-fan-out',
        metric: 'broker CPU µs per shared retained record (serving broker)',
        value: serving,
        target: 'reported',
        pass: fanOuts.length === ctx.runs,
        context: `origin broker ${origin.toFixed(1)} µs per record; ${records} records per run; under load ${sharedPerReading.toFixed(4)} shared records per reading, so ${(sharedPerReading * (origin + serving)).toFixed(2)} µs per reading with 2 brokers (+${(sharedPerReading * serving).toFixed(2)} per further broker)`,
        runs: ctx.runs,
        details: fanOuts,
      },
    ];
  },
};

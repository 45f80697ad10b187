// End to end: MQTT → Kafka → InfluxDB at fixed rates, side by side with Node-RED (plain and
// batching flows) fed by the same load generator on the same broker port.
//  - throughput: the highest rate in RATES at which every acknowledged reading is stored exactly
//    once, the publishers got the rate acknowledged, and (machi) the worker's consumer lag stayed
//    under LAG_BOUND_S seconds of traffic: steps of STEP_S find each pipeline's best rate, which is
//    then held SUSTAIN_S, stepping down until a rate holds (machi and batching Node-RED alike)
//  - latency: at 5,000 readings/s for SUSTAIN_S, publish → queryable in InfluxDB, timed with probe
//    devices whose last stored seq is polled every POLL_MS
//  - restart: the middle tier (machi's worker, or Node-RED) killed for 5 s under 5,000/s: lost readings
// MACHI_BENCH_E2E_PARTS (throughput,latency,restart; all by default) picks which run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Config } from '../../src/config/config.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { runLoad } from '../../src/simulators/load.ts';
import { makeLoadRegistry } from '../../src/simulators/load-registry.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { influxQl, seriesOf } from '../lib/influxql.ts';
import { type Pipeline, startMachiPipeline, startNodeRedPipeline } from '../lib/pipelines.ts';
import { writeProbes } from '../lib/probes.ts';
import { sleep } from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { median, percentile } from '../lib/stats.ts';

const RATES = [5000, 7500, 10_000, 12_500, 15_000, 20_000, 25_000, 30_000];
const TARGET_RATE = 20_000;
const TARGET_P99_MS = 2000;
const LATENCY_RATE = 5000;
const LAG_BOUND_S = 5;
const POLL_MS = 100;
const PROBES = 5;
const DEVICES = 1000;
const LOAD_PREFIX = 'fs-load-';
const probeId = (i: number) => `fs-e2e-probe-${i}`;

export interface Step {
  pipeline: string;
  rate: number;
  seconds: number;
  sent: number;
  acknowledged: number;
  failed: number;
  /** Due but not sent: the generator's bound on messages awaiting a PUBACK was reached. */
  unsent: number;
  stored: number;
  lost: number;
  /** Stored but never acknowledged (the publisher gave up waiting): not a loss, but not exact either. */
  extra: number;
  maxLag: number | undefined;
  pass: boolean;
}

/** Waits (bounded) until `count` reaches `target` or stops moving for 15 s. */
async function settle(count: () => Promise<number>, target: number): Promise<number> {
  const deadline = Date.now() + 180_000;
  let last = await count();
  let movedAt = Date.now();
  while (last < target && Date.now() < deadline && Date.now() - movedAt < 15_000) {
    await sleep(1000);
    const now = await count();
    if (now !== last) movedAt = Date.now();
    last = now;
  }
  return last;
}

async function step(
  p: Pipeline,
  ids: string[],
  rate: number,
  seconds: number,
  restart?: { atS: number; downMs: number },
): Promise<Step> {
  const from = Date.now();
  const lags: number[] = [];
  const sampler = setInterval(() => {
    if (Date.now() - from > 10_000)
      void p.lag().then(
        (l) => l !== undefined && lags.push(l),
        () => {},
      );
  }, 2000);
  const restarting = restart
    ? sleep(restart.atS * 1000).then(() => p.restartMiddle(restart.downMs))
    : Promise.resolve();
  const load = await runLoad({
    url: `mqtt://127.0.0.1:${p.mqttPort}`,
    deviceIds: ids,
    secret: demoSecret,
    rate,
    durationS: seconds,
    // MQTT.js took about a core at 12,500/s, which the pipelines under test then lacked.
    client: 'lean',
  });
  clearInterval(sampler);
  await restarting;
  // Only this step's readings: their device times lie within the publishing window, which starts
  // after the previous step's last reading (a margin before it counted the previous step's tail).
  const stored = await settle(() => p.stored(load.startedAt, load.endedAt), load.acknowledged);
  const maxLag = lags.length ? Math.max(...lags) : undefined;
  const lagBounded = maxLag === undefined || maxLag <= rate * LAG_BOUND_S;
  const s: Step = {
    pipeline: p.name,
    rate,
    seconds,
    sent: load.sent,
    acknowledged: load.acknowledged,
    failed: load.failed,
    unsent: load.unsent,
    stored,
    lost: Math.max(0, load.acknowledged - stored),
    extra: Math.max(0, stored - load.acknowledged),
    maxLag,
    // Kept up: the offered rate acknowledged, no publisher refused, nothing acknowledged missing,
    // nothing stored twice or from nowhere (stored ≤ sent), consumer lag bounded.
    pass:
      load.failed === 0 &&
      load.unsent === 0 &&
      load.acknowledged >= 0.99 * rate * seconds &&
      stored >= load.acknowledged &&
      stored <= load.sent &&
      lagBounded,
  };
  console.log(
    `    ${p.name} ${rate}/s ${seconds} s${restart ? ' with restart' : ''}: acknowledged ${s.acknowledged}, stored ${s.stored}, lost ${s.lost}, failed ${s.failed}, unsent ${s.unsent}, max lag ${maxLag ?? '—'} → ${s.pass ? 'ok' : 'not kept up'}`,
  );
  return s;
}

/** The highest rate a pipeline keeps up with, stepping up until it does not. */
async function search(
  start: () => Promise<Pipeline>,
  ids: string[],
  seconds: number,
): Promise<{ max: number; steps: Step[] }> {
  const p = await start();
  const steps: Step[] = [];
  let max = 0;
  try {
    for (const rate of RATES) {
      const s = await step(p, ids, rate, seconds);
      steps.push(s);
      if (!s.pass) break;
      max = rate;
    }
  } finally {
    await p.stop();
  }
  return { max, steps };
}

/**
 * The highest rate a pipeline holds for `seconds`, from `best` down through RATES; a fresh
 * pipeline for each attempt, so a failed one's backlog does not weigh on the next.
 */
async function hold(
  start: () => Promise<Pipeline>,
  ids: string[],
  best: number,
  seconds: number,
): Promise<{ max: number; steps: Step[] }> {
  const steps: Step[] = [];
  for (const rate of RATES.filter((r) => r <= best).reverse()) {
    const p = await start();
    try {
      const s = await step(p, ids, rate, seconds);
      steps.push(s);
      if (s.pass) return { max: rate, steps };
    } finally {
      await p.stop();
    }
  }
  return { max: 0, steps };
}

/** Publish → queryable latency of probe readings while the load runs at LATENCY_RATE through machi. */
async function latency(config: Config, p: Pipeline, ids: string[], seconds: number) {
  const probes = await Promise.all(
    Array.from({ length: PROBES }, (_, i) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, {
        username: probeId(i),
        password: demoSecret(probeId(i)),
        clientId: `e2e-${probeId(i)}`,
      }),
    ),
  );
  const publishedAt = probes.map(() => new Map<number, number>());
  const seen = probes.map(() => -1);
  const samples: number[] = [];
  let running = true;
  const publishing = probes.map(async (client, i) => {
    for (let seq = 0; running; seq++) {
      publishedAt[i]?.set(seq, performance.now());
      await client.publishAsync(
        topics.floodReading(probeId(i)),
        JSON.stringify({ time: new Date().toISOString(), seq, wet: false }),
        { qos: 1 },
      );
      await sleep(100);
    }
  });
  const polling = (async () => {
    while (running) {
      const r = await influxQl(
        config.influx.url,
        `SELECT last(seq) FROM flood WHERE device =~ /^fs-e2e-probe-/ AND time > now() - 10m GROUP BY device`,
        config.influx.bucket,
      ).catch(() => undefined);
      const at = performance.now();
      for (const s of r ? seriesOf(r) : []) {
        const i = Number(s.tags?.device?.split('-').at(-1));
        const last = Number(s.values[0]?.[1]);
        for (let seq = (seen[i] ?? -1) + 1; seq <= last; seq++) {
          const t = publishedAt[i]?.get(seq);
          if (t !== undefined) samples.push(at - t);
        }
        if (last > (seen[i] ?? -1)) seen[i] = last;
      }
      await sleep(POLL_MS);
    }
  })();
  const load = await step(p, ids, LATENCY_RATE, seconds);
  await sleep(3000);
  running = false;
  await Promise.all([...publishing, polling]);
  await Promise.all(probes.map((c) => c.endAsync()));
  const unseen = publishedAt.reduce(
    (a, m, i) => a + [...m.keys()].filter((k) => k > (seen[i] ?? -1)).length,
    0,
  );
  return {
    load,
    samples: samples.length,
    unseen,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
  };
}

export const e2eCase: BenchCase = {
  name: 'e2e',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const stepS = Number(process.env.MACHI_BENCH_E2E_STEP_S ?? (ctx.quick ? 20 : 60));
    const sustainS = Number(process.env.MACHI_BENCH_E2E_SUSTAIN_S ?? (ctx.quick ? 60 : 300));
    const restartS = ctx.quick ? 30 : 60;
    const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-e2e-'));
    const ids = makeLoadRegistry(registryDir, DEVICES);
    writeProbes(
      registryDir,
      'e2e-probes',
      Array.from({ length: PROBES }, (_, i) => ({ id: probeId(i), area: 'takeo-town' })),
    );
    const machi = () => startMachiPipeline(ctx.config, registryDir, LOAD_PREFIX);
    const peer =
      (variant: 'plain' | 'batching', clean = true) =>
      () =>
        startNodeRedPipeline(ctx.config.influx.url, variant, clean);
    const parts = new Set(
      (process.env.MACHI_BENCH_E2E_PARTS ?? 'throughput,latency,restart').split(',').map((x) => x.trim()),
    );
    const runs: Array<Record<string, unknown>> = [];
    const maxes = { machi: [] as number[], batching: [] as number[], plain: [] as number[] };
    const latencies: Array<Awaited<ReturnType<typeof latency>>> = [];
    const restarts: Step[][] = [];
    const rows: CaseResult[] = [];
    try {
      for (let run = 0; run < ctx.runs; run++) {
        const record: Record<string, unknown> = {};
        if (parts.has('throughput')) {
          console.log(`  run ${run + 1}: throughput steps of ${stepS} s`);
          const m = await search(machi, ids, stepS);
          const b = await search(peer('batching'), ids, stepS);
          const pl = await search(peer('plain'), ids, stepS);
          maxes.machi.push(m.max);
          maxes.batching.push(b.max);
          maxes.plain.push(pl.max);
          Object.assign(record, { machi: m.steps, batching: b.steps, plain: pl.steps });
        }
        if (parts.has('latency')) {
          console.log(`  run ${run + 1}: latency at ${LATENCY_RATE}/s for ${sustainS} s`);
          const mp = await machi();
          try {
            latencies.push(await latency(ctx.config, mp, ids, sustainS));
          } finally {
            await mp.stop();
          }
          record.latency = latencies.at(-1);
        }
        if (parts.has('restart')) {
          console.log(`  run ${run + 1}: middle tier killed for 5 s under ${LATENCY_RATE}/s`);
          const restartRun: Step[] = [];
          const contenders = [
            { label: 'machi', start: machi },
            { label: 'node-red-batching-clean', start: peer('batching', true) },
            { label: 'node-red-batching-persistent', start: peer('batching', false) },
          ];
          for (const { label, start } of contenders) {
            const p = await start();
            try {
              const s = await step(p, ids, LATENCY_RATE, restartS, { atS: restartS / 3, downMs: 5000 });
              restartRun.push({ ...s, pipeline: label });
            } finally {
              await p.stop();
            }
          }
          restarts.push(restartRun);
          record.restart = restartRun;
        }
        runs.push(record);
      }
      if (parts.has('throughput')) {
        // Each pipeline's best rate from the steps, held for the sustained duration (stepping down
        // until one holds): the headline compares what each holds, not what each reached briefly.
        console.log(`  holding each pipeline's best rate for ${sustainS} s`);
        const machiHeld = await hold(machi, ids, median(maxes.machi), sustainS);
        const batchingHeld = await hold(peer('batching'), ids, median(maxes.batching), sustainS);
        const ratio = batchingHeld.max > 0 ? machiHeld.max / batchingHeld.max : Number.NaN;
        const held = (h: { steps: Step[] }) =>
          h.steps
            .map(
              (s) =>
                `${s.rate}/s ${s.pass ? 'held' : `not held (${s.failed} publishes failed, ${s.lost} acknowledged lost)`}`,
            )
            .join(', ');
        rows.push({
          case: 'e2e-throughput',
          metric: `readings/s held ${sustainS} s, stored exactly, lag bounded`,
          value: machiHeld.max,
          baseline: { name: 'Node-RED batching', value: batchingHeld.max },
          ratio,
          target: `≥ ${TARGET_RATE} /s and ≥ 1.0× Node-RED batching`,
          pass: machiHeld.max >= TARGET_RATE && ratio >= 1,
          context: `best in steps of ${stepS} s (median of ${ctx.runs}): machi ${median(maxes.machi)}/s, Node-RED batching ${median(maxes.batching)}/s, plain ${median(maxes.plain)}/s; held ${sustainS} s: machi ${held(machiHeld)}; Node-RED batching ${held(batchingHeld)}`,
          runs: ctx.runs,
          details: { maxes, machiHeld, batchingHeld },
        });
      }
      if (parts.has('latency')) {
        const p99 = median(latencies.map((l) => l.p99));
        const exactLatency = latencies.every((l) => l.load.lost === 0 && l.load.extra === 0);
        rows.push({
          case: 'e2e-latency-5k',
          metric: 'p99 publish → queryable in InfluxDB (ms)',
          value: p99,
          target: `≤ ${TARGET_P99_MS} ms at ${LATENCY_RATE}/s, stored = acknowledged`,
          pass: p99 <= TARGET_P99_MS && exactLatency,
          context: `p50 ${median(latencies.map((l) => l.p50)).toFixed(0)} ms over ${median(latencies.map((l) => l.samples))} probe readings per run (poll every ${POLL_MS} ms); ${sustainS} s runs; stored = acknowledged: ${exactLatency ? 'yes' : 'NO'}`,
          runs: latencies.length,
          details: latencies,
        });
      }
      if (parts.has('restart')) {
        const lostBy = (name: string) => restarts.map((r) => r.find((s) => s.pipeline === name));
        const pct = (steps: Array<Step | undefined>) =>
          `${median(steps.map((s) => (s ? (100 * s.lost) / Math.max(1, s.acknowledged) : Number.NaN))).toFixed(2)}%`;
        const machiRestart = lostBy('machi');
        rows.push({
          case: 'e2e-restart',
          metric: 'readings lost, middle tier killed 5 s',
          value: median(machiRestart.map((s) => s?.lost ?? Number.NaN)),
          baseline: {
            name: 'Node-RED batching lost',
            value: median(lostBy('node-red-batching-clean').map((s) => s?.lost ?? Number.NaN)),
          },
          target: '0 lost, 0 duplicates',
          pass: machiRestart.every((s) => s !== undefined && s.lost === 0 && s.extra === 0),
          context: `${LATENCY_RATE}/s for ${restartS} s; machi lost ${pct(machiRestart)}; Node-RED lost ${pct(lostBy('node-red-batching-clean'))} (clean session), ${pct(lostBy('node-red-batching-persistent'))} (persistent session)`,
          runs: restarts.length,
          details: runs,
        });
      }
      return rows;
    } finally {
      rmSync(registryDir, { recursive: true, force: true });
    }
  },
};

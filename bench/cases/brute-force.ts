// Brute force: 1,000 bad logins from one address (127.0.0.2), 50 a second, naming real devices
// whose secrets are full-cost scrypt hashes, while 50 devices on other addresses (127.0.0.3–7)
// publish QoS 1 readings at 500/s. The address must be banned after its failure budget, and the
// devices' p99 PUBACK must stay as it was without the attack (before the doors had limits, every
// such CONNECT blocked the event loop ~50 ms). On a shared machine the load drifts, so quiet and
// attacked phases alternate in short rounds within each run, on the same broker and the same
// connections, and the order flips from run to run; every PUBACK of a condition is pooled. The
// attacker runs in a process of its own (bench/lib/bad-logins.ts), not in the generator's.

import { fork } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadRegistry } from '../../src/registry/load.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { runLoad } from '../../src/simulators/load.ts';
import { makeLoadRegistry } from '../../src/simulators/load-registry.ts';
import type { BadLogin, BadLoginAnswer } from '../lib/bad-logins.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { stopChild, waitForPort } from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { percentile } from '../lib/stats.ts';
import { startMachiBroker } from './ingest.ts';

const PORT = 22883;
const HTTP_PORT = 29080;
const ATTACKER = '127.0.0.2';
const DEVICE_ADDRESSES = ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];
const ATTEMPTS = 1000;
const ATTEMPTS_PER_S = 50;
const RATE = 500;
const TARGET_RATIO = 1.5;
/** Quiet and attacked phases alternate this many times in a run (ATTEMPTS spread over them). */
const ROUNDS = 4;
/** Left out at the start of each phase: logins of the phase before may still be answered. */
const GUARD_MS = 500;
/** Publishing before the first phase, left out: the broker's and the generator's code warming up. */
const WARMUP_MS = 2000;

/** The attacker's process (bench/lib/bad-logins.ts): `attempt` resolves to the answer. */
function startAttacker() {
  const child = fork('bench/lib/bad-logins.ts', [String(PORT), ATTACKER], { execArgv: ['--import', 'tsx'] });
  const pending = new Map<number, (a: BadLoginAnswer) => void>();
  child.on('message', (a: BadLoginAnswer) => pending.get(a.i)?.(a));
  return {
    attempt: (m: BadLogin) =>
      new Promise<BadLoginAnswer>((resolve) => {
        pending.set(m.i, resolve);
        child.send(m);
      }),
    stop: () => stopChild(child),
  };
}

type Condition = 'quiet' | 'attacked';

/** Phases of a run: quiet and attacked alternate, starting with quiet in even runs, attack in odd. */
const phaseOrder = (run: number, rounds: number): Condition[] =>
  Array.from({ length: 2 * rounds }, (_, i) => ((i + run) % 2 === 0 ? 'quiet' : 'attacked'));

/** What the attacker got over a whole run: CONNACK codes in the order the attempts were sent. */
function summarizeAttack(codes: number[]) {
  const byCode: Record<string, number> = {};
  for (const c of codes) byCode[String(c)] = (byCode[String(c)] ?? 0) + 1;
  const firstBan = codes.indexOf(5);
  return {
    codes: byCode,
    /** Attempts answered after a password check (CONNACK 4) before the first ban answer. */
    checkedBeforeBan: codes.slice(0, firstBan < 0 ? codes.length : firstBan).filter((c) => c === 4).length,
    firstBanAt: firstBan,
  };
}

async function bannedCounts(): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${HTTP_PORT}/metrics`).then((r) => r.text());
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/machi_broker_(banned|bans)_total\{scope="(\w+)"\} (\d+)/g))
    out[`${m[1]}:${m[2]}`] = Number(m[3]);
  return out;
}

/** The broker's event-loop delay since the last scrape (prom-client resets it at each). */
async function brokerLag(): Promise<{ brokerMaxMs: number; brokerP99Ms: number }> {
  const text = await fetch(`http://127.0.0.1:${HTTP_PORT}/metrics`).then((r) => r.text());
  const value = (name: string) => Number(new RegExp(`^machi_${name} (\\S+)$`, 'm').exec(text)?.[1]) * 1000;
  return {
    brokerMaxMs: value('nodejs_eventloop_lag_max_seconds'),
    brokerP99Ms: value('nodejs_eventloop_lag_p99_seconds'),
  };
}

interface Plan {
  rounds: number;
  phaseMs: number;
  /** The 50 publishing devices. */
  ids: string[];
  /** The device ids the attacker names. */
  victims: string[];
}

/** One run: a fresh broker, one load through every phase, the attack in the attacked phases. */
async function measureRun(run: number, registryDir: string, { rounds, phaseMs, ids, victims }: Plan) {
  const broker = startMachiBroker(registryDir, PORT, HTTP_PORT, `bench-bf-${Date.now().toString(36)}`);
  const attacker = startAttacker();
  try {
    await waitForPort(PORT);
    const loadBefore = loadavg()[0] as number;
    const order = phaseOrder(run, rounds);
    const samples: Array<{ sentAt: number; latencyMs: number }> = [];
    let publishing: (t: number) => void = () => {};
    const firstPuback = new Promise<number>((r) => {
      publishing = r;
    });
    // One load for the whole run: the same 50 connections through every phase.
    const load = runLoad({
      url: `mqtt://127.0.0.1:${PORT}`,
      deviceIds: ids,
      secret: demoSecret,
      rate: RATE,
      durationS: (WARMUP_MS + order.length * phaseMs) / 1000 + 1,
      localAddresses: DEVICE_ADDRESSES,
      onPuback: (sentAt, latencyMs) => {
        publishing(sentAt);
        samples.push({ sentAt, latencyMs });
      },
    });
    // The load ending (or failing) before any PUBACK came must not leave the run waiting.
    const first = await Promise.race([firstPuback, load.then(() => Number.NaN)]);
    if (Number.isNaN(first)) throw new Error('no publish was acknowledged');
    const t0 = first + WARMUP_MS;
    const until = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
    // Where the time goes, per phase: the broker's event-loop delay (prom-client resets it at
    // each scrape) and the generator's own (it shares the 2 cores), and when the attacker's
    // password checks were answered.
    const generatorLag = monitorEventLoopDelay({ resolution: 10 });
    generatorLag.enable();
    const lags: Array<{ brokerMaxMs: number; brokerP99Ms: number; generatorMaxMs: number }> = [];
    const phaseLags = async () => {
      const broker = await brokerLag();
      const generatorMaxMs = generatorLag.max / 1e6;
      generatorLag.reset();
      return { ...broker, generatorMaxMs };
    };
    // The attack: ATTEMPTS_PER_S bad logins in each attacked phase, due by the clock.
    const attempts: Array<Promise<BadLoginAnswer>> = [];
    for (const [phase, condition] of order.entries()) {
      await until(t0 + phase * phaseMs);
      if (phase > 0) lags.push(await phaseLags());
      else await phaseLags(); // the warm-up's
      if (condition === 'quiet') continue;
      const count = (phaseMs / 1000) * ATTEMPTS_PER_S;
      for (let k = 0; k < count; k++) {
        await until(t0 + phase * phaseMs + (k * 1000) / ATTEMPTS_PER_S);
        const i = attempts.length;
        attempts.push(attacker.attempt({ username: victims[i % victims.length] as string, i }));
      }
    }
    await until(t0 + order.length * phaseMs);
    lags.push(await phaseLags());
    generatorLag.disable();
    const result = await load;
    const answers = await Promise.all(attempts);
    const codes = answers.map((a) => a.code);
    const banned = await bannedCounts();
    // Each PUBACK counts for the phase its publish was sent in, except in a phase's first
    // GUARD_MS (logins still being answered from the phase before).
    const byPhase = order.map(() => [] as number[]);
    for (const { sentAt, latencyMs } of samples) {
      const phase = Math.floor((sentAt - t0) / phaseMs);
      if (phase < 0 || phase >= order.length || sentAt - t0 - phase * phaseMs < GUARD_MS) continue;
      byPhase[phase]?.push(latencyMs);
    }
    const of = (c: Condition) => byPhase.filter((_, i) => order[i] === c).flat();
    const p99 = { quiet: percentile(of('quiet'), 0.99), attacked: percentile(of('attacked'), 0.99) };
    const record = {
      order: order.map((c) => (c === 'quiet' ? 'Q' : 'A')).join(''),
      p99Ms: p99,
      p50Ms: { quiet: percentile(of('quiet'), 0.5), attacked: percentile(of('attacked'), 0.5) },
      ratio: p99.attacked / p99.quiet,
      pubacks: { quiet: of('quiet').length, attacked: of('attacked').length },
      phases: byPhase.map((l, i) => ({
        condition: order[i],
        p99Ms: percentile(l, 0.99),
        pubacks: l.length,
        ...lags[i],
        passwordChecksAnswered: answers.filter((a) => a.code === 4 && Math.floor((a.at - t0) / phaseMs) === i)
          .length,
      })),
      attack: summarizeAttack(codes),
      banned,
      failed: result.failed,
      unsent: result.unsent,
      loadAverage1m: { before: loadBefore, after: loadavg()[0] as number },
    };
    console.log(
      `  run ${run + 1} (${record.order}): p99 PUBACK ${p99.quiet.toFixed(1)} ms quiet, ${p99.attacked.toFixed(1)} ms attacked (${record.ratio.toFixed(2)}×); phases (p99 PUBACK/broker loop max/generator loop max ms, checks) ${record.phases.map((p) => `${p.condition?.[0]} ${p.p99Ms.toFixed(0)}/${p.brokerMaxMs?.toFixed(0)}/${p.generatorMaxMs?.toFixed(0)}${p.passwordChecksAnswered ? ` ${p.passwordChecksAnswered}` : ''}`).join(', ')}; attack CONNACKs ${JSON.stringify(record.attack.codes)}, first ban at attempt ${record.attack.firstBanAt + 1}; ${JSON.stringify(banned)}; failed ${result.failed}, unsent ${result.unsent}; load ${loadBefore.toFixed(1)} → ${record.loadAverage1m.after.toFixed(1)}`,
    );
    return { record, latencies: { quiet: of('quiet'), attacked: of('attacked') } };
  } finally {
    await attacker.stop();
    await stopChild(broker);
  }
}

type RunRecord = Awaited<ReturnType<typeof measureRun>>['record'];

export const bruteForceCase: BenchCase = {
  name: 'brute-force',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const rounds = ctx.quick ? 2 : ROUNDS;
    const phaseMs = ((ctx.quick ? ATTEMPTS / 4 : ATTEMPTS) / rounds / ATTEMPTS_PER_S) * 1000;
    const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-bf-'));
    try {
      const ids = makeLoadRegistry(registryDir, 50);
      // The attacked devices: Takeo's flood sensors with their real (full-cost) scrypt hashes.
      copyFileSync(join('devices', 'flood-sensors.yaml'), join(registryDir, 'flood-sensors.yaml'));
      const victims = [...loadRegistry(registryDir).devices.keys()].filter((id) => !ids.includes(id));
      const plan: Plan = { rounds, phaseMs, ids, victims };
      const pooled: Record<Condition, number[]> = { quiet: [], attacked: [] };
      const runs: RunRecord[] = [];
      for (let run = 0; run < ctx.runs; run++) {
        const { record, latencies } = await measureRun(run, registryDir, plan);
        for (const c of ['quiet', 'attacked'] as const) pooled[c].push(...latencies[c]);
        runs.push(record);
      }
      const quietP99 = percentile(pooled.quiet, 0.99);
      const attackedP99 = percentile(pooled.attacked, 0.99);
      const ratio = attackedP99 / quietP99;
      const failed = runs.reduce((a, r) => a + r.failed + r.unsent, 0);
      const banned = runs.every(
        (r) => r.attack.firstBanAt >= 0 && (r.attack.codes['5'] ?? 0) > (r.attack.codes['4'] ?? 0),
      );
      const loads = runs.flatMap((r) => [r.loadAverage1m.before, r.loadAverage1m.after]);
      return [
        {
          case: 'brute-force',
          metric: 'p99 PUBACK under attack (ms), pooled',
          value: attackedP99,
          baseline: { name: 'no attack, same runs', value: quietP99 },
          ratio,
          target: `≤ ${TARGET_RATIO}× no attack, attacker banned, every publish acknowledged`,
          pass: ratio <= TARGET_RATIO && banned && failed === 0,
          context: `${rounds} quiet and ${rounds} attacked ${phaseMs / 1000} s phases alternating in each run (${runs.map((r) => r.order).join(', ')}), p99 of every PUBACK of 50 devices at ${RATE}/s on ${DEVICE_ADDRESSES[0]}–7 pooled per condition (first ${GUARD_MS} ms of each phase and ${WARMUP_MS / 1000} s of warm-up left out); per-run ratios ${runs.map((r) => `${r.ratio.toFixed(2)}×`).join(', ')}; p50 ${percentile(pooled.quiet, 0.5).toFixed(1)} → ${percentile(pooled.attacked, 0.5).toFixed(1)} ms; ${runs[0] ? Object.values(runs[0].attack.codes).reduce((a, b) => a + b, 0) : 0} bad logins a run from ${ATTACKER} at ${ATTEMPTS_PER_S}/s on ${victims.length} real device ids: password checked ${runs.map((r) => r.attack.checkedBeforeBan).join('/')} times before the ban, then CONNACK 5 ${runs.map((r) => r.attack.codes['5'] ?? 0).join('/')} times; ${failed} publishes failed or unsent; 1-min load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} cores`,
          runs: ctx.runs,
          details: runs,
        },
      ];
    } finally {
      rmSync(registryDir, { recursive: true, force: true });
    }
  },
};

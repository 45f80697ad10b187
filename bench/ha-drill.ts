// The storm drill of issue #24 (`npm run drills -- --ha`): two of everything on a three-node Kafka,
// one of each SIGKILLed in turn while a flood raises alerts. Real processes: a private
// `machi stack up --kafka-nodes 3` (RF 3, min.insync 2) with its InfluxDB on ports of their own,
// `machi broker` ×2 (sharing retained state through Kafka), `machi worker` ×2, `machi alerts` ×2
// (one active on the Kafka lease), a webhook receiver, load devices publishing QoS 1 with the
// client-side list of both brokers, and an office console and a city-hall sign starting on each
// broker. The services reach MQTT through broker B (MQTT_URL takes one broker), so the broker
// killed is A: the one half the devices and screens start on.
// Each phase: the stream runs; one sensor gets wet (watch), a neighbour corroborates (warning due a
// debounce later), the target is SIGKILLed 300 ms after; the screens must show the warning, then
// the clear after everything dries; the target is started again. Reported per kill: acknowledged
// readings lost and duplicates in InfluxDB, the episode's transitions lost or doubled in the audit
// trail, webhook deliveries lost or doubled by delivery id, and how long past due the last of the
// four screens showed the right state. MACHI_DRILL_SCALE=small: fewer devices, shorter phases (CI).
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from '@influxdata/influxdb-client';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaTopics } from '../src/bus/topics.ts';
import { loadConfig } from '../src/config/config.ts';
import { makeLoadRegistry } from '../src/simulators/load-registry.ts';
import { influxPaths } from '../src/stack/influxdb.ts';
import { startKafka } from '../src/stack/kafka.ts';
import { kafkaLayout } from '../src/stack/kafka-nodes.ts';
import { readPid, stopProcess } from '../src/stack/processes.ts';
import { endpoints, stackDown, stackUp } from '../src/stack/stack.ts';
import { type Arrivals, steps, type TrailRecord, WebhookSink, waitFor } from './lib/alert-drill-kit.ts';
import { Screens, type Shown, StormFleet, TrailCollector } from './lib/ha-drill-kit.ts';
import { sleep, startMachi, stopChild } from './lib/processes.ts';

const SMALL = process.env.MACHI_DRILL_SCALE === 'small';
const DEVICES = SMALL ? 10 : 50;
const PERIOD_MS = 1000;
/** The stream runs this long undisturbed before each phase's flood. */
const STEADY_MS = SMALL ? 1000 : 10_000;
/** The warning is held this long on the screens before the water drains. */
const HOLD_MS = SMALL ? 1000 : 5000;
const KILL_AFTER_MS = 300;
const DEBOUNCE_MS = 1000;
const CLEAR_MS = 3000;
const SCREENS_LIMIT_MS = 10_000;
// Kafka clients 29292-29294, controllers 29295-29297; InfluxDB 29286 (RPC 29288).
const KAFKA_PORT = 29292;
const INFLUX_PORT = 29286;
const MQTT = { a: 21911, b: 21912 };
const HTTP = {
  'broker-a': 28111,
  'broker-b': 28112,
  'worker-a': 28113,
  'worker-b': 28114,
  'alerts-a': 28115,
  'alerts-b': 28116,
};
const WEBHOOK_PORT = 28117;
const WEBHOOK_SECRET = 'ha-drill-webhook-secret';
const AREA = 'takeo-town';
const SITE = 'city-hall';
type Proc = keyof typeof HTTP;

export interface HaRow {
  kill: string;
  acknowledged: number;
  lost: number;
  duplicates: number;
  transitionsLost: number;
  transitionsDoubled: number;
  webhooksLost: number;
  webhooksDoubled: number;
  /** Worst delay past due until all four screens showed the right state; undefined: never. */
  screensMs: number | undefined;
  transitions: string;
  /** Every write of the episode to the trail, aborted ones included, as `transition:level@partition:offset`. */
  written: string;
  pass: boolean;
}

interface Phase {
  name: string;
  /** SIGKILLs the target; returns how to start it again. */
  kill(): Promise<() => Promise<void>>;
}

export async function runHaDrill(): Promise<number> {
  const began = Date.now();
  const prefix = `ha-drill-${began.toString(36)}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'machi-ha-drill-stack-'));
  const registryDir = mkdtempSync(join(tmpdir(), 'machi-ha-drill-registry-'));
  const logDir = mkdtempSync(join(tmpdir(), 'machi-ha-drill-logs-'));
  const influxUrl = `http://127.0.0.1:${INFLUX_PORT}`;
  const stackEnv: NodeJS.ProcessEnv = {
    ...process.env,
    MACHI_STACK_DIR: stateDir,
    INFLUX_URL: influxUrl,
  };
  const layout = kafkaLayout({ host: '127.0.0.1', port: KAFKA_PORT }, 3, stackEnv);
  const brokers = layout.map((n) => `${n.host}:${n.port}`);
  stackEnv.KAFKA_BROKERS = brokers.join(',');
  const stackConfig = loadConfig(stackEnv);
  const roles = loadConfig().mqtt.roles;
  const ids = makeLoadRegistry(registryDir, DEVICES);
  const [first, second] = ids as [string, string];
  const sink = new WebhookSink(WEBHOOK_PORT, WEBHOOK_SECRET);
  const env: NodeJS.ProcessEnv = {
    KAFKA_BROKERS: stackEnv.KAFKA_BROKERS,
    INFLUX_URL: stackEnv.INFLUX_URL,
    MACHI_DEVICES_DIR: registryDir,
    KAFKA_TOPIC_PREFIX: prefix,
    MACHI_WORKER_GROUP: prefix,
    MQTT_URL: `mqtt://127.0.0.1:${MQTT.b}`,
    MACHI_ALERT_DEBOUNCE_S: String(DEBOUNCE_MS / 1000),
    MACHI_ALERT_CLEAR_S: String(CLEAR_MS / 1000),
    MACHI_ALERT_RADIUS_M: '3000',
    MACHI_ALERT_RENOTIFY_S: '3600',
    MACHI_WEBHOOK_URLS: sink.url,
    MACHI_WEBHOOK_SECRET: WEBHOOK_SECRET,
  };
  const procs: Partial<Record<Proc, ChildProcess>> = {};
  const logOf = (name: Proc) => join(logDir, `${name}.log`);

  function start(name: Proc): void {
    const [command, side] = name.split('-') as [string, 'a' | 'b'];
    const own =
      command === 'broker'
        ? { MQTT_PORT: String(MQTT[side]), MACHI_BROKER_ID: name }
        : // The lease's hand-overs, for the evidence of a failed run.
          { MACHI_LOG_LEVEL: command === 'alerts' ? 'info' : 'warn' };
    const child = startMachi([command], { ...env, ...own, HTTP_PORT: String(HTTP[name]) }, logOf(name));
    child.once('exit', (code, signal) =>
      console.error(`  (machi ${name} exited: ${signal ?? `code ${code}`})`),
    );
    procs[name] = child;
  }
  async function answers(name: Proc, path: string, timeoutMs = 120_000): Promise<void> {
    const ok = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${HTTP[name]}${path}`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200 ? true : undefined;
    }, timeoutMs);
    if (!ok) throw new Error(`machi ${name}: ${path} not 200 within ${timeoutMs / 1000} s`);
  }
  /**
   * Restarts that the next phase need not wait for (a worker serves once its group has settled, a
   * Kafka node once it has caught up): awaited before the final count.
   */
  const background: Array<Promise<void>> = [];
  const restartErrors: string[] = [];
  const inBackground = (what: string, started: Promise<unknown>) =>
    background.push(
      started.then(
        () => {},
        (err: Error) => void restartErrors.push(`${what}: ${err.message}`),
      ),
    );
  async function kill(name: Proc): Promise<() => Promise<void>> {
    await stopChild(procs[name], 'SIGKILL');
    return async () => {
      // Started again as a supervisor would.
      start(name);
      if (name.startsWith('broker')) await answers(name, '/readyz');
      else inBackground(name, answers(name, '/healthz'));
    };
  }
  /** The alerts process that holds the lease now (its machi_leader gauge), waiting up to 60 s for one. */
  async function activeAlerts(): Promise<Proc> {
    const active = await waitFor(leader, 60_000);
    if (!active) throw new Error('no alerts process active within 60 s');
    return active;
  }
  async function leader(): Promise<Proc | undefined> {
    for (const name of ['alerts-a', 'alerts-b'] as const) {
      const text = await fetch(`http://127.0.0.1:${HTTP[name]}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      if (text.includes('machi_leader{role="alerts"} 1')) return name;
    }
    return undefined;
  }

  const bus = new Kafka({ clientId: prefix, brokers, logLevel: logLevel.NOTHING });
  const trailTopic = kafkaTopics(prefix).alertEvents;
  let trail: TrailCollector | undefined;
  /** Everything written to the trail, aborted transactions included: where a lost event went. */
  let written: TrailCollector | undefined;
  /** The node leading the audit trail partition that takeo-town's events go to. */
  async function trailLeader(trail: TrailRecord[]): Promise<number> {
    const partition = trail.find((r) => r.event.areaId === AREA)?.partition ?? 0;
    const admin = bus.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [trailTopic] });
      const leader = topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
      if (leader === undefined) throw new Error(`no leader for ${trailTopic}[${partition}]`);
      return leader;
    } finally {
      await admin.disconnect();
    }
  }

  const phases: Phase[] = [
    { name: 'broker A', kill: () => kill('broker-a') },
    { name: 'worker A', kill: () => kill('worker-a') },
    { name: 'active alert engine', kill: async () => kill(await activeAlerts()) },
    {
      name: 'Kafka node (the alert trail leader)',
      kill: async () => {
        const id = await trailLeader(trail?.records ?? []);
        const node = layout.find((n) => n.id === id);
        const record = node && readPid(node.pid);
        if (!record) throw new Error(`no pid for Kafka node ${id}`);
        process.kill(record.pid, 'SIGKILL');
        console.error(`  (Kafka node ${id} killed)`);
        // The dead node alone: `stackUp` would print the whole stack again.
        const { kafka } = endpoints(stackConfig);
        return async () => void inBackground(`Kafka node ${id}`, startKafka(kafka, stackEnv, 3));
      },
    },
  ];

  const fleet = new StormFleet(ids, [MQTT.a, MQTT.b], PERIOD_MS);
  fleet.phase = phases[0]?.name ?? '';
  const screens = [
    new Screens('a', [MQTT.a, MQTT.b], AREA, SITE, roles),
    new Screens('b', [MQTT.b, MQTT.a], AREA, SITE, roles),
  ];
  const all = (): Arrivals<Shown>[] => screens.flatMap((s) => [s.office, s.sign]);
  /** When the last screen showed `test` (from `from` on), or undefined if one did not within the bound. */
  async function shownEverywhere(test: (s: Shown) => boolean, from: number): Promise<number | undefined> {
    const seen = await Promise.all(all().map((a) => a.first(test, from, 30_000)));
    return seen.every((s) => s) ? Math.max(...seen.map((s) => s?.at ?? 0)) : undefined;
  }

  const rows: HaRow[] = [];
  const episodes: Array<{
    phase: string;
    from: number;
    to: number;
    alertId?: string;
    error?: string;
    screensMs?: number;
  }> = [];

  async function runPhase(phase: Phase): Promise<void> {
    fleet.phase = phase.name;
    const from = Date.now();
    const episode: (typeof episodes)[number] = { phase: phase.name, from, to: from };
    episodes.push(episode);
    console.error(`• ${phase.name} (${Math.round((from - began) / 1000)} s in)`);
    let restore: (() => Promise<void>) | undefined;
    try {
      await sleep(STEADY_MS);
      const wetAt = fleet.set([first], true);
      const watch = await screens[0]?.office.first((s) => s.level === 'watch', wetAt, 20_000);
      episode.alertId = watch?.value.alertId;
      if (!episode.alertId) throw new Error('no watch on the console within 20 s of a wet sensor');
      const alertId = episode.alertId;
      const corroboratedAt = fleet.set([second], true);
      await sleep(KILL_AFTER_MS);
      const killedAt = Date.now();
      restore = await phase.kill();
      const warned = await shownEverywhere((s) => s.level === 'warning' && s.alertId === alertId, killedAt);
      await sleep(HOLD_MS);
      const dryAt = fleet.dryAll();
      const cleared = await shownEverywhere((s) => s.level === 'none', dryAt);
      if (warned !== undefined && cleared !== undefined)
        episode.screensMs = Math.max(
          0,
          warned - (corroboratedAt + DEBOUNCE_MS),
          cleared - (dryAt + CLEAR_MS),
        );
    } catch (err) {
      episode.error = (err as Error).message;
    } finally {
      const restartedAt = Date.now();
      await restore?.().catch((err: Error) => {
        episode.error ??= `restart: ${err.message}`;
      });
      episode.to = Date.now();
      console.error(`  (started again in ${((episode.to - restartedAt) / 1000).toFixed(1)} s)`);
    }
  }

  /** Trail and webhook figures of one episode, once its clear is in the trail (bounded). */
  async function alertFigures(e: (typeof episodes)[number], records: TrailRecord[]) {
    const cleared = (r: TrailRecord) => r.event.alertId === e.alertId && r.event.transition === 'cleared';
    await waitFor(() => (records.some(cleared) ? true : undefined), 30_000);
    const inArea = records.filter((r) => r.event.areaId === AREA && !r.event.drill);
    const mine = inArea.filter((r) => r.event.alertId === e.alertId);
    const others = inArea.filter(
      (r) =>
        r.event.alertId !== e.alertId &&
        r.event.transition === 'raised' &&
        r.timestamp >= e.from &&
        r.timestamp <= e.to,
    );
    const seq = steps(mine.map((r) => r.event));
    const required = ['raised:watch', 'escalated:warning'];
    const clearedOnce = seq.some((s) => s.startsWith('cleared:')) ? 0 : 1;
    const transitionsLost = required.filter((s) => !seq.includes(s)).length + clearedOnce;
    const transitionsDoubled = seq.length - new Set(seq).size + others.length;
    const ids = new Set(mine.map((r) => r.deliveryId));
    await waitFor(
      () => ([...ids].every((id) => sink.deliveries.some((d) => d.deliveryId === id)) ? true : undefined),
      30_000,
    );
    const posts = sink.deliveries.filter((d) => ids.has(d.deliveryId));
    const delivered = new Set(posts.map((d) => d.deliveryId));
    return {
      transitions: seq.join(' → ') + (others.length ? ` (+${others.length} raised again)` : ''),
      written: (written?.records ?? [])
        .filter((r) => r.event.alertId === e.alertId)
        .map((r) => `${r.event.transition}:${r.event.level}@${r.partition}:${r.offset}`)
        .join(' '),
      transitionsLost,
      transitionsDoubled,
      webhooksLost: [...ids].filter((id) => !delivered.has(id)).length,
      webhooksDoubled: posts.length - delivered.size,
      genuine: posts.every((d) => d.genuine),
    };
  }

  /** Every reading InfluxDB holds of this run's devices: how many rows per `device#seq`. */
  async function storedRows(): Promise<Map<string, number>> {
    const rows = await new InfluxDB({ url: influxUrl, token: 'x', timeout: 30_000 })
      .getQueryApi('takeo')
      .collectRows<{ device: string; _value: number }>(
        `from(bucket: "machi") |> range(start: ${new Date(began - 60_000).toISOString()})
          |> filter(fn: (r) => r._measurement == "flood" and r._field == "seq")
          |> filter(fn: (r) => r.device =~ /^fs-load-/)
          |> keep(columns: ["device", "_value", "_time"])`,
      );
    const count = new Map<string, number>();
    for (const r of rows)
      count.set(`${r.device}#${r._value}`, (count.get(`${r.device}#${r._value}`) ?? 0) + 1);
    return count;
  }

  let setupError: string | undefined;
  try {
    await stackUp(stackConfig, stackEnv, 3);
    await sink.up();
    console.error(`• Kafka ×3 and InfluxDB up (${Math.round((Date.now() - began) / 1000)} s in)`);
    for (const name of Object.keys(HTTP) as Proc[]) start(name);
    // Whichever alerts process the lease picks is the active one; the other stands by.
    await Promise.all(
      (Object.keys(HTTP) as Proc[]).map((n) => answers(n, n.startsWith('alerts') ? '/healthz' : '/readyz')),
    );
    // The topics exist now: the witnesses join while the active engine replays.
    [trail, written] = await Promise.all([
      TrailCollector.start(bus, trailTopic, `${prefix}-witness`),
      TrailCollector.start(bus, trailTopic, `${prefix}-witness-uncommitted`, true),
      activeAlerts().then((active) => answers(active, '/readyz')),
    ]);
    console.error(`• stack and processes up (${Math.round((Date.now() - began) / 1000)} s in)`);
    await fleet.start();
    if (!(await shownEverywhere((s) => s.level === 'none', 0)))
      throw new Error('the four screens did not show the area clear within 30 s');
    for (const phase of phases) await runPhase(phase);
  } catch (err) {
    setupError = (err as Error).message;
  }

  await fleet.stop();
  console.error(
    `• drain: every acknowledged reading into InfluxDB (${Math.round((Date.now() - began) / 1000)} s in)`,
  );
  // Whatever was acknowledged must reach InfluxDB once the workers have caught up (bounded).
  let stored = await waitFor(async () => {
    const rows = await storedRows();
    return [...fleet.acked].every((k) => rows.has(k)) ? rows : undefined;
  }, 120_000);
  stored ??= await storedRows().catch(() => new Map<string, number>());
  for (const e of episodes) {
    const keys = [...fleet.sent].filter(([, p]) => p === e.phase).map(([k]) => k);
    const acked = keys.filter((k) => fleet.acked.has(k));
    const a = await alertFigures(e, trail?.records ?? []);
    const row: HaRow = {
      kill: `${e.phase} (SIGKILL)`,
      acknowledged: acked.length,
      lost: acked.filter((k) => !stored.has(k)).length,
      duplicates: keys.reduce((n, k) => n + Math.max(0, (stored.get(k) ?? 0) - 1), 0),
      ...a,
      screensMs: e.screensMs,
      transitions: e.error ? `error: ${e.error}; ${a.transitions}` : a.transitions,
      pass: false,
    };
    row.pass =
      !e.error &&
      a.genuine &&
      row.acknowledged > 0 &&
      row.lost + row.duplicates + row.transitionsLost + row.transitionsDoubled === 0 &&
      row.webhooksLost + row.webhooksDoubled === 0 &&
      row.screensMs !== undefined &&
      row.screensMs <= SCREENS_LIMIT_MS;
    rows.push(row);
  }
  const invalid = screens.flatMap((s) => s.invalid);
  // The last phase's restart went on while the figures were gathered; it must have succeeded.
  await Promise.all(background);
  if (restartErrors.length) setupError ??= `restart failed: ${restartErrors.join('; ')}`;

  await Promise.all([trail?.stop(), written?.stop(), ...screens.map((s) => s.close()), sink.down()]);
  const failed =
    setupError !== undefined ||
    invalid.length > 0 ||
    rows.length !== phases.length ||
    rows.some((r) => !r.pass);
  if (failed) {
    // A failed run's processes stop as they would in service, and the cluster keeps its data for
    // kcat (`MACHI_STACK_DIR=<dir> machi stack up`).
    await Promise.all(Object.values(procs).map((child) => stopChild(child)));
    await stackDown(undefined, stackEnv);
  } else {
    // A passed run's processes and cluster go with their data and logs: killed, not stopped (a
    // graceful stop takes seconds; three Kafka nodes 5 s or more, the last voter waiting for a
    // quorum that is gone).
    await Promise.all(Object.values(procs).map((child) => stopChild(child, 'SIGKILL')));
    const pidFiles = [...layout.map((n) => n.pid), influxPaths(stackEnv).pid];
    await Promise.all(pidFiles.map((file) => stopProcess(file, 0)));
    for (const dir of [stateDir, logDir]) rmSync(dir, { recursive: true, force: true });
  }
  rmSync(registryDir, { recursive: true, force: true });
  const wallS = Math.round((Date.now() - began) / 1000);
  console.log(
    `# storm drill, ${SMALL ? 'small' : 'full'} scale: 2 brokers, 2 workers, 2 alert engines, 3 Kafka nodes (RF 3, min.insync 2), ${DEVICES} devices every ${PERIOD_MS / 1000} s; debounce ${DEBOUNCE_MS / 1000} s, clear ${CLEAR_MS / 1000} s; ${wallS} s wall`,
  );
  console.log(
    'kill\tacknowledged\tlost\tduplicates\ttransitions lost\ttransitions doubled\twebhooks lost\twebhooks doubled\tscreens right after\tpass',
  );
  for (const r of rows)
    console.log(
      [
        r.kill,
        r.acknowledged,
        r.lost,
        r.duplicates,
        r.transitionsLost,
        r.transitionsDoubled,
        r.webhooksLost,
        r.webhooksDoubled,
        r.screensMs === undefined ? 'never' : `${(r.screensMs / 1000).toFixed(2)} s`,
        r.pass ? 'pass' : 'FAIL',
      ].join('\t'),
    );
  for (const r of rows) {
    console.log(`# ${r.kill}: audit trail ${r.transitions || 'nothing'}`);
    if (!r.pass) console.log(`#   written, aborted included: ${r.written || 'nothing'}`);
  }
  if (setupError) console.log(`# set-up failed: ${setupError}`);
  if (failed) console.log(`# the Kafka cluster's data (stopped): ${stateDir}, prefix ${prefix}`);
  if (invalid.length) console.log(`# invalid retained messages: ${invalid.slice(0, 3).join(' | ')}`);
  console.log(
    failed
      ? 'STORM DRILL FAILED'
      : 'storm drill passed: every kill lost and doubled nothing, screens right within 10 s',
  );
  if (!SMALL) {
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/ha-drill-${new Date(began).toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(
      file,
      `${JSON.stringify({ when: new Date(began).toISOString(), scale: 'full', devices: DEVICES, periodMs: PERIOD_MS, debounceMs: DEBOUNCE_MS, clearMs: CLEAR_MS, wallS, passed: !failed, setupError, rows }, null, 2)}\n`,
    );
    console.log(`# results: ${file}`);
  }
  if (failed)
    for (const name of Object.keys(HTTP) as Proc[]) {
      const lines = existsSync(logOf(name)) ? readFileSync(logOf(name), 'utf8').trim().split('\n') : [];
      console.log(`# machi ${name}: the last of ${lines.length} log lines (${logOf(name)})`);
      for (const line of lines.slice(-15)) console.log(line.slice(0, 400));
    }
  return failed ? 1 : 0;
}

// Two of each singleton as real processes (issue #24): two `machi alerts` and two
// `machi forecast serve` beside one `machi broker` and `machi worker`. Exactly one of each is
// active; the active one is SIGKILLed mid-episode (mid-schedule) and the standby takes over within
// 10 s, from Kafka: the episode keeps its id, the next transition is raised once, every webhook
// delivery id arrives once and none is lost; the next forecast run is the other forecaster's. An
// active alert service frozen past its session is fenced on its return: its writes are refused.
// The fencing case goes on with the first case's services (its new leader, and a new standby); the
// forecasters, a role of their own, run beside both, their SIGKILL once the first takeover is timed.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Flood, OfficeConsole, WebhookSink, waitFor } from '../../bench/lib/alert-drill-kit.ts';
import { startMachi, stopChild } from '../../bench/lib/processes.ts';
import { deliveryIdOf } from '../../src/alerts/outbox.ts';
import { LEASE_LOST_EXIT } from '../../src/app/singleton.ts';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { AlertEvent } from '../../src/schemas/alerts.ts';
import { collectTopic, config, deferred, freePort, testKafka, uniqueName } from '../support/helpers.ts';
import { type PrivateService, startPrivateInflux } from '../support/private-stack.ts';

const TAKEOVER_LIMIT_MS = 10_000;
const AREA = 'takeo-town';
const FIRST = 'fs-takeo-001';
const SECOND = 'fs-takeo-005';
const SECRET = 'singleton-webhook-secret';
/** The fencing case's area, away from the first case's episode (left open). */
const FENCED_AREA = 'kitagata';
const FENCED_SENSOR = 'fs-kitagata-001';
/**
 * The alert services' clear delay: longer than the fencing case takes to freeze its leader after the
 * dry reading (the clear is pending, not written), about a takeover (it is due once the standby
 * leads). The first case's sensors stay wet: its episode never clears.
 */
const CLEAR_S = 7;

const prefix = uniqueName('singletons');
const logDir = mkdtempSync(join(tmpdir(), 'machi-singletons-'));
const children: ChildProcess[] = [];
let mqttPort = 0;
let influx: PrivateService | undefined;
/** Every alert service's webhook receiver; each case looks at its own area's deliveries. */
const sink = new WebhookSink(await freePort(), SECRET);
/** The last 15-minute interval of the forecasters' crowd history. */
let historyEnd = 0;
const common = (): NodeJS.ProcessEnv => ({
  KAFKA_TOPIC_PREFIX: prefix,
  MACHI_WORKER_GROUP: prefix,
  MQTT_PORT: String(mqttPort),
  MACHI_LOG_LEVEL: 'info',
});
const alertsEnv = (): NodeJS.ProcessEnv => ({
  MACHI_ALERT_DEBOUNCE_S: '1',
  MACHI_ALERT_CLEAR_S: String(CLEAR_S),
  MACHI_ALERT_RADIUS_M: '3000',
  MACHI_ALERT_RENOTIFY_S: '3600',
  MACHI_WEBHOOK_URLS: sink.url,
  MACHI_WEBHOOK_SECRET: SECRET,
});

/** `machi <command>` on its own HTTP port, its log kept in logDir under `name`. */
async function machi(name: string, command: string[], env: NodeJS.ProcessEnv = {}) {
  const port = await freePort();
  const child = startMachi(command, { ...common(), ...env, HTTP_PORT: String(port) }, join(logDir, name));
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  const get = (path: string) => fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) });
  /** Its machi_leader gauge for `role`: true when active. */
  const leads = async (role: string) =>
    (await (await get('/metrics')).text()).includes(`machi_leader{role="${role}"} 1`);
  return {
    name,
    child,
    get,
    log: () => readFileSync(join(logDir, name), 'utf8'),
    /** Resolves once `path` answers `status`; the time it did, or undefined after `timeoutMs`. */
    answers: (path: string, status: number, timeoutMs = 60_000) =>
      waitFor(async () => ((await get(path)).status === status ? Date.now() : undefined), timeoutMs),
    leads,
    /** Resolves true once it leads `role`, or undefined after `timeoutMs`. */
    comesToLead: (role: string, timeoutMs = 60_000) =>
      waitFor(async () => ((await leads(role)) ? true : undefined), timeoutMs),
  };
}
type Machi = Awaited<ReturnType<typeof machi>>;

/** The first case's surviving leader and a standby started beside it, for the fencing case. */
const alertServices = deferred<{ leader: Machi; standby: Machi }>();
/** Settled once the first case has timed its takeover: its 10 s limit has the least room. */
const takeoverTimed = deferred<void>();

/**
 * Two `machi <command>` of one singleton role. The second starts once the first holds the lease
 * (it joins a group that has a leader, while the first still starts its component); both are
 * returned once the first is ready and the second live.
 */
async function leaderAndStandby(
  names: [string, string],
  command: string[],
  role: string,
  env: NodeJS.ProcessEnv,
): Promise<[Machi, Machi]> {
  const first = await machi(names[0], command, env);
  if (!(await first.comesToLead(role))) throw new Error(`${names[0]} never led ${role}`);
  const second = await machi(names[1], command, env);
  if (!(await first.answers('/readyz', 200))) throw new Error(`${names[0]} never became ready`);
  if (!(await second.answers('/healthz', 200))) throw new Error(`${names[1]} never became live`);
  return [first, second];
}

/** True once the webhook output's group has committed `count` records of the alert events topic. */
async function webhookCommitted(count: number): Promise<true | undefined> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const group = groups.find((g) => g.groupId.startsWith(`machi.${prefix}.alert-output.webhook-`));
    if (!group) return undefined;
    const [committed] = await admin.fetchOffsets({
      groupId: group.groupId,
      topics: [kafkaTopics(prefix).alertEvents],
    });
    const total = (committed?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    return total === count ? true : undefined;
  } finally {
    await admin.disconnect();
  }
}

/** The flood readings topic's end offsets now: the readings acknowledged so far lie before them. */
async function floodEnds(): Promise<Array<{ partition: number; offset: string }>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return await admin.fetchTopicOffsets(kafkaTopics(prefix).readings.flood);
  } finally {
    await admin.disconnect();
  }
}

/**
 * True once `m`'s alert engine has read the flood readings up to `ends`: its consumer group (its
 * own, named after its pid) has committed them, which it does once a batch is handled.
 */
async function engineRead(
  m: Machi,
  ends: Array<{ partition: number; offset: string }>,
): Promise<true | undefined> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const group = groups.find((g) => g.groupId.startsWith(`${config.kafka.clientId}-alerts-${m.child.pid}-`));
    if (!group) return undefined;
    const [committed] = await admin.fetchOffsets({
      groupId: group.groupId,
      topics: [kafkaTopics(prefix).readings.flood],
    });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const read = ends.every((e) => e.offset === '0' || (at.get(e.partition) ?? -1) >= Number(e.offset));
    return read ? true : undefined;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The forecasters' InfluxDB, with 14 days of city-hall crowd counts; returns their last interval.
 * Private: the job reads every site's history, and which process wrote a run is told by its
 * issued_at, which another forecaster on the shared one would muddle.
 */
async function startForecastInflux(): Promise<number> {
  influx = await startPrivateInflux(18496);
  const step = 15 * 60_000;
  const last = Math.floor(Date.now() / step) * step - step;
  const writer = new InfluxDB({ url: influx.address, token: 'x' }).getWriteApi('takeo', 'machi', 'ms');
  for (let t = last - 14 * 86_400_000; t <= last; t += step) {
    const hour = new Date(t + 9 * 3_600_000).getUTCHours();
    writer.writePoint(
      new Point('crowd_15m')
        .tag('site', 'city-hall')
        .intField('people', Math.round(20 + 10 * hour))
        .intField('cameras', 1)
        .timestamp(t),
    );
  }
  await writer.close();
  return last;
}

beforeAll(async () => {
  mqttPort = await freePort();
  const broker = await machi('broker', ['broker']);
  const worker = await machi('worker', ['worker']);
  // Meanwhile, and not during a case: the cases' takeover limits are timed.
  const history = startForecastInflux();
  await sink.up();
  expect(await broker.answers('/readyz', 200)).toBeDefined();
  expect(await worker.answers('/readyz', 200)).toBeDefined();
  historyEnd = await history;
}, 120_000);

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c)));
  await Promise.all([influx?.dispose(), sink.down()]);
}, 60_000);

it.concurrent('two alert services: one active; SIGKILLed mid-episode, the standby takes over in 10 s and nothing is raised or sent twice or lost', {
  timeout: 120_000,
}, async ({ expect }) => {
  const env = alertsEnv();
  const trail = await collectTopic(testKafka(), kafkaTopics(prefix).alertEvents);
  const events = () => trail.records.map((r) => AlertEvent.parse(JSON.parse(r.value)));
  const [first, second] = await leaderAndStandby(['alerts-1', 'alerts-2'], ['alerts'], 'alerts', env);
  // The standby is healthy, not ready (a load balancer sends acknowledgements to the active one),
  // and has built nothing: no alert metric, no engine.
  const standby = await second.get('/readyz');
  expect(standby.status).toBe(503);
  expect(await standby.json()).toMatchObject({ checks: { 'alerts.active': false } });
  expect(await first.leads('alerts')).toBe(true);
  expect(await second.leads('alerts')).toBe(false);

  const url = `mqtt://127.0.0.1:${mqttPort}`;
  const registry = loadRegistry(config.devicesDir);
  const office = await OfficeConsole.open(url, config.mqtt.roles.office, {
    areaIds: [AREA],
    siteId: 'city-hall',
    deviceIds: [],
  });
  const flood = new Flood(url, registry, [AREA], 2000);
  flood.start();
  try {
    await flood.set({ [FIRST]: { wet: true } });
    const raised = await waitFor(() => events().find((e) => e.transition === 'raised' && !e.drill), 20_000);
    expect(raised?.level).toBe('watch');
    // Killed with the webhook output caught up and committed: a kill between the receiver's 2xx
    // and the commit would send that one event again, under the same delivery id (docs/alerts.md).
    await waitFor(() => (sink.deliveries.length === trail.records.length ? true : undefined), 20_000);
    expect(await waitFor(() => webhookCommitted(trail.records.length), 20_000)).toBe(true);
    expect((await second.get('/metrics').then((r) => r.text())).includes('machi_alert_events_total')).toBe(
      false,
    );

    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    // The second sensor gets wet while nobody is active: the escalation is the new leader's.
    const wetAt = await flood.set({ [SECOND]: { wet: true } });
    const readyAt = await second.answers('/readyz', 200, 30_000);
    expect(readyAt, 'the standby never became ready').toBeDefined();
    const takeoverMs = (readyAt as number) - killedAt;
    console.log(`alerts takeover: ${takeoverMs} ms from SIGKILL to the standby's /readyz 200`);
    expect(takeoverMs).toBeLessThanOrEqual(TAKEOVER_LIMIT_MS);
    expect(await second.leads('alerts')).toBe(true);
    expect(second.log()).toMatch(/leadership acquired/);
    takeoverTimed.resolve();

    const escalated = await waitFor(
      () => sink.deliveries.find((d) => d.event.transition === 'escalated' && d.event.level === 'warning'),
      30_000,
    );
    expect(escalated, 'no escalation delivered').toBeDefined();
    console.log(
      `alerts escalation delivered ${(escalated?.at ?? 0) - wetAt} ms after the second sensor got wet`,
    );
    expect(escalated?.event.alertId).toBe(raised?.alertId);
    const shown = await office.active(AREA).first((a) => a.alerts[0]?.level === 'warning', killedAt, 10_000);
    expect(shown?.value.alerts[0]?.id).toBe(raised?.alertId);

    // The fencing case's standby starts meanwhile: it joins a group whose leader claims the lease.
    const standbyForNext = machi('alerts-3', ['alerts'], env);
    // Settle, then compare: each transition once in the trail, every delivery id once at the receiver.
    await new Promise((r) => setTimeout(r, 3000));
    const real = events().filter((e) => !e.drill && e.areaId === AREA);
    expect(real.map((e) => `${e.transition}:${e.level}`)).toEqual(['raised:watch', 'escalated:warning']);
    expect(new Set(real.map((e) => e.alertId))).toEqual(new Set([raised?.alertId]));
    const trailIds = trail.records.map((r) => deliveryIdOf(Buffer.from(r.value)));
    const delivered = sink.deliveries.map((d) => d.deliveryId);
    expect(delivered.sort()).toEqual([...trailIds].sort());
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(sink.deliveries.every((d) => d.genuine)).toBe(true);
    alertServices.resolve({ leader: second, standby: await standbyForNext });
  } finally {
    takeoverTimed.resolve();
    alertServices.reject(new Error('the first case failed before handing over its alert services'));
    // All at once: the trail's consumer alone takes up to its 5 s fetch wait to leave.
    await Promise.all([flood.stop(), office.close(), trail.stop()]);
  }
});

it.concurrent('a frozen alert service that comes back with a transition due is fenced: it writes nothing and exits 75', {
  timeout: 120_000,
}, async ({ expect }) => {
  // The clear falls due while the first service is frozen: the second, active by then, writes it;
  // the first, on SIGCONT, finds it due at its first tick, before it hears that it lost the lease.
  const { leader: first, standby: second } = await alertServices.promise;
  expect(await second.answers('/healthz', 200)).toBeDefined();
  expect(await first.leads('alerts')).toBe(true);
  expect(await second.leads('alerts')).toBe(false);
  const trail = await collectTopic(testKafka(), kafkaTopics(prefix).alertEvents);
  const real = () =>
    trail.records
      .map((r) => AlertEvent.parse(JSON.parse(r.value)))
      .filter((e) => !e.drill && e.areaId === FENCED_AREA);
  const deliveries = () => sink.deliveries.filter((d) => d.event.areaId === FENCED_AREA);
  const url = `mqtt://127.0.0.1:${mqttPort}`;
  const flood = new Flood(url, loadRegistry(config.devicesDir), [FENCED_AREA], 2000);
  flood.start();
  try {
    await flood.set({ [FENCED_SENSOR]: { wet: true } });
    const raised = await waitFor(() => real().find((e) => e.transition === 'raised'), 20_000);
    // Raised live, by the rule: /readyz said 200 only once the service had restored its state.
    expect(raised?.rule).toBe('single-sensor');
    const dryAt = await flood.set({ [FENCED_SENSOR]: { wet: false } });
    // The first service has read the dry reading (its clear is pending) when it is frozen.
    const ends = await floodEnds();
    expect(await waitFor(() => engineRead(first, ends), 20_000), 'the first never read the dry reading').toBe(
      true,
    );
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGSTOP');
    expect(await second.answers('/readyz', 200, 30_000), 'the standby never became ready').toBeDefined();
    const cleared = await waitFor(() => real().find((e) => e.transition === 'cleared'), 30_000);
    expect(cleared?.alertId, 'the new leader did not clear the alert').toBe(raised?.alertId);
    // The new leader may clear a little early (at its restore); the first is resumed once the clear
    // is surely due on its own clock too.
    await new Promise((r) => setTimeout(r, Math.max(0, dryAt + CLEAR_S * 1000 + 1500 - Date.now())));
    first.child.kill('SIGCONT');
    expect(
      await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]),
    ).toBe(LEASE_LOST_EXIT);

    // The new leader goes on: the next episode is its, once.
    await flood.set({ [FENCED_SENSOR]: { wet: true } });
    const next = await waitFor(
      () => real().find((e) => e.transition === 'raised' && e.alertId !== raised?.alertId),
      20_000,
    );
    expect(next, 'the new leader raised nothing after the old one exited').toBeDefined();
    await waitFor(() => (deliveries().length >= real().length ? true : undefined), 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(real().map((e) => `${e.transition}:${e.alertId}`)).toEqual([
      `raised:${raised?.alertId}`,
      `cleared:${raised?.alertId}`,
      `raised:${next?.alertId}`,
    ]);
    // Every delivery id of this area once.
    const trailIds = trail.records
      .filter((r) => AlertEvent.parse(JSON.parse(r.value)).areaId === FENCED_AREA)
      .map((r) => deliveryIdOf(Buffer.from(r.value)));
    const delivered = deliveries().map((d) => d.deliveryId);
    expect(delivered.sort()).toEqual([...trailIds].sort());
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(first.log()).toMatch(/fenced: another alerts process writes the audit trail now/);
  } finally {
    first.child.kill('SIGCONT');
    await Promise.all([flood.stop(), trail.stop()]);
  }
});

it.concurrent('two forecasters: only the active one runs; after its SIGKILL the other writes the next run; a frozen leader yields', {
  timeout: 120_000,
}, async ({ expect }) => {
  const address = influx?.address;
  if (!address) throw new Error('the forecasters have no InfluxDB');
  const db = new InfluxDB({ url: address, token: 'x' });
  const last = historyEnd;
  /** issued_at of the run that last wrote the next interval's forecast (each run overwrites it). */
  const lastIssued = async () => {
    const rows = await db.getQueryApi('takeo').collectRows<{ _value: number }>(
      `from(bucket: "machi") |> range(start: ${new Date(last).toISOString()})
        |> filter(fn: (r) => r._measurement == "forecast" and r._field == "issued_at" and r.horizon == "1")
        |> last()`,
    );
    return rows[0]?._value;
  };
  const runs = (m: Machi) => m.log().match(/forecast run done/g)?.length ?? 0;

  // Every 2 s: two active forecasters would write two runs a tick.
  const env = { INFLUX_URL: address, MACHI_FORECAST_CRON: '*/2 * * * * *' };
  const [first, second] = await leaderAndStandby(
    ['forecast-1', 'forecast-2'],
    ['forecast', 'serve'],
    'forecast',
    env,
  );
  expect((await second.get('/readyz')).status).toBe(503);
  // Every 2 s a run: two scheduled ones with the standby live, both the active one's (an active
  // standby would have run at its start and at the first of those ticks, already logged).
  const before = runs(first);
  expect(await waitFor(() => (runs(first) >= before + 2 ? true : undefined), 20_000)).toBe(true);
  expect(runs(first)).toBeGreaterThanOrEqual(2);
  expect(runs(second)).toBe(0);
  expect(await first.leads('forecast')).toBe(true);
  expect(await second.leads('forecast')).toBe(false);

  await takeoverTimed.promise;
  const killedAt = Date.now();
  first.child.kill('SIGKILL');
  const next = await waitFor(async () => {
    const at = await lastIssued();
    return at !== undefined && at > killedAt ? at : undefined;
  }, 30_000);
  expect(next, 'no forecast run after the active forecaster was killed').toBeDefined();
  console.log(`forecast takeover: next run issued ${(next as number) - killedAt} ms after SIGKILL`);
  expect((next as number) - killedAt).toBeLessThanOrEqual(TAKEOVER_LIMIT_MS);
  // The run's points are in InfluxDB a moment before its "forecast run done" line is logged.
  expect(await waitFor(async () => (runs(second) >= 1 ? true : undefined), 10_000)).toBe(true);
  expect(await second.leads('forecast')).toBe(true);

  // A leader frozen past its session (a long pause, a cut link) finds on its return that the lease
  // was given away meanwhile: it exits (75) instead of running beside the new leader.
  const third = await machi('forecast-3', ['forecast', 'serve'], env);
  expect(await third.answers('/healthz', 200)).toBeDefined();
  const exited = new Promise<number | null>((resolve) => second.child.once('exit', resolve));
  second.child.kill('SIGSTOP');
  expect(await third.answers('/readyz', 200, 20_000)).toBeDefined();
  second.child.kill('SIGCONT');
  expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))])).toBe(
    LEASE_LOST_EXIT,
  );
  expect(second.log()).toMatch(/leadership lost: exiting/);
  expect(await third.leads('forecast')).toBe(true);
});

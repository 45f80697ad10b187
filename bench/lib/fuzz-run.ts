// The fuzz run: `machi all` (broker, worker, alerts, forecast, web) in its own process on the
// shared Kafka and InfluxDB, a steady valid QoS 1 stream from a few devices, bad MQTT input from the
// generator over raw TCP sockets, and, at the same time, the service families (bench/lib/
// fuzz-services.ts): garbage acknowledgements as the office, garbage records straight onto every
// topic a service consumes, bad requests at every HTTP route. Then Kafka and the process's log are
// read back and every input is checked against what it expected; a probe checks that valid input
// still has its effect (a point, an alert, an acknowledgement); the process must be alive and
// ready, and, restarted, must replay the garbage and come up again. Used by `npm run fuzz`
// (bench/fuzz.ts) and, at a small scale, by tests/integration/fuzz.test.ts.
import { connect, type Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import type { Device } from '../../src/registry/schema.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { DEAD_LETTER_KEPT_BYTES, DeadLetter } from '../../src/schemas/dead-letter.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { type DeviceMessage, topics as mqttTopicNames } from '../../src/schemas/topics.ts';
import { Rng } from '../../src/simulators/prng.ts';
import { deviceTopic, encode, type FuzzInput, fuzzInputs, validReading } from './fuzz-inputs.ts';
import {
  httpSite,
  LogWatch,
  liveness,
  type MachiAll,
  skippedKey,
  startMachiAll,
  waitForStatus,
  within,
} from './fuzz-machi.ts';
import { connectPacket, type RawReplies, readReplies } from './fuzz-packets.ts';
import { chooseProbe, type ProbeReport, runProbe } from './fuzz-probe.ts';
import {
  checkServices,
  consumedTopic,
  fuzzServices,
  pendingEffects,
  type ServiceChecks,
  serviceSenders,
  watchKafka,
} from './fuzz-service-run.ts';
import { serviceInputs } from './fuzz-services.ts';
import { sleep, stopChild, waitForPort } from './processes.ts';

export interface FuzzRunOptions {
  count: number;
  seconds: number;
  seed: number;
  mqttPort: number;
  httpPort: number;
  topicPrefix: string;
  /** Concurrent fuzz connections. */
  lanes?: number;
  /** Milliseconds between two readings of one valid-stream device. */
  validIntervalMs?: number;
  /** Service inputs (acks, Kafka records, HTTP requests), sent beside the MQTT ones; default 40 % of count. */
  serviceCount?: number;
  /** Concurrent service lanes. */
  serviceLanes?: number;
  /** Restart `machi all` at the end, so the alert service replays the garbage at start-up (default). */
  restart?: boolean;
  progress?: (line: string) => void;
}

/** How one input ended, as the broker showed it on the wire. */
interface Observed {
  input: FuzzInput & { clientId: string };
  replies: RawReplies;
  /** The broker closed the connection before we did. */
  closed: boolean;
  loginRefused?: number;
}

export interface FuzzReport {
  seed: number;
  seconds: number;
  sent: number;
  /** Inputs by outcome (dead-lettered by reason, refused at CONNECT/SUBSCRIBE/PUBLISH, closed, ...). */
  outcomes: Record<string, number>;
  /** Inputs by family. */
  families: Record<string, number>;
  deadLetters: { records: number; byReason: Record<string, number>; brokerCounted: number };
  valid: { sent: number; acked: number; inKafka: number; missing: number; duplicates: number };
  fuzzAcceptedAsValid: { acked: number; inKafka: number };
  /** The service families: inputs by outcome, dead letters of the worker and alert service, HTTP statuses. */
  services: ServiceChecks & {
    sent: number;
    retainCleared: { sent: number; brokerCounted: number; retainedAfter: number };
    probe?: ProbeReport;
    restart?: { stopExit: string; readyAfterMs?: number; replaySkipped: number; replayExpected: number };
    /** Error lines of machi's log, by message. */
    logErrors: Record<string, number>;
    logSamples: string[];
  };
  /** `machi all` at the end of the run (and after its restart). */
  process: {
    alive: boolean;
    exit?: string;
    healthz: number;
    readyz: number;
    checks: Record<string, boolean>;
  };
  broker: {
    alive: boolean;
    healthz: number;
    exit?: string;
    /** The broker's own counters, by reason. */
    disconnects: Record<string, number>;
    authFailures: Record<string, number>;
  };
  violations: string[];
}

const VIOLATIONS_KEPT = 50;

export async function runFuzz(opts: FuzzRunOptions): Promise<FuzzReport> {
  const say = opts.progress ?? (() => {});
  const env = {
    KAFKA_TOPIC_PREFIX: opts.topicPrefix,
    MQTT_PORT: String(opts.mqttPort),
    HTTP_PORT: String(opts.httpPort),
    // A worker group of its own; an alert within a second of wetness (for the probe); no
    // scheduled forecast (it runs once at start); no webhook receivers.
    MACHI_WORKER_GROUP: `${opts.topicPrefix}-writer`,
    MACHI_ALERT_DEBOUNCE_S: '1',
    MACHI_FORECAST_CRON: '0 0 1 1 *',
    MACHI_WEBHOOK_URLS: '',
    // Bad logins are part of the input: no login bans, so every input gets its own answer.
    MACHI_MQTT_BAN_IP_FAILURES: '1000000',
    MACHI_MQTT_BAN_USER_FAILURES: '1000000',
    MACHI_HTTP_BAN_IP_FAILURES: '1000000',
    MACHI_HTTP_BAN_USER_FAILURES: '1000000',
  };
  const config = loadConfig({ ...process.env, ...env });
  const registryFull = loadRegistry(config.devicesDir);
  const registry = [...registryFull.devices.values()];
  const validDevices = pickValidDevices(registry);
  const probe = chooseProbe(registry, validDevices, config.alerts.rules.radiusM);
  const fuzzDevices = registry.filter((d) => !validDevices.includes(d) && !probe.reserved.has(d.id));
  const violations: string[] = [];
  const violate = (what: string) => violations.push(what);
  const topics = kafkaTopics(opts.topicPrefix);
  const kafka = new Kafka({
    clientId: `${opts.topicPrefix}-check`,
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });

  const logs = new LogWatch();
  let machi: MachiAll = startMachiAll(env, logs);
  /** Clients to close however the run ends (each at most once). */
  const closers: Array<() => Promise<unknown>> = [];
  const once = (close: () => Promise<unknown>) => {
    let closed: Promise<unknown> | undefined;
    const run = () => {
      closed ??= close().catch(() => {});
      return closed;
    };
    closers.push(run);
    return run;
  };
  try {
    await waitForPort(opts.mqttPort, 60_000);
    if (!(await waitForStatus(`http://127.0.0.1:${opts.httpPort}/readyz`, 200, 180_000)))
      throw new Error(`machi all did not become ready (${machi.exit() ?? 'still running'})`);
    const watch = await watchKafka(kafka, topics, `${opts.topicPrefix}-svc-${Date.now().toString(36)}`);
    const stopWatch = once(() => watch.stop());
    const senders = await serviceSenders({
      mqttPort: opts.mqttPort,
      httpPort: opts.httpPort,
      officePassword: config.mqtt.roles.office,
      kafka,
      topics,
      clientId: `fzo${opts.seed % 1000}`,
    });
    const closeSenders = once(() => senders.close());
    const stream = validStream(config, validDevices, opts);
    const stopStream = once(() => stream.stop());
    await within(stream.ready, 120_000, "the valid stream's logins");
    say(
      `valid stream: ${validDevices.length} devices; probe area ${probe.area}; fuzzing with seed ${opts.seed}`,
    );

    const deadline = Date.now() + opts.seconds * 1000;
    const serviceCount = opts.serviceCount ?? Math.round(opts.count * 0.4);
    const [observed, serviceObserved] = await Promise.all([
      fuzz(opts, fuzzDevices, registry, config.mqtt.maxPayloadBytes, stream.clientIds, say),
      fuzzServices({
        inputs: serviceInputs({
          seed: opts.seed,
          now: Date.now(),
          areas: [...registryFull.areas.keys()],
          floodSensors: fuzzDevices.filter((d) => d.kind === 'flood-sensor').map((d) => d.id),
          peopleCounters: fuzzDevices.filter((d) => d.kind === 'people-counter').map((d) => d.id),
          site: httpSite(config, registryFull),
        }),
        count: serviceCount,
        deadline,
        lanes: opts.serviceLanes ?? 3,
        senders,
        say,
      }),
    ]);
    // The valid stream must still be served after the last bad input.
    const ackedAtEnd = stream.acked.size;
    await sleep(2000);
    if (stream.acked.size === ackedAtEnd) violate('the valid stream got no PUBACK after the fuzzing ended');
    say('stopping the valid stream');
    await stopStream();
    if (stream.drops() > 0) violate(`valid-stream connections were dropped ${stream.drops()} times`);

    const healthz = await fetch(`http://127.0.0.1:${opts.httpPort}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    const counts = await brokerCounts(opts.httpPort);
    const alive = machi.exit() === undefined && healthz === 200;
    if (!alive) violate(`machi all not alive after fuzzing: ${machi.exit() ?? `healthz ${healthz}`}`);

    say('reading Kafka back');
    await sleep(1000); // NOT_AUTHORIZED dead letters are produced after the disconnect
    // The service families' own records on the reading topics are not readings from the broker.
    const produced = new Set(
      serviceObserved.flatMap((o) =>
        o.input.channel === 'kafka' && o.offset !== undefined
          ? [`${consumedTopic(topics, o.input.topic)}:${o.partition}@${o.offset}`]
          : [],
      ),
    );
    const records = await readAll(
      kafka,
      [...Object.values(topics.readings), topics.deadLetter],
      opts.topicPrefix,
    );
    const letters = (records.get(topics.deadLetter) ?? [])
      .map((r) => DeadLetter.parse(JSON.parse(r.value)))
      .filter((l) => l.stage === 'broker');
    const readings = Object.values(topics.readings).flatMap((t) =>
      (records.get(t) ?? [])
        .filter((r) => !produced.has(`${t}:${r.partition}@${r.offset}`))
        .map((r) => ReadingRecord.parse(JSON.parse(r.value)).reading),
    );

    // Valid stream: every acknowledged reading is in Kafka.
    const validIds = new Set(validDevices.map((d) => d.id));
    const stored = readings
      .filter((r) => validIds.has(r.deviceId))
      .map((r) => `${r.kind}:${r.deviceId}#${r.seq}`);
    const storedSet = new Set(stored);
    const missing = [...stream.acked].filter((k) => !storedSet.has(k));
    for (const k of missing.slice(0, 10)) violate(`valid reading acknowledged but not in Kafka: ${k}`);
    if (letters.some((l) => l.clientId?.startsWith(stream.clientPrefix)))
      violate('a valid-stream reading was dead-lettered');

    const checked = checkInputs(observed, letters, readings, fuzzDevices, violate);
    if (letters.length < counts.rejected)
      violate(
        `broker counted ${counts.rejected} rejects but only ${letters.length} dead letters reached Kafka`,
      );
    const tooLarge = observed.filter((o) => o.input.expect.kind === 'packet-too-large').length;
    if ((counts.disconnects.PACKET_TOO_LARGE ?? 0) < tooLarge)
      violate(
        `${tooLarge} packets above the wire limit, the broker counted ${counts.disconnects.PACKET_TOO_LARGE ?? 0}`,
      );

    // The service families: wait for every expected effect (bounded), then check each input.
    say('waiting for the services to refuse the service inputs');
    const context = { watch, logs, pid: machi.pid, topics };
    const waitUntil = Date.now() + 90_000;
    while (pendingEffects(serviceObserved, context) > 0 && Date.now() < waitUntil) await sleep(1000);
    const services = checkServices(serviceObserved, context, violate);
    const retainedAfter = await retainedAcks(senders.office).catch((err: Error) => {
      violate(`checking for retained acknowledgements: ${err.message}`);
      return -1;
    });
    if (counts.retainCleared !== services.retained)
      violate(
        `${services.retained} retained acknowledgements sent, the broker cleared ${counts.retainCleared}`,
      );
    if (retainedAfter > 0) violate(`${retainedAfter} acknowledgements are retained on the broker`);

    say('probing: valid input after the garbage');
    const probeReport = await runProbe({
      config,
      mqttPort: opts.mqttPort,
      httpPort: opts.httpPort,
      probe,
      watch,
      logs,
      office: senders.office,
      seed: opts.seed,
      violate,
      say,
    }).catch((err: Error) => {
      violate(`probe: ${err.message}`);
      return undefined;
    });
    await closeSenders();

    let state = await liveness(opts.httpPort);
    const ready = (l: typeof state) =>
      l.healthz === 200 && l.readyz === 200 && Object.values(l.checks).every(Boolean);
    if (!ready(state) || machi.exit())
      violate(
        `machi all after the fuzzing: ${machi.exit() ?? `healthz ${state.healthz}, readyz ${state.readyz} ${JSON.stringify(state.checks)}`}`,
      );

    // Restarted, the alert service replays every garbage record on its topics: skipped, and up again.
    let restart: FuzzReport['services']['restart'];
    if (opts.restart !== false) {
      say('restarting machi all: the alert service replays the garbage');
      const stopped = Date.now();
      await stopChild(machi.child, 'SIGTERM', 30_000);
      const stopExit = machi.exit() ?? 'still running';
      machi = startMachiAll(env, logs);
      const up = await waitForStatus(`http://127.0.0.1:${opts.httpPort}/readyz`, 200, 180_000);
      const replayed = serviceObserved.flatMap((o) =>
        o.input.channel === 'kafka' && o.input.expect.alertsReplay && o.offset !== undefined
          ? [skippedKey(machi.pid, consumedTopic(topics, o.input.topic), o.partition ?? -1, o.offset)]
          : [],
      );
      const skipped = () => replayed.filter((k) => logs.skipped.has(k)).length;
      const replayUntil = Date.now() + 30_000;
      while (up && skipped() < replayed.length && Date.now() < replayUntil) await sleep(500);
      restart = {
        stopExit,
        readyAfterMs: up ? Date.now() - stopped : undefined,
        replaySkipped: skipped(),
        replayExpected: replayed.length,
      };
      if (!up) violate(`machi all did not become ready after a restart (${machi.exit() ?? 'running'})`);
      for (const k of replayed.filter((key) => !logs.skipped.has(key)).slice(0, 10))
        violate(`restart: the alert service did not skip garbage record ${k.split(' ')[1]} in its replay`);
      await sleep(3000);
      state = await liveness(opts.httpPort);
      if (!ready(state) || machi.exit())
        violate(
          `machi all after the restart: ${machi.exit() ?? `healthz ${state.healthz}, readyz ${state.readyz}`}`,
        );
    }
    await stopWatch();
    for (const line of logs.escaped.slice(0, 10))
      violate(`machi logged an error that escaped a handler: ${line}`);

    const byReason: Record<string, number> = {};
    for (const l of letters) byReason[l.reason] = (byReason[l.reason] ?? 0) + 1;
    const families: Record<string, number> = {};
    for (const o of observed) families[o.input.family] = (families[o.input.family] ?? 0) + 1;
    return {
      seed: opts.seed,
      seconds: opts.seconds,
      sent: observed.length,
      outcomes: checked.outcomes,
      families,
      deadLetters: { records: letters.length, byReason, brokerCounted: counts.rejected },
      valid: {
        sent: stream.sent(),
        acked: stream.acked.size,
        inKafka: storedSet.size,
        missing: missing.length,
        duplicates: stored.length - storedSet.size,
      },
      fuzzAcceptedAsValid: checked.acceptedAsValid,
      services: {
        sent: serviceObserved.length,
        ...services,
        retainCleared: { sent: services.retained, brokerCounted: counts.retainCleared, retainedAfter },
        probe: probeReport,
        restart,
        logErrors: Object.fromEntries(logs.errors),
        logSamples: logs.samples,
      },
      process: { alive: machi.exit() === undefined, exit: machi.exit(), ...state },
      broker: {
        alive,
        healthz,
        exit: machi.exit(),
        disconnects: counts.disconnects,
        authFailures: counts.authFailures,
      },
      violations: violations
        .slice(0, VIOLATIONS_KEPT)
        .concat(
          violations.length > VIOLATIONS_KEPT ? [`... and ${violations.length - VIOLATIONS_KEPT} more`] : [],
        ),
    };
  } finally {
    for (const close of closers) await close();
    await stopChild(machi.child, 'SIGTERM', 30_000);
  }
}

/** Acknowledgements a fresh subscriber gets as retained (the broker must keep none). */
async function retainedAcks(office: MqttClient): Promise<number> {
  let retained = 0;
  const onMessage = (_t: string, _p: Buffer, packet: { retain: boolean }) => {
    if (packet.retain) retained++;
  };
  office.on('message', onMessage);
  await within(office.subscribeAsync(mqttTopicNames.alertAcks, { qos: 1 }), 15_000, 'subscribing to acks');
  await sleep(1500);
  await within(office.unsubscribeAsync(mqttTopicNames.alertAcks), 15_000, 'unsubscribing from acks');
  office.off('message', onMessage);
  return retained;
}

/** One device of each vendor and kind keeps publishing valid readings; the rest are fuzzed. */
function pickValidDevices(registry: Device[]): Device[] {
  const chosen = new Map<string, Device>();
  for (const d of registry) {
    const key = `${d.kind}/${d.vendor}`;
    if (!chosen.has(key)) chosen.set(key, d);
  }
  return [...chosen.values()];
}

function validStream(config: Config, devices: Device[], opts: FuzzRunOptions) {
  const clientPrefix = `fzv${opts.seed % 1000}-`;
  // A device's client id must name it (the broker binds client ids to identities).
  const clientIds = devices.map((d) => `${clientPrefix}${d.id}`);
  const acked = new Set<string>();
  const outstanding: Promise<unknown>[] = [];
  const clients: MqttClient[] = [];
  const rng = new Rng(opts.seed ^ 0x5a5a);
  let running = true;
  let sent = 0;
  let drops = 0;
  let readyCount = 0;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  const loops = devices.map(async (d, i) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${config.mqtt.port}`, {
      username: d.id,
      password: demoSecret(d.id),
      clientId: clientIds[i],
      clean: false,
      reconnectPeriod: 500,
      connectTimeout: 10_000,
    });
    client.on('close', () => {
      if (running) drops++;
    });
    clients.push(client);
    if (++readyCount === devices.length) markReady();
    // lpwa-hex carries 16-bit sequence numbers: stay below 65,536.
    for (let seq = 0; running && seq < 65_536; seq++) {
      const message: DeviceMessage =
        seq % 5 === 4 ? 'heartbeat' : d.kind === 'flood-sensor' ? 'reading' : 'count';
      const reading = validReading(rng, d, message, seq, Date.now());
      sent++;
      outstanding.push(
        client.publishAsync(deviceTopic(d, message), encode(reading, d), { qos: 1 }).then(
          () => acked.add(`${reading.kind}:${d.id}#${seq}`),
          () => {},
        ),
      );
      await sleep(opts.validIntervalMs ?? 20);
    }
  });
  return {
    clientPrefix,
    clientIds,
    acked,
    ready,
    sent: () => sent,
    drops: () => drops,
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.race([Promise.all(outstanding), sleep(30_000)]);
      await Promise.all(clients.map((c) => within(c.endAsync(), 10_000, 'logout').catch(() => c.end(true))));
    },
  };
}

async function fuzz(
  opts: FuzzRunOptions,
  devices: Device[],
  registry: Device[],
  maxPayloadBytes: number,
  foreignClientIds: string[],
  say: (line: string) => void,
): Promise<Observed[]> {
  const inputs = fuzzInputs({
    seed: opts.seed,
    devices,
    registry,
    now: Date.now(),
    maxPayloadBytes,
    clientPrefix: `fz${opts.seed % 1000}-`,
    foreignClientIds,
  });
  const deadline = Date.now() + opts.seconds * 1000;
  const observed: Observed[] = [];
  let taken = 0;
  const lane = async () => {
    while (taken < opts.count && Date.now() < deadline) {
      taken++;
      const input = inputs.next().value;
      if (!input) return;
      observed.push(await throwAt(opts.mqttPort, input));
      if (observed.length % 500 === 0) say(`  ${observed.length} inputs sent`);
    }
  };
  await Promise.all(Array.from({ length: opts.lanes ?? 8 }, lane));
  return observed;
}

/** How long to wait for the broker's answer, by what the input expects. */
function waitFor(input: FuzzInput): { done: (r: RawReplies) => boolean; ms: number } {
  switch (input.expect.kind) {
    case 'dead-letter':
    case 'processed':
      return { done: (r) => r.acked.length > 0, ms: 15_000 };
    case 'not-authorized':
      return { done: (r) => r.acked.length > 0, ms: 5000 };
    case 'connect-refused':
      return { done: (r) => r.connack.length > 0, ms: 5000 };
    case 'subscribe':
      return { done: (r) => r.suback.length > 0, ms: 5000 };
    case 'packet-too-large':
      return { done: () => false, ms: 5000 };
    case 'will':
      return { done: () => true, ms: 0 };
    case 'malformed':
      // Mutations can leave a PUBLISH intact; its PUBACK ends the wait like any other.
      return { done: (r) => r.acked.length > 0, ms: input.expect.mustClose ? 5000 : 1500 };
  }
}

/** One input on its own TCP connection: log in if asked, send the bytes, see what comes back. */
async function throwAt(port: number, input: FuzzInput & { clientId: string }): Promise<Observed> {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = Buffer.alloc(0);
  /** Closed by the broker (before we said goodbye). */
  let closed = false;
  let ending = false;
  let wake: () => void = () => {};
  const gone = new Promise<void>((resolve) =>
    socket.on('close', () => {
      if (!ending) closed = true;
      wake();
      resolve();
    }),
  );
  socket.on('data', (chunk) => {
    received = Buffer.concat([received, chunk]);
    wake();
  });
  socket.on('error', () => {});
  const until = async (done: (r: RawReplies) => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!closed && !done(readReplies(received)) && Date.now() < deadline) {
      await Promise.race([new Promise<void>((r) => (wake = r)), sleep(Math.max(0, deadline - Date.now()))]);
    }
  };
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('error', () => resolve());
  });
  const finish = async (): Promise<void> => {
    if (!closed) {
      ending = true;
      socket.end(Buffer.from([0xe0, 0x00])); // DISCONNECT
      await Promise.race([gone, sleep(1000)]);
    }
    socket.destroy();
  };

  if (input.login) {
    socket.write(
      connectPacket({
        clientId: input.clientId,
        username: input.login,
        password: demoSecret(input.login),
        will: input.will,
      }),
    );
    await until((r) => r.connack.length > 0, 10_000);
    const code = readReplies(received).connack[0];
    if (code !== 0) {
      await finish();
      return { input, replies: readReplies(received), closed, loginRefused: code ?? -1 };
    }
    received = Buffer.alloc(0);
  }
  for (const p of input.packets) {
    if (!input.trickle) socket.write(p);
    else
      for (let i = 0; i < p.length && !closed; i++)
        await new Promise((r) => socket.write(p.subarray(i, i + 1), r));
  }
  const wait = waitFor(input);
  await until(wait.done, wait.ms);
  // A refused subscription must leave the connection up: give a close a moment to show.
  if (input.expect.kind === 'subscribe' || input.expect.kind === 'connect-refused') await sleep(100);
  const replies = readReplies(received);
  if (input.will)
    socket.destroy(); // no DISCONNECT: the broker publishes the will
  else await finish();
  return { input, replies, closed };
}

/** Checks each input's fate against its expectation; returns outcome counts. */
function checkInputs(
  observed: Observed[],
  letters: DeadLetter[],
  readings: Array<{ deviceId: string }>,
  fuzzDevices: Device[],
  violate: (what: string) => void,
) {
  const lettersOf = new Map<string, DeadLetter[]>();
  for (const l of letters) lettersOf.set(l.clientId ?? '', [...(lettersOf.get(l.clientId ?? '') ?? []), l]);
  const outcomes: Record<string, number> = {};
  const count = (o: string) => {
    outcomes[o] = (outcomes[o] ?? 0) + 1;
  };
  // Acknowledged without a dead letter: must be in Kafka as a valid reading, per device.
  const acceptedByDevice = new Map<string, number>();
  const tag = (o: Observed) => `#${o.input.index} ${o.input.family} (${o.input.clientId})`;

  for (const o of observed) {
    const { input, replies } = o;
    const mine = lettersOf.get(input.clientId) ?? [];
    const acked = replies.acked.length > 0;
    if (o.loginRefused !== undefined && input.expect.kind === 'connect-refused') {
      count(`refused at CONNECT: CONNACK ${o.loginRefused}`);
      continue;
    }
    if (o.loginRefused !== undefined) {
      violate(`${tag(o)}: the fuzzer's own login was refused (CONNACK ${o.loginRefused})`);
      count('setup failure: login refused');
      continue;
    }
    if (mine.length > 1) count('dead-lettered more than once');
    if (input.will)
      count(mine[0] ? `last will dead-lettered: ${mine[0].reason}` : 'last will not dead-lettered');
    else if (input.expect.kind === 'packet-too-large' && o.closed && !acked)
      count('refused at the wire: packet too large, disconnected');
    else if (acked) {
      if (mine.length > 0) count(`dead-lettered: ${mine[0]?.reason}`);
      else {
        count('accepted as a valid reading');
        if (input.login) acceptedByDevice.set(input.login, (acceptedByDevice.get(input.login) ?? 0) + 1);
      }
    } else if (replies.connack.length > 0 && replies.connack[0] !== 0)
      count(`refused at CONNECT: CONNACK ${replies.connack[0]}`);
    else if (replies.suback.includes(0x80)) count('refused at SUBSCRIBE: SUBACK 0x80');
    else if (replies.suback.length > 0) count('subscribed (own config topic)');
    else if (mine.length > 0 && mine[0]?.reason !== 'NOT_AUTHORIZED')
      count(`dead-lettered: ${mine[0]?.reason}, then closed for a protocol error before the PUBACK`);
    else if (mine.some((l) => l.reason === 'NOT_AUTHORIZED'))
      count('refused at PUBLISH by the ACL: NOT_AUTHORIZED, dead-lettered, disconnected');
    else if (o.closed) count('connection closed by the broker (protocol error)');
    else count('no answer (incomplete packet, broker waiting)');

    const e = input.expect;
    switch (e.kind) {
      case 'dead-letter': {
        const letter = mine[0];
        if (!acked) violate(`${tag(o)}: no PUBACK (closed: ${o.closed})`);
        else if (!letter)
          violate(`${tag(o)}: acknowledged but not dead-lettered (expected ${e.reasons.join('|')})`);
        else if (!e.reasons.includes(letter.reason))
          violate(
            `${tag(o)}: dead-lettered as ${letter.reason} (${letter.detail}), expected ${e.reasons.join('|')}`,
          );
        else if (
          input.publish &&
          !Buffer.from(letter.payloadBase64, 'base64').equals(
            input.publish.payload.subarray(0, DEAD_LETTER_KEPT_BYTES),
          )
        )
          violate(`${tag(o)}: the dead letter does not hold the payload as sent`);
        break;
      }
      case 'processed':
        if (!acked) violate(`${tag(o)}: no PUBACK (closed: ${o.closed})`);
        break;
      case 'not-authorized':
        if (acked) violate(`${tag(o)}: a publish outside the ACL was acknowledged`);
        else if (!o.closed) violate(`${tag(o)}: a publish outside the ACL left the connection up`);
        else if (!e.protocolError && !mine.some((l) => l.reason === 'NOT_AUTHORIZED'))
          violate(`${tag(o)}: refused without a NOT_AUTHORIZED dead letter`);
        break;
      case 'connect-refused':
        // With a login, getting this far means its CONNACK was 0 (refusals are counted above).
        if (input.login) violate(`${tag(o)}: logging in with another device's client id was accepted`);
        else if (replies.connack.includes(0)) violate(`${tag(o)}: a bad login was accepted`);
        else if (!replies.connack.some((c) => c === 4 || c === 5) && !o.closed)
          violate(`${tag(o)}: a bad login got neither a refusal nor a close`);
        break;
      case 'subscribe': {
        const want = e.granted ? 1 : 0x80;
        if (!replies.suback.includes(want))
          violate(`${tag(o)}: SUBACK ${replies.suback.join(',')}, expected ${want}`);
        if (o.closed) violate(`${tag(o)}: a subscription closed the connection`);
        break;
      }
      case 'packet-too-large':
        if (acked || !o.closed) violate(`${tag(o)}: a packet above the wire limit was not refused`);
        break;
      case 'will': {
        const letter = mine[0];
        if (!letter || !e.reasons.includes(letter.reason))
          violate(
            `${tag(o)}: last will dead-lettered as ${letter?.reason ?? 'nothing'}, expected ${e.reasons.join('|')}`,
          );
        break;
      }
      case 'malformed':
        if (!input.login && replies.connack.includes(0)) violate(`${tag(o)}: malformed CONNECT accepted`);
        if (e.mustClose && !o.closed) violate(`${tag(o)}: the broker kept a malformed connection open`);
    }
  }

  const fuzzIds = new Set(fuzzDevices.map((d) => d.id));
  const inKafka = new Map<string, number>();
  for (const r of readings)
    if (fuzzIds.has(r.deviceId)) inKafka.set(r.deviceId, (inKafka.get(r.deviceId) ?? 0) + 1);
  for (const [id, n] of acceptedByDevice) {
    if ((inKafka.get(id) ?? 0) < n)
      violate(`${id}: ${n} fuzzed inputs acknowledged as valid, ${inKafka.get(id) ?? 0} in Kafka`);
  }
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return { outcomes, acceptedAsValid: { acked: sum(acceptedByDevice), inKafka: sum(inKafka) } };
}

/** The broker's own counters (Prometheus text): rejected messages, disconnects and refused logins by reason. */
async function brokerCounts(httpPort: number) {
  const text = await fetch(`http://127.0.0.1:${httpPort}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const byReason = (metric: string) => {
    const out: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const m = new RegExp(`^${metric}\\{reason="([A-Z0-9_]+)"\\} (\\d+)`).exec(line);
      if (m?.[1]) out[m[1]] = Number(m[2]);
    }
    return out;
  };
  const rejected = byReason('machi_broker_messages_rejected_total');
  const retainCleared = Number(/^machi_broker_retain_cleared_total (\d+)/m.exec(text)?.[1] ?? 0);
  return {
    rejected: Object.values(rejected).reduce((a, b) => a + b, 0),
    retainCleared,
    disconnects: byReason('machi_broker_disconnects_total'),
    authFailures: byReason('machi_broker_auth_failures_total'),
  };
}

interface Stored {
  partition: number;
  offset: string;
  value: string;
}

/** Every record of `topics` up to the end offsets as of now, via a consumer group of its own. */
async function readAll(kafka: Kafka, topics: string[], prefix: string): Promise<Map<string, Stored[]>> {
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, number>(); // topic:partition -> last offset still to read
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (Number(p.high) > Number(p.low)) remaining.set(`${topic}:${p.partition}`, Number(p.high) - 1);
    }
  }
  await admin.disconnect();
  const out = new Map<string, Stored[]>(topics.map((t) => [t, []]));
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `${prefix}-check-${Date.now().toString(36)}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let wake: () => void = () => {};
  const done = new Promise<void>((r) => {
    wake = r;
  });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      out.get(topic)?.push({ partition, offset: message.offset, value: String(message.value) });
      const key = `${topic}:${partition}`;
      if (Number(message.offset) >= (remaining.get(key) ?? Number.POSITIVE_INFINITY)) {
        remaining.delete(key);
        if (remaining.size === 0) wake();
      }
    },
  });
  await Promise.race([done, sleep(120_000)]);
  await consumer.disconnect();
  if (remaining.size > 0)
    throw new Error(`Kafka read-back timed out; unread: ${[...remaining.keys()].join(', ')}`);
  return out;
}

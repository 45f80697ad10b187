// Sends the service families (bench/lib/fuzz-services.ts) at a running `machi all` and checks each
// input against what it expected: acknowledgements published as the office, records produced
// straight to Kafka, requests over raw sockets. What the services did is read back from the
// dead-letter topic, the alert topics and the process's log (bench/lib/fuzz-machi.ts).
import { createHash } from 'node:crypto';
import { type Kafka, Partitioners } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { stampAck } from '../../src/broker/ack-stamp.ts';
import type { KafkaTopics } from '../../src/bus/topics.ts';
import { AlertAck, AlertEvent } from '../../src/schemas/alerts.ts';
import { DEAD_LETTER_KEPT_BYTES, DeadLetter } from '../../src/schemas/dead-letter.ts';
import { ROLE_USERS } from '../../src/schemas/topics.ts';
import { type RawResponse, sendRaw } from './fuzz-http-wire.ts';
import { type LogWatch, skippedKey, within } from './fuzz-machi.ts';
import type { Consumed } from './fuzz-records.ts';
import type { ServiceInput } from './fuzz-services.ts';

/** The alert service keeps this much of a refused payload in its dead letter (src/alerts/component.ts). */
const HTTP_TIMEOUT_MS = 15_000;

export interface ServiceObserved {
  input: ServiceInput;
  /** ack: the broker's PUBACK came. */
  acked?: boolean;
  /** kafka: where the record landed. */
  partition?: number;
  offset?: string;
  /** ack or kafka: the send itself failed. */
  error?: string;
  /** http: the answer. */
  response?: RawResponse;
}

export function consumedTopic(topics: KafkaTopics, suffix: Consumed): string {
  const names: Record<Consumed, string> = {
    'readings.flood': topics.readings.flood,
    'readings.crowd': topics.readings.crowd,
    'readings.heartbeat': topics.readings.heartbeat,
    'device.health': topics.deviceHealth,
    'alerts.events': topics.alertEvents,
    'alerts.acks': topics.alertAcks,
  };
  return names[suffix];
}

// ---- reading back ----

/** Dead letters of the worker and the alert service, and the alert trail, as they arrive. */
export interface KafkaWatch {
  letters: DeadLetter[];
  events: AlertEvent[];
  acks: AlertAck[];
  stop(): Promise<void>;
}

export async function watchKafka(kafka: Kafka, topics: KafkaTopics, groupId: string): Promise<KafkaWatch> {
  const watch: KafkaWatch = { letters: [], events: [], acks: [], stop: async () => {} };
  const consumer = kafka.consumer({ groupId, maxBytes: 64 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({
    topics: [topics.deadLetter, topics.alertEvents, topics.alertAcks],
    fromBeginning: true,
  });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      let json: unknown;
      try {
        json = JSON.parse(String(message.value));
      } catch {
        return; // the fuzzer's own garbage on the alert topics
      }
      if (topic === topics.deadLetter) {
        const letter = DeadLetter.safeParse(json);
        if (letter.success && letter.data.stage !== 'broker') watch.letters.push(letter.data);
      } else if (topic === topics.alertEvents) {
        const event = AlertEvent.safeParse(json);
        if (event.success) watch.events.push(event.data);
      } else {
        const ack = AlertAck.safeParse(json);
        if (ack.success) watch.acks.push(ack.data);
      }
    },
  });
  watch.stop = () => consumer.disconnect();
  return watch;
}

// ---- sending ----

export interface ServiceSenders {
  office: MqttClient;
  send(input: ServiceInput): Promise<ServiceObserved>;
  close(): Promise<void>;
}

export async function serviceSenders(opts: {
  mqttPort: number;
  httpPort: number;
  officePassword: string;
  kafka: Kafka;
  topics: KafkaTopics;
  clientId: string;
}): Promise<ServiceSenders> {
  const office = await within(
    mqtt.connectAsync(`mqtt://127.0.0.1:${opts.mqttPort}`, {
      username: 'office',
      password: opts.officePassword,
      clientId: opts.clientId,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    }),
    60_000,
    'the office login',
  );
  office.on('error', () => {});
  const producer = opts.kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();

  async function send(input: ServiceInput): Promise<ServiceObserved> {
    if (input.channel === 'ack') {
      try {
        await within(
          office.publishAsync(input.topic, input.payload, { qos: 1, retain: input.retain }),
          15_000,
          'PUBACK',
        );
        return { input, acked: true };
      } catch (err) {
        return { input, acked: false, error: (err as Error).message };
      }
    }
    if (input.channel === 'kafka') {
      try {
        const [meta] = await within(
          producer.send({
            topic: consumedTopic(opts.topics, input.topic),
            acks: -1,
            messages: [{ key: input.key, value: input.value, headers: input.headers }],
          }),
          30_000,
          'produce',
        );
        return { input, partition: meta?.partition, offset: meta?.baseOffset };
      } catch (err) {
        return { input, error: (err as Error).message.slice(0, 200) };
      }
    }
    return { input, response: await sendRaw(opts.httpPort, input.request, HTTP_TIMEOUT_MS) };
  }

  return {
    office,
    send,
    async close() {
      await producer.disconnect();
      await within(office.endAsync(), 10_000, 'the office logout').catch(() => office.end(true));
    },
  };
}

/** Throws inputs from `inputs` at the services on `lanes` concurrent lanes, until `count` or the deadline. */
export async function fuzzServices(opts: {
  inputs: Generator<ServiceInput>;
  count: number;
  deadline: number;
  lanes: number;
  senders: ServiceSenders;
  say: (line: string) => void;
}): Promise<ServiceObserved[]> {
  const observed: ServiceObserved[] = [];
  let taken = 0;
  const lane = async () => {
    while (taken < opts.count && Date.now() < opts.deadline) {
      taken++;
      const input = opts.inputs.next().value;
      if (!input) return;
      observed.push(await opts.senders.send(input));
      if (observed.length % 500 === 0) opts.say(`  ${observed.length} service inputs sent`);
    }
  };
  await Promise.all(Array.from({ length: opts.lanes }, lane));
  return observed.sort((a, b) => a.input.index - b.input.index);
}

// ---- checking ----

/** The fuzzer logs in with the demo's shared office login: the broker stamps acks with its name. */
const OFFICE: Parameters<typeof stampAck>[1] = {
  role: 'office',
  user: ROLE_USERS.office,
  officeRole: 'operator',
};
/** An ack as the alert service received it (stamped by the broker), matched by topic and hash. */
const sentAckKey = (topic: string, payload: Buffer) =>
  `${topic}\n${createHash('sha256').update(stampAck(payload, OFFICE)).digest('hex')}`;
const letterAckKey = (l: DeadLetter) => `${l.mqttTopic ?? ''}\n${l.payloadSha256 ?? ''}`;
const sourceKey = (stage: string, topic: string, partition: number, offset: string) =>
  `${stage} ${topic}:${partition}@${offset}`;

function countBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

export interface ServiceCheckContext {
  watch: KafkaWatch;
  logs: LogWatch;
  /** The `machi all` process the inputs went to (its log lines carry its pid). */
  pid: number;
  topics: KafkaTopics;
}

/** Inputs whose expected effect has not shown yet; the run waits for this to reach zero. */
export function pendingEffects(observed: ServiceObserved[], c: ServiceCheckContext): number {
  const letters = new Set(
    c.watch.letters.map((l) =>
      l.source ? sourceKey(l.stage, l.source.topic, l.source.partition, l.source.offset) : letterAckKey(l),
    ),
  );
  let pending = 0;
  for (const o of observed) {
    const i = o.input;
    if (i.channel === 'ack' && o.acked) {
      if (i.expect.kind === 'ack-refused' && !letters.has(sentAckKey(i.topic, i.payload))) pending++;
      if (i.expect.kind === 'ack-ignored' && !c.logs.ignoredAcks.has(i.expect.alertId)) pending++;
    }
    if (i.channel === 'kafka' && o.offset !== undefined && o.partition !== undefined) {
      const topic = consumedTopic(c.topics, i.topic);
      if (i.expect.worker && !letters.has(sourceKey('worker', topic, o.partition, o.offset))) pending++;
      if (i.expect.outbox && !letters.has(sourceKey('alerts', topic, o.partition, o.offset))) pending++;
      if (i.expect.alertsLive && !c.logs.skipped.has(skippedKey(c.pid, topic, o.partition, o.offset)))
        pending++;
    }
  }
  return pending;
}

export interface ServiceChecks {
  outcomes: Record<string, number>;
  families: Record<string, number>;
  byChannel: Record<string, number>;
  deadLetters: { worker: number; alerts: number; byReason: Record<string, number> };
  http: { statuses: Record<string, number>; slowestMs: number };
  retained: number;
}

/** Checks each input against its expectation; returns outcome counts. */
export function checkServices(
  observed: ServiceObserved[],
  c: ServiceCheckContext,
  violate: (what: string) => void,
): ServiceChecks {
  const outcomes: Record<string, number> = {};
  const families: Record<string, number> = {};
  const byChannel: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const count = (m: Record<string, number>, k: string) => {
    m[k] = (m[k] ?? 0) + 1;
  };
  const ackLetters = countBy(
    c.watch.letters.filter((l) => l.stage === 'alerts' && l.mqttTopic !== undefined),
    (l) => letterAckKey(l),
  );
  const sourced = countBy(
    c.watch.letters.filter((l) => l.source),
    (l) => sourceKey(l.stage, l.source?.topic ?? '', l.source?.partition ?? -1, l.source?.offset ?? ''),
  );
  const ignoredLeft = new Map(c.logs.ignoredAcks);
  /** Records the worker never dead-lettered, in the order they were sent. */
  const workerMissed: string[] = [];
  const acknowledged = new Set(c.watch.acks.map((a) => a.alertId));
  let slowestMs = 0;
  let retained = 0;

  for (const o of observed) {
    const i = o.input;
    const tag = `service #${i.index} ${i.family}`;
    count(families, i.family);
    count(byChannel, i.channel);
    if (i.channel === 'ack') {
      if (i.retain) retained++;
      if (!o.acked) {
        violate(`${tag} on ${i.topic}: the broker did not acknowledge the office's publish (${o.error})`);
        count(outcomes, 'ack: not acknowledged by the broker');
        continue;
      }
      const e = i.expect;
      if (e.kind === 'ack-refused') {
        const letter = ackLetters.get(sentAckKey(i.topic, i.payload))?.shift();
        if (!letter) {
          violate(`${tag} on ${i.topic}: not dead-lettered (expected ${e.reasons.join('|')})`);
          count(outcomes, 'ack: NOT dead-lettered');
        } else if (!e.reasons.includes(letter.reason)) {
          violate(
            `${tag}: dead-lettered as ${letter.reason} (${letter.detail}), expected ${e.reasons.join('|')}`,
          );
          count(outcomes, `ack: dead-lettered as ${letter.reason} (unexpected)`);
        } else count(outcomes, `ack: dead-lettered (stage alerts): ${letter.reason}`);
      } else {
        const left = ignoredLeft.get(e.alertId) ?? 0;
        ignoredLeft.set(e.alertId, left - 1);
        if (left <= 0) violate(`${tag}: no log line for the acknowledgement of unknown alert ${e.alertId}`);
        else if (acknowledged.has(e.alertId))
          violate(`${tag}: unknown alert ${e.alertId} recorded as acknowledged`);
        else count(outcomes, 'ack: well-formed, no open alert of that id: no action, logged');
        if (ackLetters.get(sentAckKey(i.topic, i.payload))?.length)
          violate(`${tag}: a well-formed acknowledgement was dead-lettered`);
      }
      continue;
    }
    if (i.channel === 'kafka') {
      if (o.offset === undefined || o.partition === undefined) {
        count(outcomes, `kafka: refused by Kafka itself (${o.error?.slice(0, 60)})`);
        continue;
      }
      const topic = consumedTopic(c.topics, i.topic);
      const at = `${i.topic}:${o.partition}@${o.offset}`;
      const e = i.expect;
      const seen: string[] = [];
      if (e.worker) {
        const letter = sourced.get(sourceKey('worker', topic, o.partition, o.offset))?.[0];
        const value = i.value ?? Buffer.alloc(0);
        const kept = letter ? Buffer.from(letter.payloadBase64, 'base64') : Buffer.alloc(0);
        if (!letter) workerMissed.push(`${tag} at ${at} (${i.value?.length ?? 'null'} bytes)`);
        else if (letter.reason !== 'RECORD_INVALID')
          violate(`${tag} at ${at}: worker dead letter ${letter.reason}`);
        // Its first KiB, its length and its hash: enough to find the record, never a dead letter over Kafka's limit.
        else if (
          !kept.equals(value.subarray(0, DEAD_LETTER_KEPT_BYTES)) ||
          letter.payloadBytes !== value.length ||
          letter.payloadSha256 !== createHash('sha256').update(value).digest('hex')
        )
          violate(`${tag} at ${at}: the worker's dead letter does not hold the record`);
        else seen.push('worker dead letter');
      }
      if (e.outbox) {
        const letter = sourced.get(sourceKey('alerts', topic, o.partition, o.offset))?.[0];
        if (!letter) violate(`${tag} at ${at}: the alert outputs did not dead-letter it`);
        else if (letter.reason !== 'RECORD_INVALID')
          violate(`${tag} at ${at}: alert outputs' dead letter ${letter.reason}`);
        else seen.push('alert outputs dead letter');
      }
      const skipped = c.logs.skipped.has(skippedKey(c.pid, topic, o.partition, o.offset));
      if (e.alertsLive && !skipped) violate(`${tag} at ${at}: the alert service did not log it as skipped`);
      if (!e.alertsLive && skipped)
        violate(`${tag} at ${at}: the alert service skipped a record it should not read`);
      if (e.alertsLive && skipped) seen.push('alerts skipped');
      count(outcomes, `kafka ${i.topic}: ${seen.join(' + ') || 'ignored live (read at start-up)'}`);
      continue;
    }
    const r = o.response as RawResponse;
    slowestMs = Math.max(slowestMs, r.ms);
    const problem = httpProblem(i.expect, r, i.summary.startsWith('HEAD '));
    count(statuses, r.status === undefined ? 'none' : String(r.status));
    if (problem) {
      violate(`${tag} ${i.summary}: ${problem}`);
      count(outcomes, `http: ${problem.replace(/[\d,]+ ms/, 'n ms').slice(0, 60)}`);
    } else count(outcomes, `http: ${httpOutcome(r, i.summary.startsWith('HEAD '))}`);
  }
  // One stuck record stops the worker on every partition: name the first few, then how many.
  for (const missed of workerMissed.slice(0, 5)) violate(`${missed}: the worker did not dead-letter it`);
  if (workerMissed.length > 5) {
    const expected = observed.filter(
      (o) => o.input.channel === 'kafka' && o.input.expect.worker && o.offset !== undefined,
    ).length;
    violate(
      `the worker dead-lettered ${expected - workerMissed.length} of ${expected} garbage records (${workerMissed.length - 5} more missed)`,
    );
  }
  const byReason: Record<string, number> = {};
  for (const l of c.watch.letters) count(byReason, `${l.stage} ${l.reason}`);
  return {
    outcomes,
    families,
    byChannel,
    deadLetters: {
      worker: c.watch.letters.filter((l) => l.stage === 'worker').length,
      alerts: c.watch.letters.filter((l) => l.stage === 'alerts').length,
      byReason,
    },
    http: { statuses, slowestMs },
    retained,
  };
}

function jsonCode(r: RawResponse): string | undefined {
  try {
    const code = (JSON.parse(r.body.toString('utf8')) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function httpOutcome(r: RawResponse, head: boolean): string {
  if (r.status === undefined) return 'closed after the route answered (broken framing)';
  if (r.status === 101) return '101, then closed on a bad frame';
  if (head) return `${r.status} to HEAD (no body)`;
  const code = jsonCode(r);
  return `${r.status}${code ? ` ${code}` : r.status >= 400 ? ' (text reason from ws)' : ''}`;
}

/** Why an answer breaks the rules (none: undefined): an answer in time, never 5xx, a reason with every refusal. */
export function httpProblem(
  e: import('./fuzz-http.ts').HttpExpect,
  r: RawResponse,
  head: boolean,
): string | undefined {
  if (r.status === 101 && e.closeAfterUpgrade && !r.closed)
    return `the upgraded connection stayed open ${r.ms} ms after a bad frame`;
  if (r.timedOut) return `no answer within ${r.ms} ms`;
  if (r.status === undefined)
    return r.closed && e.mayCloseUnanswered ? undefined : 'connection closed without an answer';
  if (r.status >= 500) return `answered ${r.status} (a server error)`;
  if (!e.statuses.includes(r.status)) return `answered ${r.status}, expected ${e.statuses.join('|')}`;
  if (r.status >= 400 && !head) {
    if (e.text) return r.body.length > 0 ? undefined : `${r.status} without a reason`;
    const code = jsonCode(r);
    if (!code || !/^MACHI_ERR_[A-Z_]+$/.test(code)) return `${r.status} without a MACHI_ERR_ code`;
    if (e.code && code !== e.code) return `${r.status} ${code}, expected ${e.code}`;
  }
  return undefined;
}

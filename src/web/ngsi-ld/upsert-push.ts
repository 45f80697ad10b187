// The push side of NGSI-LD: machi's entities upserted to the city's context broker
// (POST /ngsi-ld/v1/entityOperations/upsert, upsert-client.ts), in batches of at most the configured
// size, in Kafka order. Two feeds: every real flood reading's FloodMonitoring entity (readings
// topic), and every public transition of a real flood alert as its Alert entity (the alert audit
// trail); drills never. Each reads its topic in a consumer group of its own whose offsets are
// committed only after the broker took the batch, so after the broker (or machi) was down it
// catches up from where it stopped.

import { ensureTopics, startGroupAtEndIfNew } from '../../bus/admin.ts';
import { groupMembership, IDLE_TOPIC_CONSUMER, runBatches } from '../../bus/consumer.ts';
import { createKafka } from '../../bus/kafka.ts';
import { kafkaTopics } from '../../bus/topics.ts';
import type { Config } from '../../config/config.ts';
import type { BackoffOptions } from '../../lib/retry.ts';
import type { Registry } from '../../registry/schema.ts';
import type { Runtime } from '../../runtime/component.ts';
import { AlertEvent } from '../../schemas/alerts.ts';
import { ReadingRecord } from '../../schemas/readings.ts';
import { floodSensorView } from '../api/source.ts';
import { alert, floodMonitoring, urn } from './entities.ts';
import { normalized, type Rendered } from './model.ts';
import { CONTEXT_PATH } from './plugin.ts';
import { UpsertClient, type UpsertTarget } from './upsert-client.ts';

const parseJson = (value: Buffer | null): unknown => JSON.parse(value?.toString('utf8') ?? '');

/** The entity of one readings record, or undefined: not a real flood reading of a registry sensor. */
export function entityOfRecord(registry: Registry, value: Buffer | null): Rendered | undefined {
  let record: ReadingRecord;
  try {
    record = ReadingRecord.parse(parseJson(value));
  } catch {
    return undefined; // the workers dead-letter bad records; nothing to push
  }
  const r = record.reading;
  if (record.drill || r.kind !== 'flood') return undefined;
  const latest = { time: r.time, wet: r.wet, stage: r.stage ?? null, depthCm: r.depthCm ?? null };
  const view = floodSensorView(registry, r.deviceId, latest, null);
  const entity = view && floodMonitoring(view);
  return entity && normalized(entity);
}

/**
 * The Alert entity of one audit-trail record, as an update of what the broker holds (attributes
 * not sent are kept), or undefined: a drill, an acknowledgement (internal), a watch opening or
 * re-notified (internal: a single sensor), or not an alert event (the alerts service dead-letters).
 */
export function alertEntityOfRecord(registry: Registry, value: Buffer | null): Rendered | undefined {
  let e: AlertEvent;
  try {
    e = AlertEvent.parse(parseJson(value));
  } catch {
    return undefined;
  }
  if (e.drill || e.transition === 'acknowledged') return undefined;
  const ending = e.transition === 'cleared' || e.transition === 'de-escalated';
  if (e.level === 'watch' && !ending) return undefined;
  const trigger = e.cause.find((c) => c.wet && !c.silent) ?? e.cause[0];
  const severityChanged = e.transition !== 're-notified' && e.transition !== 'cleared';
  const entity = alert(
    {
      id: e.alertId,
      areaId: e.areaId,
      level: e.level,
      drill: false,
      issuedAt: e.time,
      modifiedAt: e.time,
      ...(severityChanged ? { validFrom: e.time } : {}),
      ...(e.transition === 'cleared' ? { validTo: e.time } : {}),
      // Unknown (a clear restored after a restart names none): the broker keeps the one it has.
      source: trigger && urn('FloodMonitoring', trigger.deviceId),
    },
    registry,
  );
  return normalized(entity);
}

/** Where the broker fetches the @context the Link header names: machi's public origin. */
export function pushContextUrl(config: Pick<Config, 'api' | 'http'>): string {
  const { host, port, tls } = config.http;
  const local = `${tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  return `${(config.api.publicUrl ?? local).replace(/\/$/, '')}${CONTEXT_PATH}`;
}

/** Where to push, in batches of at most `batch`; `backoff` between tries (the client's own by default). */
export interface PushTarget {
  url: string;
  batch: number;
  backoff?: BackoffOptions;
}

interface Feed {
  name: string;
  /** Its consumer group's suffix: stable across restarts, so a restarted machi resumes where it stopped. */
  group: string;
  topic: string;
  mode?: UpsertTarget['mode'];
  entityOf(value: Buffer | null): Rendered | undefined;
}

function startFeed(
  runtime: Runtime,
  feed: Feed,
  target: PushTarget,
): { joined(): boolean; stop(): Promise<void> } {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'ngsi-ld-push', feed: feed.name });
  const kafka = createKafka(config, log, `ngsi-ld-push-${feed.name}`);
  const groupId = `${config.kafka.clientId}.${config.kafka.topicPrefix}.${feed.group}`;
  // Both topics are quiet for minutes at a time (alert transitions, sensors' reports): a stop need
  // not wait 5 s for an idle fetch to return.
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    ...IDLE_TOPIC_CONSUMER,
  });
  const client = new UpsertClient(
    { url: target.url, context: pushContextUrl(config), ...(feed.mode ? { mode: feed.mode } : {}) },
    log,
    target.backoff,
  );
  const stopping = new AbortController();
  // Ready once in its group: nothing written since the start is missed (a new group starts at the
  // end as it was then, not wherever the end is by its first fetch).
  const membership = groupMembership(consumer);

  const done = (async () => {
    await ensureTopics(kafka, config);
    await startGroupAtEndIfNew(kafka, groupId, feed.topic);
    await consumer.connect();
    await consumer.subscribe({ topics: [feed.topic] });
    await runBatches(consumer, { chunkSize: target.batch, concurrency: 1 }, async (batch, ctx) => {
      const entities = batch.messages.flatMap((m): Rendered[] => {
        const e = feed.entityOf(m.value);
        return e ? [e] : [];
      });
      if (entities.length === 0) return;
      const keepAlive = setInterval(() => void ctx.heartbeat().catch(() => {}), 2000);
      try {
        // Rejects unless the broker took the batch: then runBatches commits nothing.
        await client.deliver(entities, stopping.signal, ctx.active);
      } finally {
        clearInterval(keepAlive);
      }
    });
  })().catch((err) => log.error({ err: (err as Error).message }, 'ngsi-ld push did not start'));

  return {
    joined: () => membership.joined(),
    async stop() {
      await done;
      // The abandoned batch's handler rejects, so it is never committed; leaving the group first
      // also keeps kafkajs from fetching it again before the consumer is gone.
      const left = consumer.disconnect();
      stopping.abort();
      await left;
    },
  };
}

export function startUpsertPush(
  runtime: Runtime,
  registry: Registry,
  target: PushTarget,
): { stop(): Promise<void> } {
  const topics = kafkaTopics(runtime.config.kafka.topicPrefix);
  if (!runtime.config.api.publicUrl)
    runtime.log.warn(
      { context: pushContextUrl(runtime.config) },
      'MACHI_PUBLIC_URL is not set: a context broker on another host cannot fetch the @context',
    );
  const feeds = [
    startFeed(
      runtime,
      {
        name: 'flood',
        group: 'ngsi-ld-upsert',
        topic: topics.readings.flood,
        entityOf: (v) => entityOfRecord(registry, v),
      },
      target,
    ),
    startFeed(
      runtime,
      {
        name: 'alerts',
        group: 'ngsi-ld-upsert-alerts',
        topic: topics.alertEvents,
        mode: 'update',
        entityOf: (v) => alertEntityOfRecord(registry, v),
      },
      target,
    ),
  ];
  runtime.readiness.ngsiLdPush = () => feeds.every((f) => f.joined());
  return { stop: async () => void (await Promise.all(feeds.map((f) => f.stop()))) };
}

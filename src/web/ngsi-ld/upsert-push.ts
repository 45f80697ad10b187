// The push side of NGSI-LD: every real flood reading's FloodMonitoring entity is upserted to the
// city's context broker (POST /ngsi-ld/v1/entityOperations/upsert), in batches of at most the
// configured size, in Kafka order. It reads the readings topic in a consumer group of its own whose
// offsets are committed only after the broker took the batch, so after the broker (or machi) was
// down it catches up from where it stopped; a batch the broker refuses as invalid is logged and
// passed over, anything else is retried until it goes through.

import { ensureTopics } from '../../bus/admin.ts';
import { groupMembership, runBatches } from '../../bus/consumer.ts';
import { createKafka } from '../../bus/kafka.ts';
import { kafkaTopics } from '../../bus/topics.ts';
import { retry } from '../../lib/retry.ts';
import type { Registry } from '../../registry/schema.ts';
import type { Runtime } from '../../runtime/component.ts';
import { ReadingRecord } from '../../schemas/readings.ts';
import { floodSensorView } from '../api/source.ts';
import { floodMonitoring } from './entities.ts';
import { normalized, type Rendered } from './model.ts';
import { CONTEXT_PATH } from './plugin.ts';

/** How long one POST may take before it counts as failed (and is tried again). */
const POST_TIMEOUT_MS = 10_000;

/** The entity of one Kafka record, or undefined: not a real flood reading of a registry sensor. */
export function entityOfRecord(registry: Registry, value: Buffer | null): Rendered | undefined {
  let record: ReadingRecord;
  try {
    record = ReadingRecord.parse(JSON.parse(value?.toString('utf8') ?? ''));
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

class Refused extends Error {}

export function startUpsertPush(
  runtime: Runtime,
  registry: Registry,
  target: { url: string; batch: number },
): { stop(): Promise<void> } {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'ngsi-ld-push' });
  const kafka = createKafka(config, log, 'ngsi-ld-push');
  const consumer = kafka.consumer({
    // Stable across restarts, one per topic prefix: a restarted machi resumes where it stopped.
    groupId: `${config.kafka.clientId}.${config.kafka.topicPrefix}.ngsi-ld-upsert`,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  const endpoint = new URL(
    'ngsi-ld/v1/entityOperations/upsert',
    target.url.endsWith('/') ? target.url : `${target.url}/`,
  );
  const origin = config.api.publicUrl ?? `http://${config.http.host}:${config.http.port}`;
  const context = `${origin.replace(/\/$/, '')}${CONTEXT_PATH}`;
  const stopping = new AbortController();
  // Ready once in its group: from then on no reading is missed (a new group starts at the end).
  const membership = groupMembership(consumer);
  runtime.readiness.ngsiLdPush = () => membership.joined();

  async function post(entities: Rendered[]): Promise<void> {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        link: `<${context}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
      },
      body: JSON.stringify(entities),
      redirect: 'error',
      signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
    });
    await res.arrayBuffer().catch(() => undefined);
    // 201/204: created or updated; 207: some entities failed, which trying again would not change.
    if (res.status === 201 || res.status === 204 || res.status === 207) return;
    if (res.status === 400 || res.status === 413 || res.status === 422)
      throw new Refused(`HTTP ${res.status}`);
    throw new Error(`HTTP ${res.status}`);
  }

  const done = (async () => {
    await ensureTopics(kafka, config);
    await consumer.connect();
    await consumer.subscribe({ topics: [kafkaTopics(config.kafka.topicPrefix).readings.flood] });
    await runBatches(consumer, { chunkSize: target.batch, concurrency: 1 }, async (batch, ctx) => {
      const entities = batch.messages.flatMap((m): Rendered[] => {
        const e = entityOfRecord(registry, m.value);
        return e ? [e] : [];
      });
      if (entities.length === 0) return;
      const keepAlive = setInterval(() => void ctx.heartbeat().catch(() => {}), 2000);
      try {
        await retry(() => post(entities), {
          initialMs: 500,
          maxMs: 10_000,
          jitter: 0.2,
          signal: stopping.signal,
          retriable: (err) => !(err instanceof Refused) && ctx.active(),
          onRetry: (err) =>
            log.warn({ err: (err as Error).message, entities: entities.length }, 'upsert failed, retrying'),
        });
      } catch (err) {
        // Stopping, or the partition moved to another member: returning uncommitted hands it on.
        if (!(err instanceof Refused)) return;
        log.error(
          { err: err.message, entities: entities.length },
          'context broker refused a batch: passed over',
        );
      } finally {
        clearInterval(keepAlive);
      }
    });
  })().catch((err) => log.error({ err: (err as Error).message }, 'ngsi-ld push did not start'));

  return {
    async stop() {
      stopping.abort();
      await done;
      await consumer.disconnect();
    },
  };
}

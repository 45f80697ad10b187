// The open-data tests' world: machi's real broker and web component, against real Kafka and an
// InfluxDB database of the run's own, filled with real points under the project's measurement
// names, the signs' retained congestion, retained active alerts and audit-trail events in Kafka.
import { Point } from '@influxdata/influxdb-client';
import type { MqttClient } from 'mqtt';
import { ensureTopics } from '../../src/bus/admin.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import type { ActiveAlerts, AlertEvent } from '../../src/schemas/alerts.ts';
import { topics } from '../../src/schemas/topics.ts';
import { MEASUREMENTS } from '../../src/store/measurements.ts';
import { webComponent } from '../../src/web/component.ts';
import { congestion } from '../browser/sign-layout.ts';
import { config, testInflux, testKafka, uniqueName } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

export const QUARTER = 15 * 60_000;
export const registry = loadRegistry('devices');

/** InfluxDB 1.8's query endpoint (the stack's InfluxDB): databases are its buckets. */
async function influxQl(q: string): Promise<void> {
  const res = await fetch(`${config.influx.url}/query`, {
    method: 'POST',
    headers: {
      authorization: `Token ${config.influx.token}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ q }),
  });
  if (!res.ok) throw new Error(`InfluxDB refused ${q}: ${res.status} ${await res.text()}`);
}

export interface OpenDataWorld {
  h: BrokerHarness;
  bucket: string;
  /** The last complete quarter hour written (ms). */
  lastQuarter: number;
  /** 12 quarters of the library's counts, oldest first. */
  libraryCounts: number[];
  stop(): Promise<void>;
}

export function alertEvent(over: Partial<AlertEvent>): AlertEvent {
  return {
    v: 1,
    alertId: 'a-1',
    areaId: 'takeo-town',
    level: 'warning',
    transition: 'raised',
    time: new Date().toISOString(),
    rule: 'corroborated',
    cause: [],
    actor: 'machi-alerts',
    drill: false,
    acknowledged: false,
    ...over,
  };
}

export async function startOpenDataWorld(env: Record<string, string> = {}): Promise<OpenDataWorld> {
  const bucket = uniqueName('machi_open').replaceAll('-', '_');
  await influxQl(`CREATE DATABASE "${bucket}"`);
  const now = Date.now();
  const lastQuarter = Math.floor(now / QUARTER) * QUARTER - QUARTER;
  const libraryCounts = Array.from({ length: 12 }, (_, i) => 40 + i * 5);
  const points: Point[] = [];
  libraryCounts.forEach((people, i) => {
    const t = lastQuarter - (11 - i) * QUARTER;
    points.push(
      new Point(MEASUREMENTS.crowd15m.name)
        .tag('site', 'library')
        .intField('people', people)
        .intField('people_out', 3)
        .intField('cameras', 1)
        .timestamp(t),
      // The forecast issued a step (and an hour) before: 10 too high, so its error is known.
      new Point(MEASUREMENTS.forecast.name)
        .tag('site', 'library')
        .tag('horizon', '1')
        .floatField('forecast', people + 10)
        .timestamp(t),
      new Point(MEASUREMENTS.forecast.name)
        .tag('site', 'library')
        .tag('horizon', '4')
        .floatField('forecast', people - 20)
        .timestamp(t),
    );
  });
  // fs-takeo-004: an older wet reading at stage 2, then the newest one dry at stage 0; and a drill
  // reading newer still, which the public never sees.
  points.push(
    new Point(MEASUREMENTS.flood.name)
      .tag('device', 'fs-takeo-004')
      .tag('area', 'takeo-town')
      .booleanField('wet', true)
      .intField('stage', 2)
      .timestamp(now - 120_000),
    new Point(MEASUREMENTS.flood.name)
      .tag('device', 'fs-takeo-004')
      .tag('area', 'takeo-town')
      .booleanField('wet', false)
      .intField('stage', 0)
      .timestamp(now - 60_000),
    new Point(MEASUREMENTS.flood.name)
      .tag('device', 'fs-takeo-004')
      .tag('area', 'takeo-town')
      .tag('drill', 'true')
      .booleanField('wet', true)
      .intField('stage', 3)
      .timestamp(now - 30_000),
    new Point(MEASUREMENTS.deviceHealth.name)
      .tag('device', 'fs-takeo-004')
      .tag('kind', 'flood-sensor')
      .stringField('state', 'ok')
      .stringField('flags', '')
      .floatField('battery_v', 3.1)
      .intField('rssi', -71)
      .intField('last_seen_ms', now - 60_000)
      .timestamp(now - 3_600_000),
    new Point(MEASUREMENTS.deviceHealth.name)
      .tag('device', 'pc-library-1')
      .tag('kind', 'people-counter')
      .stringField('state', 'offline')
      .stringField('flags', '')
      .timestamp(now - 600_000),
  );
  const write = testInflux().getWriteApi(config.influx.org, bucket, 'ms');
  write.writePoints(points);
  await write.close();

  const h = await startBroker({ INFLUX_BUCKET: bucket, ...env }, [webComponent]);
  const service: MqttClient = await h.connect('machi-service', h.config.mqtt.roles.service);
  const retain = (topic: string, body: unknown) =>
    service.publishAsync(topic, JSON.stringify(body), { qos: 1, retain: true });
  await retain(topics.signageCongestion('library'), congestion(registry, 'library', 'quarter', 12));
  const active: ActiveAlerts = {
    v: 1,
    areaId: 'takeo-town',
    alerts: [
      {
        id: 'a-1',
        level: 'warning',
        areaId: 'takeo-town',
        sensors: ['fs-takeo-004'],
        openedAt: new Date(now - 900_000).toISOString(),
        updatedAt: new Date(now - 60_000).toISOString(),
        acknowledgedBy: 'tanaka',
        acknowledgedAt: new Date(now - 30_000).toISOString(),
        drill: false,
      },
      {
        id: 'w-9',
        level: 'watch',
        areaId: 'takeo-town',
        sensors: ['fs-takeo-001'],
        openedAt: new Date(now - 60_000).toISOString(),
        updatedAt: new Date(now - 60_000).toISOString(),
        drill: false,
      },
    ],
  };
  await retain(topics.alertsActive('takeo-town'), active);
  await retain(topics.alertsActive('asahi'), {
    v: 1,
    areaId: 'asahi',
    alerts: [
      {
        id: 'd-2',
        level: 'emergency',
        areaId: 'asahi',
        sensors: [],
        openedAt: new Date(now - 300_000).toISOString(),
        updatedAt: new Date(now - 300_000).toISOString(),
        drill: true,
      },
    ],
  });

  const kafka = testKafka();
  await ensureTopics(kafka, h.config, [h.topics.alertEvents]);
  const producer = kafka.producer();
  await producer.connect();
  const t = (ago: number) => new Date(now - ago).toISOString();
  const events = [
    alertEvent({ alertId: 'w-1', level: 'watch', transition: 'raised', time: t(3_000_000) }),
    alertEvent({ alertId: 'a-1', level: 'watch', transition: 'raised', time: t(1_000_000) }),
    alertEvent({ alertId: 'a-1', level: 'warning', transition: 'escalated', time: t(900_000) }),
    alertEvent({
      alertId: 'a-1',
      level: 'warning',
      transition: 'acknowledged',
      actor: 'office:tanaka',
      time: t(30_000),
    }),
    alertEvent({
      alertId: 'd-2',
      areaId: 'asahi',
      level: 'emergency',
      transition: 'raised',
      drill: true,
      time: t(300_000),
    }),
  ];
  await producer.send({
    topic: h.topics.alertEvents,
    messages: events.map((e) => ({ key: e.areaId, value: JSON.stringify(e) })),
  });
  await producer.disconnect();

  return {
    h,
    bucket,
    lastQuarter,
    libraryCounts,
    async stop() {
      await service.endAsync(true).catch(() => {});
      await h.stop();
      await influxQl(`DROP DATABASE "${bucket}"`);
    },
  };
}

// After the garbage: do the services still do their job? Two sensors of an area nothing else
// touched get wet; their readings must become InfluxDB points (the worker) and a raised alert on the
// audit trail and the office's retained topic (the alert service). Then the acknowledgement route
// gets bad requests about that real open alert, one good acknowledgement and a repeat, and the ack
// topic an acknowledgement naming it from another area's topic and a repeat of the good one.
import { InfluxDB } from '@influxdata/influxdb-client';
import mqtt, { type MqttClient } from 'mqtt';
import { distanceM } from '../../src/alerts/geo.ts';
import type { Config } from '../../src/config/config.ts';
import type { Device, FloodSensor } from '../../src/registry/schema.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { ActiveAlerts } from '../../src/schemas/alerts.ts';
import { topics as mqttTopics } from '../../src/schemas/topics.ts';
import type { HttpExpect } from './fuzz-http.ts';
import { requestHead, sendRaw } from './fuzz-http-wire.ts';
import { deviceTopic, encode } from './fuzz-inputs.ts';
import { type LogWatch, within } from './fuzz-machi.ts';
import { httpProblem, type KafkaWatch } from './fuzz-service-run.ts';
import { sleep } from './processes.ts';

export interface Probe {
  area: string;
  /** Another area, for an acknowledgement from the wrong topic. */
  otherArea: string;
  sensors: FloodSensor[];
  /** Every device of the area: the fuzzer leaves them alone so the probe starts from quiet. */
  reserved: Set<string>;
}

/** The last area with two flood sensors within `radiusM` of each other and no valid-stream device. */
export function chooseProbe(registry: Device[], validDevices: Device[], radiusM: number): Probe {
  const floods = registry.filter((d): d is FloodSensor => d.kind === 'flood-sensor');
  const areas = [...new Set(floods.map((d) => d.area))].reverse();
  const busy = new Set(
    validDevices.filter((d) => d.kind === 'flood-sensor').map((d) => (d as FloodSensor).area),
  );
  for (const area of areas) {
    if (busy.has(area)) continue;
    const inArea = floods.filter((d) => d.area === area);
    for (const a of inArea)
      for (const b of inArea)
        if (a !== b && distanceM(a, b) <= radiusM)
          return {
            area,
            otherArea: areas.find((x) => x !== area) ?? area,
            sensors: [a, b],
            reserved: new Set(inArea.map((d) => d.id)),
          };
  }
  throw new Error('no area for the probe: every area has a valid-stream device or no two sensors near');
}

export interface ProbeReport {
  /** Probe readings the worker wrote to InfluxDB, of those sent. */
  points: { sent: number; written: number };
  alert?: { id: string; level: string; raisedAfterMs: number; onRetainedTopic: boolean };
  /** Each acknowledgement probe and what happened. */
  acks: Record<string, string>;
}

interface ProbeOptions {
  config: Config;
  mqttPort: number;
  httpPort: number;
  probe: Probe;
  watch: KafkaWatch;
  logs: LogWatch;
  office: MqttClient;
  seed: number;
  violate: (what: string) => void;
  say: (line: string) => void;
}

async function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(500);
  }
  return undefined;
}

/** The seq field of a device's flood point, if InfluxDB has it. */
async function pointWritten(config: Config, deviceId: string, seq: number): Promise<boolean> {
  const api = new InfluxDB({ url: config.influx.url, token: config.influx.token }).getQueryApi(
    config.influx.org,
  );
  const flux = `from(bucket: "${config.influx.bucket}") |> range(start: -30m)
    |> filter(fn: (r) => r._measurement == "flood" and r.device == "${deviceId}" and r._field == "seq" and r._value == ${seq})`;
  const rows = await api.collectRows(flux).catch(() => []);
  return rows.length > 0;
}

export async function runProbe(o: ProbeOptions): Promise<ProbeReport> {
  const { probe, watch, violate } = o;
  const report: ProbeReport = { points: { sent: 0, written: 0 }, acks: {} };
  const started = Date.now();
  // lpwa-hex carries 16-bit sequence numbers.
  const seq = 40_000 + (o.seed % 20_000);
  for (const [i, d] of probe.sensors.entries()) {
    const client = await within(
      mqtt.connectAsync(`mqtt://127.0.0.1:${o.mqttPort}`, {
        username: d.id,
        password: demoSecret(d.id),
        clientId: `${d.id}-fzp${o.seed % 1000}-${i}`,
        reconnectPeriod: 0,
      }),
      30_000,
      `probe login as ${d.id}`,
    );
    const reading = {
      kind: 'flood' as const,
      deviceId: d.id,
      time: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
      seq,
      wet: true,
      stage: d.stagesCm.length ? 1 : undefined,
      depthCm: d.depthThresholdsCm ? d.depthThresholdsCm.watch + 1 : undefined,
      batteryV: 3.3,
      rssiDbm: -70,
    };
    await within(
      client.publishAsync(deviceTopic(d, 'reading'), encode(reading, d), { qos: 1 }),
      30_000,
      `PUBACK for ${d.id}'s probe reading`,
    );
    report.points.sent++;
    await within(client.endAsync(), 10_000, 'probe logout').catch(() => client.end(true));
  }

  // The worker: each probe reading becomes a point.
  for (const d of probe.sensors) {
    if (await until(async () => ((await pointWritten(o.config, d.id, seq)) ? true : undefined), 30_000))
      report.points.written++;
    else
      violate(
        `probe: ${d.id}'s reading (seq ${seq}) was not written to InfluxDB by the worker after the fuzzing`,
      );
  }

  // The alert service: two wet sensors near each other raise an alert for the area.
  const raised = await until(
    () =>
      watch.events.find(
        (e) =>
          e.areaId === probe.area &&
          e.transition === 'raised' &&
          !e.drill &&
          Date.parse(e.time) >= started - 2000,
      ),
    30_000,
  );
  if (!raised) {
    violate(`probe: no alert raised in ${probe.area} for two wet sensors after the fuzzing`);
    return report;
  }
  const active = await retainedActive(o.office, probe.area, raised.alertId);
  report.alert = {
    id: raised.alertId,
    level: raised.level,
    raisedAfterMs: Date.parse(raised.time) - started,
    onRetainedTopic: active,
  };
  if (!active) violate(`probe: alert ${raised.alertId} is not on ${mqttTopics.alertsActive(probe.area)}`);
  o.say(
    `probe: ${raised.level} ${raised.alertId} raised; points written ${report.points.written}/${report.points.sent}`,
  );
  await ackProbes(o, raised.alertId, report);
  return report;
}

/** Whether the office sees `alertId` on the area's retained active topic (a fresh subscription). */
async function retainedActive(office: MqttClient, area: string, alertId: string): Promise<boolean> {
  const topic = mqttTopics.alertsActive(area);
  let seen = false;
  const onMessage = (t: string, payload: Buffer) => {
    if (t !== topic) return;
    try {
      const parsed = ActiveAlerts.safeParse(JSON.parse(payload.toString()));
      if (parsed.success && parsed.data.alerts.some((a) => a.id === alertId)) seen = true;
    } catch {
      // not JSON: not the alert
    }
  };
  office.on('message', onMessage);
  await within(office.subscribeAsync(topic, { qos: 1 }), 15_000, `subscribing to ${topic}`);
  await until(() => (seen ? true : undefined), 10_000);
  await within(office.unsubscribeAsync(topic), 15_000, `unsubscribing from ${topic}`);
  office.off('message', onMessage);
  return seen;
}

async function ackProbes(o: ProbeOptions, alertId: string, report: ProbeReport): Promise<void> {
  const { probe, watch, violate, logs } = o;
  const password = o.config.mqtt.roles.office;
  // Who acknowledged is the login (the broker and the route stamp it), so count acknowledgements.
  const acknowledgements = () =>
    watch.events.filter((e) => e.alertId === alertId && e.transition === 'acknowledged').length;
  const when = new Date().toISOString();

  // 1. Named from another area's ack topic (payload and topic agree, the alert is elsewhere).
  const otherArea = probe.otherArea;
  await within(
    o.office.publishAsync(
      mqttTopics.alertAck(otherArea),
      JSON.stringify({ v: 1, alertId, areaId: otherArea, by: 'fz-cross-area', at: when }),
      { qos: 1 },
    ),
    15_000,
    'PUBACK for the cross-area acknowledgement',
  );
  await sleep(3000);
  const crossAcked = acknowledgements() > 0;
  report.acks["MQTT ack on another area's topic naming this alert"] = crossAcked
    ? `ACKNOWLEDGED the alert of ${probe.area} from ${otherArea}'s topic`
    : 'not acknowledged';
  if (crossAcked)
    violate(
      `probe: an acknowledgement on ${mqttTopics.alertAck(otherArea)} naming area ${otherArea} acknowledged alert ${alertId} of ${probe.area} (expected a TOPIC_INVALID refusal)`,
    );

  // 2. Bad requests about the real open alert: refused with a reason, the alert left as it was.
  const basic = (pw: string) => `Basic ${Buffer.from(`office:${pw}`).toString('base64')}`;
  const bad: Array<[string, string, string, string | undefined, HttpExpect]> = [
    [
      'not JSON (a form post from another site)',
      'POST',
      `/api/alerts/${alertId}/ack`,
      basic(password),
      refusal(403, 'MACHI_ERR_FORBIDDEN'),
    ],
    [
      'another action',
      'POST',
      `/api/alerts/${alertId}/nack`,
      basic(password),
      refusal(404, 'MACHI_ERR_NOT_FOUND'),
    ],
    [
      'extra segment',
      'POST',
      `/api/alerts/${alertId}/ack/x`,
      basic(password),
      refusal(404, 'MACHI_ERR_NOT_FOUND'),
    ],
    [
      'wrong password',
      'POST',
      `/api/alerts/${alertId}/ack`,
      basic(`${password}x`),
      refusal(401, 'MACHI_ERR_UNAUTHORIZED'),
    ],
    [
      'GET',
      'GET',
      `/api/alerts/${alertId}/ack`,
      basic(password),
      refusal(405, 'MACHI_ERR_METHOD_NOT_ALLOWED'),
    ],
  ];
  for (const [name, method, target, auth, expect] of bad) {
    const r = await sendRaw(
      o.httpPort,
      {
        head: requestHead(`${method} ${target} HTTP/1.1`, [
          ['Host', '127.0.0.1'],
          ['Connection', 'close'],
          ...(name.startsWith('not JSON') ? [] : [['Content-Type', 'application/json'] as [string, string]]),
          ...(auth ? [['Authorization', auth] as [string, string]] : []),
        ]),
      },
      15_000,
    );
    const problem = httpProblem(expect, r, false);
    report.acks[`HTTP ${name}`] = problem ?? `${r.status}`;
    if (problem) violate(`probe: ${method} ${target.slice(0, 80)} (${name}): ${problem}`);
  }

  // 3. One good acknowledgement (a 409 if the cross-area one took it), then the same again: a 409.
  const ack = () =>
    sendRaw(
      o.httpPort,
      {
        head: requestHead(`POST /api/alerts/${alertId}/ack HTTP/1.1`, [
          ['Host', '127.0.0.1'],
          ['Connection', 'close'],
          ['Content-Type', 'application/json'],
          ['Authorization', basic(password)],
        ]),
      },
      15_000,
    );
  const first = await ack();
  const firstProblem = httpProblem({ kind: 'http', statuses: crossAcked ? [409] : [200] }, first, false);
  report.acks['HTTP acknowledgement'] = firstProblem ?? `${first.status}`;
  if (firstProblem) violate(`probe: acknowledging ${alertId} over HTTP: ${firstProblem}`);
  const again = await ack();
  const problem = httpProblem(refusal(409, 'MACHI_ERR_ALREADY_ACKNOWLEDGED'), again, false);
  report.acks['HTTP second acknowledgement'] = problem ?? `${again.status}`;
  if (problem) violate(`probe: a second acknowledgement of ${alertId}: ${problem}`);

  // 4. Over MQTT, the acknowledged alert is no open, unacknowledged one: logged, nothing changes.
  const logged = logs.ignoredAcks.get(alertId) ?? 0;
  await within(
    o.office.publishAsync(
      mqttTopics.alertAck(probe.area),
      JSON.stringify({ v: 1, alertId, areaId: probe.area, by: 'fz-repeat', at: when }),
      { qos: 1 },
    ),
    15_000,
    'PUBACK for the repeated acknowledgement',
  );
  const ignored = await until(
    () => ((logs.ignoredAcks.get(alertId) ?? 0) > logged ? true : undefined),
    10_000,
  );
  report.acks['MQTT ack of the acknowledged alert'] = ignored ? 'no action, logged' : 'NOT logged';
  if (!ignored)
    violate(`probe: an MQTT acknowledgement of acknowledged alert ${alertId} was not logged as ignored`);
  if (acknowledgements() > 1) violate(`probe: alert ${alertId} was acknowledged twice`);
}

const refusal = (status: number, code: string): HttpExpect => ({ kind: 'http', statuses: [status], code });

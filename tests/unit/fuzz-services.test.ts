// The fuzzer's service families (bench/lib/fuzz-services.ts): reproducible from their seed, every
// family present, and what each input expects agrees with machi's own code: the ack checks, the
// record schemas, and the HTTP answers of the real router, pages and WebSocket listener.
import { Aedes } from 'aedes';
import { Registry as Metrics } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from '../../bench/lib/fuzz-http-wire.ts';
import { httpSite } from '../../bench/lib/fuzz-machi.ts';
import { httpProblem } from '../../bench/lib/fuzz-service-run.ts';
import { SERVICE_FAMILIES, type ServiceInput, serviceInputs } from '../../bench/lib/fuzz-services.ts';
import { checkMqttAck } from '../../src/alerts/acks.ts';
import { openListeners } from '../../src/broker/listeners.ts';
import { loadConfig } from '../../src/config/config.ts';
import { HttpApp } from '../../src/http/app.ts';
import { livenessPlugin, readinessPlugin } from '../../src/http/health.ts';
import { metricsPlugin } from '../../src/http/metrics.ts';
import { createOfficeLogin } from '../../src/http/office-login.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { AlertAck, AlertEvent } from '../../src/schemas/alerts.ts';
import { DeviceStatus } from '../../src/schemas/health.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { webComponent } from '../../src/web/component.ts';
import { readingPoint } from '../../src/workers/points.ts';

// Bad logins are part of the input: no login bans, so every input gets its own answer.
const config = loadConfig({
  MACHI_LOG_LEVEL: 'silent',
  MQTT_PORT: '0',
  MACHI_HTTP_BAN_IP_FAILURES: '1000000',
  MACHI_HTTP_BAN_USER_FAILURES: '1000000',
});
const registry = loadRegistry('devices');
const devices = [...registry.devices.values()];
const now = Date.parse('2026-12-06T00:00:00Z');

function take(seed: number, n: number): ServiceInput[] {
  const gen = serviceInputs({
    seed,
    now,
    areas: [...registry.areas.keys()],
    floodSensors: devices.filter((d) => d.kind === 'flood-sensor').map((d) => d.id),
    peopleCounters: devices.filter((d) => d.kind === 'people-counter').map((d) => d.id),
    site: httpSite(config, registry),
  });
  return Array.from({ length: n }, () => gen.next().value as ServiceInput);
}

const bytes = (i: ServiceInput) =>
  i.channel === 'ack' ? i.payload : i.channel === 'kafka' ? (i.value ?? Buffer.alloc(0)) : i.request.head;

describe('service fuzz inputs', () => {
  const inputs = take(11, 3000);

  it('are the same for the same seed and differ for another', () => {
    const again = take(11, 300);
    expect(again.map((i) => [i.family, bytes(i).toString('base64')])).toEqual(
      inputs.slice(0, 300).map((i) => [i.family, bytes(i).toString('base64')]),
    );
    expect(take(12, 50).map((i) => i.family)).not.toEqual(inputs.slice(0, 50).map((i) => i.family));
  });

  it('cover every family of every channel', () => {
    expect(new Set(inputs.map((i) => i.family))).toEqual(new Set(Object.values(SERVICE_FAMILIES).flat()));
  });

  it('expect what the alert service makes of each acknowledgement', () => {
    const mismatches = inputs.flatMap((i) => {
      if (i.channel !== 'ack') return [];
      const checked = checkMqttAck(i.topic, i.payload, new Date(now));
      const got = checked.ok ? `ignored ${checked.ack.alertId}` : checked.reason;
      const ok =
        i.expect.kind === 'ack-refused'
          ? !checked.ok && i.expect.reasons.includes(checked.reason)
          : checked.ok && checked.ack.alertId === i.expect.alertId;
      return ok
        ? []
        : [`#${i.index} ${i.family} on ${i.topic}: ${got}, expected ${JSON.stringify(i.expect)}`];
    });
    expect(mismatches).toEqual([]);
  });

  it('expect each record refused exactly where its topic schema (or the registry) refuses it', () => {
    const parse = (value: Buffer | null): unknown => {
      try {
        return JSON.parse(value?.toString('utf8') ?? '');
      } catch {
        return Symbol('not JSON');
      }
    };
    const mismatches = inputs.flatMap((i) => {
      if (i.channel !== 'kafka') return [];
      const json = parse(i.value);
      const isJson = typeof json !== 'symbol';
      const reading = ReadingRecord.safeParse(json);
      const writable =
        reading.success &&
        (() => {
          try {
            readingPoint(reading.data, registry);
            return true;
          } catch {
            return false;
          }
        })();
      const e = i.expect;
      const problems: string[] = [];
      if (i.topic.startsWith('readings.')) {
        if (writable) problems.push('the worker would write it');
        if (i.topic === 'readings.flood' && e.alertsLive === reading.success) problems.push('alerts');
      }
      if (i.topic === 'device.health') {
        if (DeviceStatus.safeParse(json).success) problems.push('a valid status');
        if (!e.alertsLive || !e.worker) problems.push('health consumers');
      }
      if (
        i.topic === 'alerts.events' &&
        (AlertEvent.safeParse(json).success || !e.outbox || e.alertsLive === isJson)
      )
        problems.push('events');
      if (
        i.topic === 'alerts.acks' &&
        (AlertAck.safeParse(json).success || e.alertsLive === isJson || !e.alertsReplay)
      )
        problems.push('acks');
      return problems.length ? [`#${i.index} ${i.family} on ${i.topic}: ${problems.join(', ')}`] : [];
    });
    expect(mismatches).toEqual([]);
  });

  describe('HTTP, against the real router, pages and WebSocket listener', () => {
    const http = new HttpApp(createLogger('silent'));
    let port = 0;
    let close = async () => {};
    beforeAll(async () => {
      const runtime = {
        config,
        log: createLogger('silent'),
        metrics: new Metrics(),
        http,
        internal: http,
        officeLogin: createOfficeLogin(config, createLogger('silent'), new Metrics()),
        readiness: {},
        local: {},
      };
      await webComponent(runtime).start();
      const aedes = await Aedes.createBroker();
      const listeners = await openListeners(
        aedes,
        config,
        http,
        () => {},
        () => {},
      );
      http.register(livenessPlugin, undefined);
      http.register(readinessPlugin, { checks: {} });
      http.register(metricsPlugin, { registry: new Metrics() });
      await http.listen(0, '127.0.0.1');
      port = (http.server.address() as { port: number }).port;
      close = async () => {
        await listeners.close();
        await http.close();
        await new Promise<void>((r) => aedes.close(() => r()));
      };
    });
    afterAll(() => close());

    it('get the answer the model expects: never a 5xx, never silence, a reason with every refusal', {
      timeout: 60_000,
    }, async () => {
      // The ack route belongs to the alert service (its answers need a running engine): the fuzz run checks it.
      const requests = inputs.filter(
        (i): i is Extract<ServiceInput, { channel: 'http' }> =>
          i.channel === 'http' && !i.summary.includes('/api/alerts/'),
      );
      expect(requests.length).toBeGreaterThan(500);
      const problems: string[] = [];
      for (const i of requests) {
        const r = await sendRaw(port, i.request, 10_000);
        const problem = httpProblem(i.expect, r, i.summary.startsWith('HEAD '));
        if (problem) problems.push(`#${i.index} ${i.family} ${i.summary}: ${problem}`);
      }
      expect(problems).toEqual([]);
    });
  });
});

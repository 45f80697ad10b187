// Grafana cannot run here, so its dashboards are checked the way Grafana would use them: structure,
// datasource references and variables, then every Flux query (panels, variables, annotations) runs
// against the real InfluxDB with the variables and time range substituted, and must return rows.
import { readdirSync, readFileSync } from 'node:fs';
import { Point } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRegistry } from '../../src/registry/load.ts';
import type { Device } from '../../src/registry/schema.ts';
import { gazetteer } from '../../src/web/gazetteer.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { config, eventually, testInflux, uniqueName } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

interface Ref {
  uid?: string;
  type?: string;
}
interface Target {
  refId: string;
  query?: string;
  expr?: string;
  datasource?: Ref;
}
interface Panel {
  id: number;
  title: string;
  type: string;
  datasource?: Ref;
  targets?: Target[];
  options?: { layers?: Array<{ location?: { gazetteer?: string } }> };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query: string; datasource?: Ref }> };
  annotations: { list: Array<{ name: string; datasource?: Ref; target?: Target }> };
}

const DIR = 'grafana/dashboards';
const dashboards = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, d: JSON.parse(readFileSync(`${DIR}/${f}`, 'utf8')) as Dashboard }));
const datasources = new Map<string, string>(
  readdirSync('grafana/provisioning/datasources').flatMap((f) =>
    (
      parse(readFileSync(`grafana/provisioning/datasources/${f}`, 'utf8')) as {
        datasources: Array<{ uid: string; type: string }>;
      }
    ).datasources.map((ds) => [ds.uid, ds.type] as [string, string]),
  ),
);

/** Every Flux query Grafana would send for a dashboard, named for failure messages. */
function fluxQueries(d: Dashboard): Array<{ name: string; flux: string }> {
  const influx = (ref?: Ref) => ref?.uid !== undefined && datasources.get(ref.uid) === 'influxdb';
  return [
    ...d.panels.flatMap((p) =>
      (p.targets ?? [])
        .filter((t) => influx(t.datasource ?? p.datasource))
        .map((t) => ({ name: `${d.uid} panel ${p.id} "${p.title}" ${t.refId}`, flux: t.query ?? '' })),
    ),
    ...d.templating.list
      .filter((v) => influx(v.datasource))
      .map((v) => ({ name: `${d.uid} variable ${v.name}`, flux: v.query })),
    ...d.annotations.list
      .filter((a) => influx(a.datasource))
      .map((a) => ({ name: `${d.uid} annotation ${a.name}`, flux: a.target?.query ?? '' })),
  ];
}

describe('dashboard structure', () => {
  it('has the flood, crowds and pipeline dashboards with unique uids', () => {
    expect(dashboards.map((x) => x.file).sort()).toEqual(['crowds.json', 'flood.json', 'pipeline.json']);
    expect(new Set(dashboards.map((x) => x.d.uid)).size).toBe(dashboards.length);
  });

  for (const { file, d } of dashboards) {
    it(`${file}: unique panel ids, provisioned datasources, defined variables`, () => {
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const refs: Ref[] = [
        ...d.panels.flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]),
        ...d.templating.list.map((v) => v.datasource),
        ...d.annotations.list.map((a) => a.datasource),
      ].filter((r): r is Ref => r !== undefined);
      for (const ref of refs) {
        expect(datasources.has(ref.uid ?? ''), `datasource ${ref.uid}`).toBe(true);
        expect(datasources.get(ref.uid ?? '')).toBe(ref.type);
      }
      const defined = new Set(d.templating.list.map((v) => v.name));
      const text = JSON.stringify({ panels: d.panels, annotations: d.annotations, vars: d.templating });
      const used = [...text.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)].map((m) => m[1] ?? m[2] ?? '');
      for (const name of used.filter((n) => !n.startsWith('__'))) {
        expect(defined.has(name), `variable $${name} in ${file}`).toBe(true);
      }
      for (const target of d.panels.flatMap((p) => p.targets ?? [])) {
        expect((target.query ?? target.expr ?? '').trim().length, `${file} ${target.refId}`).toBeGreaterThan(
          0,
        );
      }
    });
  }

  it('places every registry device on the geomap through the committed gazetteer', () => {
    const layers = dashboards.flatMap(({ d }) => d.panels.flatMap((p) => p.options?.layers ?? []));
    const paths = layers.map((l) => l.location?.gazetteer).filter((p): p is string => p !== undefined);
    expect(paths).toEqual(['public/gazetteer/machi/devices.json']);
    const committed = JSON.parse(readFileSync('grafana/gazetteer/devices.json', 'utf8'));
    expect(committed).toEqual(gazetteer(loadRegistry(config.devicesDir)));
  });
});

describe('every Flux query on the real InfluxDB', () => {
  // Readings go through the real pipeline (device → broker → Kafka → worker → InfluxDB), so the
  // dashboards are checked against what the workers really write. Health transitions to offline
  // take hours, and forecasts and alert events come from other jobs: those are seeded directly,
  // in the agreed schema, with run-unique ids.
  const run = uniqueName('gt');
  const area = 'asahi';
  const site = 'mifuneyama';
  const registry = loadRegistry(config.devicesDir);
  const sensors = ['fs-asahi-001', 'fs-asahi-002', 'fs-asahi-003', 'fs-asahi-004'];
  const camera = 'pc-mifuneyama-1';
  const now = Date.now();
  const quarter = 15 * 60_000;
  // 16 quarter hours from 6 h to 2 h ago, off the quarter-hour marks, so no other run's points collide.
  const times = Array.from({ length: 16 }, (_, i) => now - 6 * 3600_000 + i * quarter + 7_321);
  const influx = testInflux();
  let h: BrokerHarness | undefined;

  beforeAll(async () => {
    h = await startBroker({ MACHI_WORKER_GROUP: uniqueName('grafana-writer') }, [workerComponent]);
    for (const id of sensors) {
      const device = registry.devices.get(id) as Device;
      for (const [i, t] of times.entries()) {
        const wet = i >= 8 && i % 3 !== 0;
        const staged = device.kind === 'flood-sensor' && device.stagesCm.length > 0;
        const depth = device.kind === 'flood-sensor' && device.depthThresholdsCm !== undefined;
        await h.publishReading({
          kind: 'flood',
          deviceId: id,
          time: new Date(t).toISOString(),
          seq: i,
          wet,
          ...(staged ? { stage: wet ? 1 : 0 } : {}),
          ...(depth ? { depthCm: wet ? 5 + i : 0 } : {}),
          batteryV: 3.0,
        });
      }
    }
    for (const [i, t] of times.entries()) {
      await h.publishReading({
        kind: 'crowd',
        deviceId: camera,
        seq: i,
        intervalStart: new Date(t).toISOString(),
        intervalEnd: new Date(t + 5 * 60_000).toISOString(),
        peopleIn: 40 + i * 3,
        peopleOut: 35 + i * 3,
      });
    }

    const write = influx.getWriteApi(config.influx.org, config.influx.bucket, 'ms');
    for (const [i, t] of times.entries()) {
      write.writePoint(
        new Point('forecast')
          .tag('site', site)
          .floatField('forecast', 110 + i * 7)
          .floatField('lower', 80 + i * 6)
          .floatField('upper', 140 + i * 8)
          .timestamp(t),
      );
      write.writePoint(
        new Point('forecast_error')
          .tag('site', site)
          .floatField('error', 10 - i)
          .floatField('abs_error', Math.abs(10 - i))
          .timestamp(t),
      );
    }
    const health: Array<[string, string, number | undefined]> = [
      [`${run}-fs1`, 'silent', 2.9],
      [`${run}-fs2`, 'offline', undefined],
      [`${run}-fs3`, 'low-battery', 2.4],
    ];
    for (const [device, state, battery] of health) {
      const p = new Point('device_health')
        .tag('device', device)
        .tag('kind', 'flood-sensor')
        .tag('area', area)
        .stringField('state', state)
        .intField('last_seen_ms', now - 3600_000)
        .timestamp(now - 3600_000);
      if (battery !== undefined) p.floatField('battery_v', battery);
      write.writePoint(p);
    }
    write.writePoint(
      new Point('alert_event')
        .tag('area', area)
        .tag('level', 'warning')
        .tag('state', 'raised')
        .tag('drill', 'false')
        .stringField('alert_id', `${run}-alert`)
        .stringField('rule', 'corroborated')
        .stringField('sensors', sensors.join(','))
        .stringField('actor', 'machi')
        .timestamp(now - 2 * 3600_000),
    );
    await write.close();

    // The worker has written every reading, and the 15-minute series for the camera's site.
    const query = influx.getQueryApi(config.influx.org);
    const count = async (flux: string) => (await query.collectRows<{ _value: number }>(flux))[0]?._value ?? 0;
    const bucket = JSON.stringify(config.influx.bucket);
    // This run's last reading of every device (vendor formats may keep whole seconds only).
    const last = times[times.length - 1] as number;
    const window = `range(start: ${new Date(last - 2000).toISOString()}, stop: ${new Date(last + 2000).toISOString()})`;
    await eventually(async () => {
      const flood = await count(`from(bucket: ${bucket}) |> ${window}
  |> filter(fn: (r) => r._measurement == "flood" and r._field == "wet" and r.area == "${area}")
  |> group() |> count()`);
      const crowd = await count(`from(bucket: ${bucket}) |> ${window}
  |> filter(fn: (r) => r._measurement == "crowd" and r._field == "people_in" and r.device == "${camera}")
  |> group() |> count()`);
      return flood >= sensors.length && crowd >= 1 ? true : undefined;
    }, 60_000);
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  const regexVar = (name: string) => `\${${name}:regex}`;
  const substitute = (flux: string) =>
    flux
      .replaceAll('v.defaultBucket', JSON.stringify(config.influx.bucket))
      .replaceAll('v.timeRangeStart', '-6h')
      .replaceAll('v.timeRangeStop', 'now()')
      .replaceAll('v.windowPeriod', '5m')
      .replaceAll(regexVar('area'), area)
      .replaceAll(regexVar('site'), site);

  for (const { d } of dashboards) {
    for (const q of fluxQueries(d)) {
      it(`${q.name} runs and returns rows`, async () => {
        const flux = substitute(q.flux);
        expect(flux).not.toMatch(/\$\{|v\.\w+/);
        const rows = await influx.getQueryApi(config.influx.org).collectRows<Record<string, unknown>>(flux);
        expect(rows.length, q.name).toBeGreaterThan(0);
        // Rows from this run's own series where the query is scoped by a variable.
        if (q.flux.includes(regexVar('area'))) expect(rows.some((r) => r.area === area)).toBe(true);
        if (q.flux.includes(regexVar('site'))) expect(rows.some((r) => r.site === site)).toBe(true);
      });
    }
  }
});

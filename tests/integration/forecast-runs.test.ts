// The forecast's paths beyond one good run (issue #23), on a private InfluxDB that the stale test
// stops and starts, and the real broker: the previous run's forecasts scored into forecast_error,
// a sign seeing its congestion marked stale while InfluxDB is down and fresh once it is back, and
// `machi forecast run` as a process, on a good day and with InfluxDB unreachable.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/app/run.ts';
import { loadConfig } from '../../src/config/config.ts';
import { type ForecastComponent, forecastComponent } from '../../src/forecast/component.ts';
import { ForecastJob } from '../../src/forecast/job.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { CongestionMessage } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { InfluxWriter } from '../../src/store/influx-writer.ts';
import { eventually } from '../support/helpers.ts';
import { type PrivateService, startPrivateInflux } from '../support/private-stack.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const STEP = 15 * 60_000;
const DAY = 86_400_000;
const SITE = 'city-hall';
const STALE_S = 2;
const run = promisify(execFile);

let influx: PrivateService;
let db: InfluxDB;
let h: BrokerHarness;
let forecast: ForecastComponent | undefined;

/** A daytime hump up to ~180 people per 15 minutes (capacity 200), by the hour in Japan. */
const people = (t: number) =>
  Math.round(
    20 + 160 * Math.max(0, Math.sin(((new Date(t + 9 * 3_600_000).getUTCHours() - 6) / 14) * Math.PI)),
  );

async function writeCounts(counts: Array<[time: number, people: number]>): Promise<void> {
  const writer = db.getWriteApi('takeo', 'machi', 'ms');
  for (const [t, n] of counts)
    writer.writePoint(
      new Point('crowd_15m').tag('site', SITE).intField('people', n).intField('cameras', 1).timestamp(t),
    );
  await writer.close();
}

/** Two weeks of counts at the site up to the interval before `now`. */
function history(now: number): Array<[number, number]> {
  const last = Math.floor(now / STEP) * STEP - STEP;
  const out: Array<[number, number]> = [];
  for (let t = last - 14 * DAY; t <= last; t += STEP) out.push([t, people(t)]);
  return out;
}

async function query<T>(measurement: string, start: number, stop: number): Promise<T[]> {
  return db.getQueryApi('takeo').collectRows<T>(
    `from(bucket: "machi") |> range(start: ${new Date(start).toISOString()}, stop: ${new Date(stop).toISOString()})
      |> filter(fn: (r) => r._measurement == "${measurement}" and r.site == "${SITE}")
      |> pivot(rowKey: ["_time", "horizon"], columnKey: ["_field"], valueColumn: "_value")`,
  );
}

/** Every congestion message a sign receives, in order. */
async function sign(): Promise<{ client: MqttClient; seen: CongestionMessage[] }> {
  const client = await h.connect(`signage/${SITE}`, h.config.mqtt.roles.signage);
  const seen: CongestionMessage[] = [];
  client.on('message', (_t, payload) => seen.push(CongestionMessage.parse(JSON.parse(payload.toString()))));
  await client.subscribeAsync(topics.signageCongestion(SITE), { qos: 1 });
  return { client, seen };
}

beforeAll(async () => {
  // Private: the job reads every site's history, and the stale test stops this InfluxDB.
  influx = await startPrivateInflux(18586);
  db = new InfluxDB({ url: influx.address, token: 'x' });
  await writeCounts(history(Date.now()));
  h = await startBroker(
    { INFLUX_URL: influx.address, MACHI_FORECAST_CRON: '0 0 1 1 *', MACHI_FORECAST_STALE_S: String(STALE_S) },
    [
      (rt) => {
        forecast = forecastComponent(rt);
        return forecast;
      },
    ],
  );
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await influx?.dispose();
}, 60_000);

describe('forecast_error', () => {
  it("scores the previous run's forecasts against the counts that arrived since, where they did", {
    timeout: 120_000,
  }, async () => {
    // A Monday noon in Japan long before the other tests' "now" (history reads 70 days back).
    const t1 = Date.parse('2026-06-01T03:00:00Z');
    const last1 = Math.floor(t1 / STEP) * STEP - STEP;
    await writeCounts(history(t1));
    const config = loadConfig({ ...process.env, INFLUX_URL: influx.address });
    const log = createLogger('warn');
    const job = new ForecastJob(config, loadRegistry(config.devicesDir), new InfluxWriter(config, log), log);
    await job.run(t1);
    // The counts of the first and third intervals arrive; the second's camera was down.
    const actual = new Map([
      [last1 + STEP, 131],
      [last1 + 3 * STEP, 97],
    ]);
    await writeCounts([...actual]);
    await job.run(t1 + 3 * STEP);

    const issued = await query<{ _time: string; horizon: string; forecast: number; issued_at: number }>(
      'forecast',
      last1,
      last1 + 4 * STEP,
    );
    const errors = await query<{
      _time: string;
      horizon: string;
      error: number;
      abs_error: number;
      actual: number;
    }>('forecast_error', last1 - DAY, last1 + DAY);
    const key = (r: { _time: string; horizon: string }) => `${Date.parse(r._time)}/${r.horizon}`;
    expect(errors.map(key).sort()).toEqual([`${last1 + STEP}/1`, `${last1 + 3 * STEP}/3`].sort());
    for (const e of errors) {
      // The forecast the first run wrote for that interval and horizon, as InfluxDB holds it.
      const f = issued.find((r) => key(r) === key(e) && r.issued_at === t1);
      expect(f, key(e)).toBeDefined();
      const expected = (actual.get(Date.parse(e._time)) as number) - (f?.forecast as number);
      expect(e.actual).toBe(actual.get(Date.parse(e._time)));
      expect(e.error).toBeCloseTo(expected, 9);
      expect(e.abs_error).toBeCloseTo(Math.abs(expected), 9);
    }
  });
});

describe('stale marking', () => {
  it('a sign sees its congestion marked stale after runs fail with InfluxDB down, and fresh again after', {
    timeout: 180_000,
  }, async () => {
    const { seen } = await sign();
    // After the run the component started with, so that `fresh` is the one the component keeps.
    await forecast?.runNow();
    const before = Date.now();
    await forecast?.runNow();
    const fresh = await eventually(async () => seen.find((m) => Date.parse(m.issuedAt) >= before));
    expect(fresh.stale).toBe(false);
    expect(fresh.next.length).toBeGreaterThanOrEqual(12);

    await influx.stop();
    // Older than MACHI_FORECAST_STALE_S by the time a run fails.
    await new Promise((r) => setTimeout(r, Date.parse(fresh.issuedAt) + STALE_S * 1000 + 200 - Date.now()));
    await forecast?.runNow();
    const stale = await eventually(async () => seen.find((m) => m.stale));
    // The same forecast, only marked: the sign can tell an old forecast from a new one.
    expect(stale).toEqual({ ...fresh, stale: true });
    await forecast?.runNow();
    // A sign that connects now gets the stale message retained; no run marks it twice.
    const late = await sign();
    expect(await eventually(async () => late.seen[0])).toEqual(stale);
    expect(seen.filter((m) => m.stale)).toHaveLength(1);

    await influx.start();
    await forecast?.runNow();
    const recovered = await eventually(async () =>
      seen.find((m) => Date.parse(m.issuedAt) > Date.parse(fresh.issuedAt)),
    );
    expect(recovered.stale).toBe(false);
    expect(Date.parse(recovered.issuedAt)).toBeGreaterThan(Date.parse(fresh.issuedAt));
    expect(seen.at(-1)).toEqual(recovered);
    expect(await eventually(async () => late.seen.at(-1)?.stale === false || undefined)).toBe(true);
  });
});

describe('machi forecast run', () => {
  const machi = async (env: Record<string, string>) => {
    const started = Date.now();
    try {
      const { stdout, stderr } = await run('node', ['bin/machi.js', 'forecast', 'run'], {
        env: {
          ...process.env,
          MACHI_MODE: 'demo',
          MACHI_LOG_LEVEL: 'warn',
          KAFKA_TOPIC_PREFIX: h.config.kafka.topicPrefix,
          MQTT_PORT: String(h.broker.ports.mqtt),
          ...env,
        },
        timeout: 90_000,
      });
      return { code: 0 as number | null, stdout, stderr, started };
    } catch (err) {
      const e = err as { code: number | null; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr, started };
    }
  };

  it('issues and publishes the forecast, exit 0; with InfluxDB unreachable says so and exits 1', {
    timeout: 180_000,
  }, async () => {
    const ok = await machi({ INFLUX_URL: influx.address });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toMatch(
      new RegExp(`^forecast issued for 1 site\\(s\\): ${SITE} (not-crowded|somewhat-crowded|crowded)$`),
    );
    const { seen } = await sign();
    const published = await eventually(async () => seen[0]);
    expect(Date.parse(published.issuedAt)).toBeGreaterThanOrEqual(ok.started);
    expect(ok.stdout).toContain(`${SITE} ${published.current.level}`);
    const rows = await query<{ issued_at: number; forecast: number; horizon: string }>(
      'forecast',
      Date.now() - DAY,
      Date.now() + 2 * DAY,
    );
    const written = rows.filter((r) => r.issued_at === Date.parse(published.issuedAt));
    expect(written).toHaveLength(published.next.length);
    expect(written.find((r) => r.horizon === '1')?.forecast).toBeCloseTo(
      published.next[0]?.forecast ?? -1,
      9,
    );

    const down = await machi({ INFLUX_URL: 'http://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    // One line naming the address, no stack trace; and the process ended (it used to hang).
    expect(down.stderr.trim()).toMatch(/^machi: connect ECONNREFUSED 127\.0\.0\.1:1\b[^\n]*$/);
    // Nothing new on the sign: the last good forecast stays.
    expect(seen).toEqual([published]);
  });
});

describe('without a broker', () => {
  it('keeps running its forecasts (the congestion waits for the broker, the runs do not)', {
    timeout: 120_000,
  }, async () => {
    // Nothing listens on port 1: every publish waits for a broker that never comes.
    const runtime = createRuntime(
      loadConfig({ ...process.env, INFLUX_URL: influx.address, MQTT_PORT: '1', HTTP_PORT: '0' }),
    );
    const alone = forecastComponent(runtime);
    await alone.start();
    try {
      const within = (ms: number) =>
        new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), ms).unref());
      // The run started by start(), then one more: both end although nothing was published.
      expect(await Promise.race([alone.runNow().then(() => 'done'), within(30_000)])).toBe('done');
      expect(await Promise.race([alone.runNow().then(() => 'done'), within(30_000)])).toBe('done');
    } finally {
      await alone.stop();
    }
  });
});

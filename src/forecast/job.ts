// One forecasting run: read each site's 15-minute crowd series from InfluxDB, fit the model,
// write forecasts (and the errors of the previous run's forecasts, once actuals exist) to
// InfluxDB, and build the retained congestion message each sign reads.
import { flux } from '@influxdata/influxdb-client';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry, Site } from '../registry/schema.ts';
import type { CongestionMessage } from '../schemas/signage.ts';
import type { InfluxWriter } from '../store/influx-writer.ts';
import { MEASUREMENTS, point } from '../store/measurements.ts';
import { congestionLevel } from './levels.ts';
import { type CityContext, cityContexts } from './model/context.ts';
import { isJapaneseHoliday } from './model/holidays-jp.ts';
import { CongestionModel, DEFAULT_MODEL, type Instant } from './model/model.ts';

export const STEP_MS = 15 * 60_000;
const JST_MS = 9 * 3_600_000;
/** The next 3 hours at least, and the rest of the local day. */
const MIN_STEPS = 12;
/** A run whose write InfluxDB has not taken by then fails (and the signs' forecast may go stale) instead of holding every later run. */
const WRITE_LIMIT_MS = 60_000;

const jst = (utc: number): Instant => ({ utc, local: utc + JST_MS });

interface Issued {
  h: number;
  forecast: number;
}

export class ForecastJob {
  /** The last run's forecasts per site and target time, to score once actuals arrive. */
  private previous = new Map<string, Map<number, Issued>>();

  constructor(
    private readonly config: Config,
    private readonly registry: Registry,
    private readonly writer: InfluxWriter,
    private readonly log: Logger,
  ) {}

  private async history(now: number): Promise<Map<string, Map<number, number>>> {
    const { crowd15m } = MEASUREMENTS;
    const rows = await this.writer.influx
      .getQueryApi(this.config.influx.org)
      .collectRows<{ _time: string; _value: number; site: string }>(
        flux`from(bucket: ${this.config.influx.bucket})
        |> range(start: ${new Date(now - this.config.forecast.historyDays * 86_400_000)}, stop: ${new Date(now)})
        |> filter(fn: (r) => r._measurement == ${crowd15m.name} and r._field == ${crowd15m.field.people})
        |> keep(columns: ["_time", "_value", "site"])`,
      );
    const bySite = new Map<string, Map<number, number>>();
    for (const r of rows) {
      const series = bySite.get(r.site) ?? new Map<number, number>();
      series.set(Date.parse(r._time), r._value);
      bySite.set(r.site, series);
    }
    return bySite;
  }

  private uplift(site: string, at: number): number {
    let u = 1;
    for (const e of this.registry.events) {
      if (e.sites.includes(site) && at >= Date.parse(e.start) && at < Date.parse(e.end)) u *= e.uplift;
    }
    return u;
  }

  /** How the other sites are running, for each site with history (context.ts). */
  private contexts(history: Map<string, Map<number, number>>): Map<string, CityContext> {
    const ids = [...this.registry.sites.keys()].filter((id) => history.get(id)?.size);
    const sites = ids.map((id) => {
      const times = [...(history.get(id) as Map<number, number>).keys()].sort((a, b) => a - b);
      return {
        utc: times,
        local: times.map((t) => jst(t).local),
        values: times.map((t) => history.get(id)?.get(t) as number),
      };
    });
    const found = cityContexts(sites, {
      stepMs: STEP_MS,
      window: DEFAULT_MODEL.window,
      isHoliday: isJapaneseHoliday,
    });
    return new Map(ids.map((id, i) => [id, found[i] as CityContext]));
  }

  /** Runs once at `now`; returns the congestion message of every site that has history. */
  async run(now = Date.now()): Promise<Map<string, CongestionMessage>> {
    const history = await this.history(now);
    const lastComplete = Math.floor(now / STEP_MS) * STEP_MS - STEP_MS;
    const lines: string[] = [];
    const messages = new Map<string, CongestionMessage>();
    const issuedAt = new Date(now).toISOString();
    const next = new Map<string, Map<number, Issued>>();
    const contexts = this.contexts(history);
    for (const site of this.registry.sites.values()) {
      const series = history.get(site.id);
      if (!series || series.size === 0) continue;
      const model = new CongestionModel({
        ...DEFAULT_MODEL,
        stepMs: STEP_MS,
        isHoliday: isJapaneseHoliday,
        // Learned one by one for the next 3 hours; later steps reuse the 3-hour coefficients.
        horizons: MIN_STEPS,
        context: contexts.get(site.id),
      });
      const first = Math.min(...series.keys());
      for (let t = first; t <= lastComplete; t += STEP_MS) model.update(jst(t), series.get(t));

      // Score the previous run's forecasts for intervals that are now complete.
      for (const [target, issued] of this.previous.get(site.id) ?? []) {
        const actual = series.get(target);
        if (target > lastComplete || actual === undefined) continue;
        const error = point(MEASUREMENTS.forecastError)
          .tag('site', site.id)
          .tag('horizon', String(issued.h))
          .floatField('error', actual - issued.forecast)
          .floatField('abs_error', Math.abs(actual - issued.forecast))
          .floatField('actual', actual)
          .timestamp(target)
          .toLineProtocol();
        if (error) lines.push(error);
      }

      const endOfDay = Math.floor((now + JST_MS) / 86_400_000 + 1) * 86_400_000 - JST_MS;
      const steps = Math.max(MIN_STEPS, Math.ceil((endOfDay - lastComplete) / STEP_MS) - 1);
      const issued = new Map<number, Issued>();
      const forecasts: CongestionMessage['next'] = [];
      for (let h = 1; h <= steps; h++) {
        const target = lastComplete + h * STEP_MS;
        const f = model.forecast(h, jst(target), this.uplift(site.id, target));
        if (!f) continue;
        const level = congestionLevel(f.forecast, site);
        issued.set(target, { h, forecast: f.forecast });
        forecasts.push({
          start: new Date(target).toISOString(),
          end: new Date(target + STEP_MS).toISOString(),
          level,
          ...f,
        });
        const line = point(MEASUREMENTS.forecast)
          .tag('site', site.id)
          .tag('horizon', String(h))
          .floatField('forecast', f.forecast)
          .floatField('lower', f.lower)
          .floatField('upper', f.upper)
          .stringField('level', level)
          .intField('issued_at', now)
          .timestamp(target)
          .toLineProtocol();
        if (line) lines.push(line);
      }
      next.set(site.id, issued);
      messages.set(site.id, this.message(site, series, lastComplete, forecasts, issuedAt));
    }
    await this.writer.write(lines, AbortSignal.timeout(WRITE_LIMIT_MS));
    this.previous = next;
    this.log.info({ sites: messages.size, points: lines.length }, 'forecast run done');
    return messages;
  }

  private message(
    site: Site,
    series: Map<number, number>,
    lastComplete: number,
    next: CongestionMessage['next'],
    issuedAt: string,
  ): CongestionMessage {
    const observed = series.get(lastComplete);
    const people = observed ?? next[0]?.forecast ?? 0;
    return {
      v: 1,
      siteId: site.id,
      issuedAt,
      stale: false,
      capacity: site.capacity,
      current: {
        level: congestionLevel(people, site),
        people,
        ...(observed !== undefined ? { observedAt: new Date(lastComplete).toISOString() } : {}),
      },
      next,
    };
  }
}

// What the open-data API reads from InfluxDB: a site's 15-minute counts (summed to hours when
// asked), the newest real reading and health of each device, and the forecasts to score a day by.
// Drill data (tag drill=true) never reaches the public. Every value enters a query through the
// client's `flux` template, never by concatenation.
import { flux, type InfluxDB } from '@influxdata/influxdb-client';
import type { Config } from '../../config/config.ts';
import { MEASUREMENTS } from '../../store/measurements.ts';

/** How far back "the newest reading" looks: a device silent for longer has none. */
const LATEST_LOOKBACK_MS = 30 * 86_400_000;

export const INTERVAL_MS = { '15m': 15 * 60_000, '1h': 3_600_000 } as const;
export type Interval = keyof typeof INTERVAL_MS;

export interface CountRow {
  start: number;
  people: number;
}

export interface CrowdRow {
  site: string;
  start: number;
  people: number;
  peopleOut: number | null;
}

export interface FieldValue {
  time: number;
  value: unknown;
}

export class InfluxReads {
  constructor(
    private readonly influx: InfluxDB,
    private readonly config: Config,
  ) {}

  private rows<T>(query: ReturnType<typeof flux>): Promise<T[]> {
    return this.influx.getQueryApi(this.config.influx.org).collectRows<T>(query);
  }

  /** A site's people per interval in [from, to) (aligned to the interval), at most `limit` rows. */
  async counts(site: string, interval: Interval, from: Date, to: Date, limit: number): Promise<CountRow[]> {
    const bucket = this.config.influx.bucket;
    const base = flux`from(bucket: ${bucket})
  |> range(start: ${from}, stop: ${to})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENTS.crowd15m.name} and r._field == "people" and r.site == ${site})
  |> keep(columns: ["_time", "_value"])`;
    const query =
      interval === '1h'
        ? flux`${base}
  |> aggregateWindow(every: 1h, fn: sum, createEmpty: false, timeSrc: "_start")
  |> limit(n: ${limit})`
        : flux`${base}
  |> limit(n: ${limit})`;
    const rows = await this.rows<{ _time: string; _value: number }>(query);
    return rows.map((r) => ({ start: Date.parse(r._time), people: r._value }));
  }

  /** Every site's 15-minute counts in [from, to). */
  async crowd(from: Date, to: Date): Promise<CrowdRow[]> {
    const rows = await this.rows<{ _time: string; site: string; people?: number; people_out?: number }>(
      flux`from(bucket: ${this.config.influx.bucket})
  |> range(start: ${from}, stop: ${to})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENTS.crowd15m.name} and (r._field == "people" or r._field == "people_out"))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> keep(columns: ["_time", "site", "people", "people_out"])`,
    );
    return rows
      .filter((r) => typeof r.people === 'number')
      .map((r) => ({
        site: r.site,
        start: Date.parse(r._time),
        people: r.people as number,
        peopleOut: r.people_out ?? null,
      }));
  }

  /**
   * Each device's newest value of each field (per device, per field: a field a reading left out
   * keeps an older time, so a caller pairs fields by time). Real data only.
   */
  async latest(measurement: string, fields: string[]): Promise<Map<string, Map<string, FieldValue>>> {
    const rows = await this.rows<{ _time: string; _field: string; _value: unknown; device: string }>(
      flux`from(bucket: ${this.config.influx.bucket})
  |> range(start: ${new Date(Date.now() - LATEST_LOOKBACK_MS)})
  |> filter(fn: (r) => r._measurement == ${measurement} and contains(value: r._field, set: ${fields}))
  |> filter(fn: (r) => not exists r.drill)
  |> last()
  |> keep(columns: ["_time", "_field", "_value", "device"])`,
    );
    const byDevice = new Map<string, Map<string, FieldValue>>();
    for (const r of rows) {
      const fieldsOf = byDevice.get(r.device) ?? new Map<string, FieldValue>();
      fieldsOf.set(r._field, { time: Date.parse(r._time), value: r._value });
      byDevice.set(r.device, fieldsOf);
    }
    return byDevice;
  }

  /** A site's issued forecasts in [from, to) at the given horizons (15-minute steps ahead). */
  async forecasts(site: string, from: Date, to: Date, horizons: number[]) {
    const rows = await this.rows<{ _time: string; _value: number; horizon: string }>(
      flux`from(bucket: ${this.config.influx.bucket})
  |> range(start: ${from}, stop: ${to})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENTS.forecast.name} and r._field == "forecast" and r.site == ${site})
  |> filter(fn: (r) => contains(value: r.horizon, set: ${horizons.map(String)}))
  |> keep(columns: ["_time", "_value", "horizon"])`,
    );
    return rows.map((r) => ({ target: Date.parse(r._time), horizon: Number(r.horizon), forecast: r._value }));
  }
}

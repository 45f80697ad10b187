// Every InfluxDB measurement machi writes, with its tags and fields, named once: writers build
// points with `point()` (a tag or field not declared here does not compile) and queries read
// names from here. Grafana's dashboards are JSON; a unit test holds them to these names.
import { Point } from '@influxdata/influxdb-client';

function measurement<const N extends string, const T extends string, const F extends string>(
  name: N,
  tags: readonly T[],
  fields: readonly F[],
) {
  const names = <K extends string>(keys: readonly K[]) =>
    Object.fromEntries(keys.map((k) => [k, k])) as { readonly [P in K]: P };
  return { name, tag: names(tags), field: names(fields) };
}

export const MEASUREMENTS = {
  /** A flood sensor's reading; `drill=true` marks an exercise's own series. */
  flood: measurement(
    'flood',
    ['device', 'area', 'family', 'vendor', 'drill'],
    ['wet', 'seq', 'stage', 'depth_cm', 'battery_v', 'rssi'],
  ),
  /** A people counter's interval. */
  crowd: measurement(
    'crowd',
    ['device', 'site', 'vendor', 'drill'],
    ['people_in', 'people_out', 'seq', 'occupancy'],
  ),
  heartbeat: measurement(
    'heartbeat',
    ['device', 'kind', 'vendor', 'drill'],
    ['seq', 'battery_v', 'rssi', 'alive'],
  ),
  deviceHealth: measurement(
    'device_health',
    ['device', 'kind', 'area', 'site'],
    ['state', 'flags', 'last_seen_ms', 'battery_v', 'rssi', 'clock_skew_s'],
  ),
  /** People per site per 15 minutes, summed over the site's cameras: what the forecast learns from. */
  crowd15m: measurement('crowd_15m', ['site'], ['people', 'people_out', 'cameras']),
  forecast: measurement(
    'forecast',
    ['site', 'horizon'],
    ['forecast', 'lower', 'upper', 'level', 'issued_at'],
  ),
  /** The previous run's forecasts scored once actuals exist. */
  forecastError: measurement('forecast_error', ['site', 'horizon'], ['error', 'abs_error', 'actual']),
  /** Alert transitions, for Grafana's annotations. */
  alertEvent: measurement(
    'alert_event',
    ['area', 'level', 'state', 'drill'],
    ['alert_id', 'rule', 'sensors', 'actor'],
  ),
} as const;

type Measurement = (typeof MEASUREMENTS)[keyof typeof MEASUREMENTS];

/** A point of measurement `M`: only its tags and fields are accepted. */
export interface MeasuredPoint<M extends Measurement = Measurement> {
  tag(name: keyof M['tag'], value: string): MeasuredPoint<M>;
  stringField(name: keyof M['field'], value: string): MeasuredPoint<M>;
  intField(name: keyof M['field'], value: number): MeasuredPoint<M>;
  floatField(name: keyof M['field'], value: number): MeasuredPoint<M>;
  booleanField(name: keyof M['field'], value: boolean): MeasuredPoint<M>;
  timestamp(value: number | Date): MeasuredPoint<M>;
  toLineProtocol(): string | undefined;
}

export function point<M extends Measurement>(m: M): MeasuredPoint<M> {
  return new Point(m.name) as unknown as MeasuredPoint<M>;
}

// A flood sensor's readings over the last hours, from InfluxDB's `flood` measurement: the real
// series, or with `drill` the exercise's (tag drill=true), never the two mixed.
import { flux, type InfluxDB } from '@influxdata/influxdb-client';
import type { Config } from '../../config/config.ts';
import type { FloodSensor } from '../../registry/schema.ts';
import type { SeriesAnswer } from '../../schemas/office.ts';
import { MEASUREMENTS } from '../../store/measurements.ts';

/** One answer's points: a reading every 10 s for three days still fits; more is cut to the newest. */
export const MAX_SERIES_POINTS = 30_000;

interface Row {
  _time: string;
  wet?: boolean | null;
  stage?: number | null;
  depth_cm?: number | null;
}

export async function sensorSeries(
  influx: InfluxDB,
  config: Config,
  sensor: FloodSensor,
  hours: number,
  drill: boolean,
  now = Date.now(),
): Promise<SeriesAnswer> {
  const from = new Date(now - hours * 3_600_000);
  const to = new Date(now);
  const { name, field } = MEASUREMENTS.flood;
  const query = flux`from(bucket: ${config.influx.bucket})
  |> range(start: ${from}, stop: ${to})
  |> filter(fn: (r) => r._measurement == ${name} and r.device == ${sensor.id})
  |> filter(fn: (r) => r._field == ${field.wet} or r._field == ${field.stage} or r._field == ${field.depth_cm})
  |> filter(fn: (r) => (exists r.drill) == ${drill})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> tail(n: ${MAX_SERIES_POINTS + 1})`;
  const rows = await influx.getQueryApi(config.influx.org).collectRows<Row>(query);
  return {
    v: 1,
    deviceId: sensor.id,
    areaId: sensor.area,
    drill,
    from: from.toISOString(),
    to: to.toISOString(),
    stagesCm: sensor.stagesCm,
    depthThresholdsCm: sensor.depthThresholdsCm ?? null,
    truncated: rows.length > MAX_SERIES_POINTS,
    points: rows.slice(-MAX_SERIES_POINTS).map((r) => ({
      time: new Date(r._time).toISOString(),
      wet: r.wet ?? null,
      stage: r.stage ?? null,
      depthCm: r.depth_cm ?? null,
    })),
  };
}

// People per site per 15 minutes, summed over the site's cameras. Each affected bucket is
// recomputed from the stored crowd points, so late data, redelivery and restarts keep it exact.
import { flux } from '@influxdata/influxdb-client';
import type { Config } from '../config/config.ts';
import type { InfluxWriter } from '../store/influx-writer.ts';
import { MEASUREMENTS, point } from '../store/measurements.ts';
import { bucketStart, FIFTEEN_MINUTES } from './points.ts';

export interface CrowdRow {
  _time: string;
  _field: string;
  _value: number;
  site: string;
  device: string;
}

export interface CrowdBucket {
  site: string;
  start: number;
  people: number;
  peopleOut: number;
  cameras: number;
}

/** Sums crowd rows into 15-minute buckets per site. */
export function aggregateCrowd(rows: CrowdRow[]): CrowdBucket[] {
  const buckets = new Map<string, CrowdBucket & { devices: Set<string> }>();
  for (const row of rows) {
    const start = bucketStart(Date.parse(row._time));
    const key = `${row.site}|${start}`;
    let b = buckets.get(key);
    if (!b) {
      b = { site: row.site, start, people: 0, peopleOut: 0, cameras: 0, devices: new Set() };
      buckets.set(key, b);
    }
    if (row._field === MEASUREMENTS.crowd.field.people_in) b.people += row._value;
    if (row._field === MEASUREMENTS.crowd.field.people_out) b.peopleOut += row._value;
    b.devices.add(row.device);
  }
  return [...buckets.values()].map(({ devices, ...b }) => ({ ...b, cameras: devices.size }));
}

export async function recomputeCrowdBuckets(
  writer: InfluxWriter,
  config: Config,
  affected: Map<string, Set<number>>,
  signal?: AbortSignal,
): Promise<CrowdBucket[]> {
  if (affected.size === 0) return [];
  const starts = [...affected.values()].flatMap((s) => [...s]);
  const from = new Date(Math.min(...starts));
  const to = new Date(Math.max(...starts) + FIFTEEN_MINUTES);
  const { crowd } = MEASUREMENTS;
  const query = flux`from(bucket: ${config.influx.bucket})
  |> range(start: ${from}, stop: ${to})
  |> filter(fn: (r) => r._measurement == ${crowd.name} and (r._field == ${crowd.field.people_in} or r._field == ${crowd.field.people_out}))
  |> filter(fn: (r) => contains(value: r.site, set: ${[...affected.keys()]}))
  |> filter(fn: (r) => not exists r.drill)
  |> keep(columns: ["_time", "_value", "_field", "site", "device"])`;
  const rows = await writer.influx.getQueryApi(config.influx.org).collectRows<CrowdRow>(query);
  const buckets = aggregateCrowd(rows).filter((b) => affected.get(b.site)?.has(b.start));
  const lines = buckets.map((b) =>
    point(MEASUREMENTS.crowd15m)
      .tag('site', b.site)
      .intField('people', b.people)
      .intField('people_out', b.peopleOut)
      .intField('cameras', b.cameras)
      .timestamp(b.start)
      .toLineProtocol(),
  );
  await writer.write(
    lines.filter((l): l is string => l !== undefined),
    signal,
  );
  return buckets;
}

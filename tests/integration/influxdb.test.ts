import { Point } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { config, testInflux, uniqueName } from '../support/helpers.ts';

describe('real InfluxDB through @influxdata/influxdb-client (v2 API)', () => {
  it('writes points and reads them back with Flux', async () => {
    const influx = testInflux();
    const run = uniqueName('run');
    const base = Date.now() - 60_000;
    const writer = influx.getWriteApi(config.influx.org, config.influx.bucket, 'ms');
    for (let i = 0; i < 5; i++) {
      writer.writePoint(
        new Point('machi_test')
          .tag('run', run)
          .tag('device', 'fs-takeo-001')
          .floatField('depth_cm', i * 2.5)
          .timestamp(base + i * 1000),
      );
    }
    await writer.close();

    const rows = await influx.getQueryApi(config.influx.org).collectRows<{ _time: string; _value: number }>(
      `from(bucket: "${config.influx.bucket}")
        |> range(start: -10m)
        |> filter(fn: (r) => r._measurement == "machi_test" and r.run == "${run}" and r._field == "depth_cm")
        |> sort(columns: ["_time"])`,
    );
    expect(rows.map((r) => r._value)).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(rows.map((r) => Date.parse(r._time))).toEqual([0, 1, 2, 3, 4].map((i) => base + i * 1000));
  });
});

// The pipeline-health dashboard's PromQL, run against a real Prometheus (Debian's, installed by
// scripts/setup.sh) scraping a real in-process machi (broker + worker) while devices publish.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../src/schemas/topics.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { eventually, freePort, uniqueName } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

interface Panel {
  id: number;
  title: string;
  targets?: Array<{ refId: string; expr?: string }>;
}
const dashboard = JSON.parse(readFileSync('grafana/dashboards/pipeline.json', 'utf8')) as { panels: Panel[] };
const exprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).flatMap((t) =>
    t.expr ? [{ name: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr }] : [],
  ),
);

let h: BrokerHarness;
let prometheus: ChildProcess;
let promUrl: string;
let dir: string;
let publishing: NodeJS.Timeout;
const clients: MqttClient[] = [];

beforeAll(async () => {
  h = await startBroker({ MACHI_WORKER_GROUP: uniqueName('prom-writer') }, [workerComponent]);
  const device = await h.device('fs-takeo-001');
  clients.push(device);
  let seq = 0;
  const publish = () => {
    seq++;
    const reading = { time: new Date().toISOString(), seq, wet: seq % 2 === 0, batteryV: 3.0 };
    device.publish(topics.floodReading('fs-takeo-001'), JSON.stringify(reading), { qos: 1 });
    // Every fifth message is invalid, so the rejected series exists too.
    if (seq % 5 === 0) device.publish(topics.floodReading('fs-takeo-001'), 'not json', { qos: 1 });
  };
  publishing = setInterval(publish, 200);

  dir = mkdtempSync(join(tmpdir(), 'machi-prom-'));
  const target = new URL(h.httpUrl).host;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: machi\n    static_configs:\n      - targets: ["${target}"]\n`,
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  await eventually(async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined), 30_000);
}, 120_000);

afterAll(async () => {
  clearInterval(publishing);
  prometheus?.kill('SIGTERM');
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('pipeline health PromQL on a real Prometheus', () => {
  it('has PromQL for message rates, Kafka lag, write and hand-off latency', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const metric of [
      'machi_broker_messages_received_total',
      'machi_broker_messages_accepted_total',
      'machi_broker_messages_rejected_total',
      'machi_worker_consumer_lag',
      'machi_worker_write_seconds_bucket',
    ]) {
      expect(all).toContain(metric);
    }
  });

  for (const { name, expr } of exprs) {
    it(`${name} returns series`, { timeout: 60_000 }, async () => {
      const result = await eventually(async () => {
        const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await res.json()) as { status: string; data: { result: unknown[] } };
        expect(body.status).toBe('success');
        return body.data.result.length > 0 ? body.data.result : undefined;
      }, 45_000);
      expect(result.length).toBeGreaterThan(0);
    });
  }
});

// The Prometheus alerting rules shipped for docker-compose, checked and exercised by promtool (from
// Debian's prometheus package): a webhook receiver 6 minutes behind must page, a caught-up one not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const RULES = resolve('grafana/alert-rules.yml');

it('promtool accepts the rules', () => {
  expect(execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' })).toContain('SUCCESS');
});

it('fires MachiAlertOutputBehind for an output more than 5 minutes behind, and only for it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'machi-promtool-'));
  const test = join(dir, 'test.yml');
  writeFileSync(
    test,
    `rule_files: [${JSON.stringify(RULES)}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'machi_alert_output_backlog_seconds{output="webhook down"}'
        values: '0 60 120 180 240 300 360 420 480'
      - series: 'machi_alert_output_backlog_seconds{output="influxdb-annotations"}'
        values: '0 0 0 0 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 8m
        alertname: MachiAlertOutputBehind
        exp_alerts:
          - exp_labels: { severity: critical, output: "webhook down" }
            exp_annotations: { summary: "alert output webhook down is 8m 0s behind" }
`,
  );
  expect(execFileSync('promtool', ['test', 'rules', test], { encoding: 'utf8' })).toContain('SUCCESS');
});

// `machi stack up|status|down` as a user runs it, on its own ports and state directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive } from '../../src/stack/processes.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'machi-stack-cli-'));
const env = {
  ...process.env,
  MACHI_STACK_DIR: stateDir,
  KAFKA_BROKERS: '127.0.0.1:19892',
  INFLUX_URL: 'http://127.0.0.1:18886',
};

function machi(...args: string[]) {
  return spawnSync('node', ['bin/machi.js', ...args], { env, encoding: 'utf8', timeout: 180_000 });
}

function pidOf(service: 'kafka/kafka' | 'influxdb/influxd'): number {
  return (JSON.parse(readFileSync(join(stateDir, `${service}.pid`), 'utf8')) as { pid: number }).pid;
}

describe('machi stack (CLI)', () => {
  afterAll(() => {
    machi('stack', 'down');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('up starts both services, is idempotent, and down leaves no process behind', () => {
    const up = machi('stack', 'up');
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toContain('Kafka     127.0.0.1:19892');
    expect(up.stdout).toContain('InfluxDB  http://127.0.0.1:18886');
    expect(up.stdout).toContain(join(stateDir, 'kafka', 'kafka.log'));
    const pids = [pidOf('kafka/kafka'), pidOf('influxdb/influxd')];
    expect(pids.every(alive)).toBe(true);

    const again = machi('stack', 'up');
    expect(again.stdout).toContain('stack was already running');
    expect([pidOf('kafka/kafka'), pidOf('influxdb/influxd')]).toEqual(pids);

    const status = machi('stack', 'status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/kafka\s+up\s+127\.0\.0\.1:19892/);

    const down = machi('stack', 'down');
    expect(down.stdout).toContain('kafka: stopped');
    expect(down.stdout).toContain('influxdb: stopped');
    expect(pids.some(alive)).toBe(false);
    expect(machi('stack', 'status').status).toBe(1);
  });
});

// The fault drills at a small scale (20 devices; 5 s outages, Kafka restarted 1 s after its kill): Kafka
// killed, InfluxDB killed, a worker SIGKILLed, the broker killed, Kafka stalled. Nothing acknowledged
// may be lost or duplicated.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('every drill ends with acknowledged = stored, no duplicates, nothing lost', { timeout: 600_000 }, () => {
  const run = spawnSync('node', ['--import', 'tsx', 'bench/drills.ts'], {
    env: { ...process.env, MACHI_DRILL_SCALE: 'small' },
    encoding: 'utf8',
    timeout: 580_000,
  });
  console.log(run.stdout);
  // A drill that dies before its first row says why only on stderr.
  if (run.status !== 0) console.error(run.stderr);
  const rows = run.stdout.split('\n').filter((l) => l.split('\t').length === 5 && !l.startsWith('drill\t'));
  expect(rows).toHaveLength(5);
  for (const row of rows) {
    const [name, acked, stored, duplicates, lost] = row.split('\t');
    expect(Number(acked), name).toBeGreaterThan(0);
    expect([stored, duplicates, lost], name).toEqual([acked, '0', '0']);
  }
  expect(run.status).toBe(0);
});

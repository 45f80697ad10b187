// The alert fault drills (bench/alert-drills.ts) at a small scale (each outage lasts until its
// drill's alert has cleared, alerts clear after 5 s dry and are re-notified every 10 s; the webhook
// and clock drills run during the InfluxDB drill, in areas of their own, and the Kafka and crash
// drills raise their flood while the drill before them finishes): InfluxDB killed, Kafka killed and
// restarted, the webhook receiver down, the alerts process and broker SIGKILLed in an acknowledged
// emergency, a device clock 20 h ahead. Every check of every drill must pass.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('every alert drill passes: office and sign see the right state in time, no event lost or doubled', {
  timeout: 600_000,
}, () => {
  const run = spawnSync('node', ['--import', 'tsx', 'bench/alert-drills.ts'], {
    env: { ...process.env, MACHI_DRILL_SCALE: 'small' },
    encoding: 'utf8',
    timeout: 580_000,
  });
  console.log(run.stdout);
  const rows = run.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((cols) => cols.length === 4 && cols[0] !== 'drill');
  expect(new Set(rows.map(([drill]) => drill?.slice(0, 2)))).toEqual(
    new Set(['a.', 'b.', 'c.', 'd.', 'e.', 'al']),
  );
  for (const [drill, expected, observed, pass] of rows)
    expect(pass, `${drill}: ${expected}: ${observed}`).toBe('pass');
  expect(run.status).toBe(0);
});

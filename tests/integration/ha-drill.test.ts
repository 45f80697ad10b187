// The storm drill (bench/ha-drill.ts, `npm run drills -- --ha`) at a small scale: two brokers, two
// workers, two alert engines on a three-node Kafka; one broker, one worker, the active alert engine
// and one Kafka node SIGKILLed in turn while a flood raises alerts. Every row must pass: nothing
// acknowledged lost or duplicated, no transition or webhook delivery lost or doubled, the screens
// right within 10 s.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('every kill of the storm drill loses and doubles nothing, the screens right within 10 s', {
  timeout: 600_000,
}, () => {
  const run = spawnSync('node', ['--import', 'tsx', 'bench/drills.ts', '--ha'], {
    env: { ...process.env, MACHI_DRILL_SCALE: 'small' },
    encoding: 'utf8',
    timeout: 580_000,
  });
  console.log(run.stdout);
  const rows = run.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((cols) => cols.length === 10 && cols[0] !== 'kill');
  expect(rows.map(([kill]) => kill)).toEqual([
    'broker A (SIGKILL)',
    'worker A (SIGKILL)',
    'active alert engine (SIGKILL)',
    'Kafka node (the alert trail leader) (SIGKILL)',
  ]);
  for (const [kill, acked, ...rest] of rows) {
    expect(Number(acked), kill).toBeGreaterThan(0);
    const [lost, duplicates, tLost, tDoubled, wLost, wDoubled, screens, pass] = rest;
    expect([lost, duplicates, tLost, tDoubled, wLost, wDoubled], kill).toEqual([
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
    ]);
    expect(Number.parseFloat(screens ?? ''), `${kill}: screens`).toBeLessThanOrEqual(10);
    expect(pass, kill).toBe('pass');
  }
  expect(run.status).toBe(0);
});

// Repeatable drills: a run starts now (or at --start), and every drill run is a new exercise whose
// devices connect with that exercise's drill client ids.
import { describe, expect, it } from 'vitest';
import { parseStart } from '../../src/cli/simulate.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { drillOf, readingTime } from '../../src/schemas/readings.ts';
import { newExerciseId, simClientId } from '../../src/simulators/devices.ts';
import { generate } from '../../src/simulators/generate.ts';
import { type RunOptions, runScenario } from '../../src/simulators/run.ts';
import { loadScenario } from '../../src/simulators/scenario.ts';

const registry = loadRegistry('devices');

/** What a run starts with. The signal is aborted beforehand, so no device ever connects. */
async function runStart(opts: Partial<RunOptions> & { scenario: RunOptions['scenario'] }) {
  let started: { start: number; exercise?: string } | undefined;
  const result = await runScenario({
    registry,
    url: 'mqtt://127.0.0.1:1',
    speed: 0,
    signal: AbortSignal.abort(),
    onStart: (run) => {
      started = run;
    },
    ...opts,
  });
  expect(result).toEqual({ sent: 0, acknowledged: 0, failed: 0 });
  if (!started) throw new Error('onStart was not called');
  return started;
}

describe('scenario start', () => {
  it('is now by default, so running a drill again plays a new time window', async () => {
    const before = Date.now();
    const { start } = await runStart({ scenario: loadScenario('heavy-rain-2021') });
    expect(start).toBeGreaterThanOrEqual(before);
    expect(start).toBeLessThanOrEqual(Date.now());
  });

  it('is the --start time when given', async () => {
    const start = parseStart('2026-08-14T09:00:00+09:00');
    expect(start).toBe(Date.parse('2026-08-14T00:00:00Z'));
    expect(await runStart({ scenario: loadScenario('festival'), start })).toEqual({ start });
  });

  it('maps device time to start + simulated time (plus a faulty clock’s drift)', () => {
    const scenario = loadScenario('heavy-rain-2021');
    const start = parseStart('2026-08-14T00:00:00Z');
    const drift = new Map(scenario.faults.map((f) => [f.deviceId, f.driftS * 1000]));
    const stream = generate(scenario, registry, start);
    expect(stream[0]?.atMs).toBe(0);
    for (const m of stream)
      expect(Date.parse(readingTime(m.reading)) - start - m.atMs).toBe(drift.get(m.deviceId) ?? 0);
  });

  it('refuses --start that is not an ISO-8601 time with a UTC offset', () => {
    for (const bad of ['2026-08-14', '2026-08-14T09:00:00', 'yesterday', '2026-02-30T00:00:00Z', ''])
      expect(() => parseStart(bad), bad).toThrow(/--start ".*" is not an ISO-8601 time with a UTC offset/);
  });
});

describe('exercise identity', () => {
  it('is short, [a-z0-9] only, sorts by start time and differs between runs at the same moment', () => {
    const now = Date.parse('2026-08-14T00:00:00Z');
    const ids = Array.from({ length: 50 }, () => newExerciseId(now));
    for (const id of ids) {
      expect(id).toMatch(/^[a-z0-9]{12}$/);
      expect(Number.parseInt(id.slice(0, -4), 36)).toBe(now);
    }
    expect(new Set(ids).size).toBeGreaterThan(45);
    expect(newExerciseId(now + 1000) > newExerciseId(now)).toBe(true);
  });

  it('gives every drill run a new exercise, and none to other runs', async () => {
    const drill = loadScenario('heavy-rain-2021');
    const first = await runStart({ scenario: drill });
    const second = await runStart({ scenario: drill });
    expect(first.exercise).toMatch(/^[a-z0-9]+$/);
    expect(second.exercise).not.toBe(first.exercise);
    expect((await runStart({ scenario: loadScenario('festival') })).exercise).toBeUndefined();
    expect((await runStart({ scenario: loadScenario('festival'), drill: true })).exercise).toBeDefined();
  });

  it('names the exercise in drill client ids; other runs connect as sim-<id>', () => {
    const exercise = newExerciseId();
    const drillId = simClientId('fs-takeo-001', exercise);
    expect(drillId).toBe(`drill-fs-takeo-001@${exercise}`);
    expect(drillOf(drillId)).toEqual({ drill: true, exercise });
    expect(simClientId('fs-takeo-001')).toBe('sim-fs-takeo-001');
    expect(drillOf(simClientId('fs-takeo-001'))).toEqual({ drill: false });
  });
});

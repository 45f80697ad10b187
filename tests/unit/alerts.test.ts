import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/engine.ts';
import { DEFAULT_RULES, type RuleSettings } from '../../src/alerts/sensor.ts';
import { type Registry, RegistryFile } from '../../src/registry/schema.ts';
import type { AlertEvent } from '../../src/schemas/alerts.ts';
import type { FloodReading } from '../../src/schemas/readings.ts';

const hash = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
const sensor = (id: string, lat: number, lon: number, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'flood-sensor',
  vendor: 'machi-json',
  family: 'contact',
  area: 'town',
  lat,
  lon,
  heartbeatS: 300,
  secretHash: hash,
  ...extra,
});
function registry(): Registry {
  const file = RegistryFile.parse({
    areas: [
      {
        id: 'town',
        name: { ja: '町', en: 'Town' },
        lat: 33,
        lon: 130,
        emergencyDepthCm: 30,
        emergencySpread: 0.8,
      },
    ],
    devices: [
      sensor('fs-a', 33.0, 130.0),
      sensor('fs-b', 33.002, 130.0), // ~220 m from a
      sensor('fs-c', 33.004, 130.0, { family: 'radio', stagesCm: [10, 40] }), // ~440 m from a
      sensor('fs-d', 33.05, 130.05, { stagesCm: [10, 20, 30] }), // ~7 km away
      sensor('fs-e', 33.1, 130.1, { depthThresholdsCm: { watch: 5, warning: 15 } }), // far
    ],
  });
  return {
    areas: new Map(file.areas.map((a) => [a.id, a])),
    sites: new Map(),
    devices: new Map(file.devices.map((d) => [d.id, d])),
    events: [],
  };
}

const T0 = Date.parse('2021-08-14T03:00:00Z');
const rules: RuleSettings = { ...DEFAULT_RULES, debounceMs: 60_000, clearMs: 600_000, renotifyMs: 300_000 };
const reading = (deviceId: string, atS: number, fields: Partial<FloodReading> = {}): FloodReading => ({
  kind: 'flood',
  deviceId,
  time: new Date(T0 + atS * 1000).toISOString(),
  seq: atS,
  wet: true,
  ...fields,
});

/** The Kafka record of `r` as the broker received it `receivedS` seconds after T0. */
const record = (r: FloodReading, receivedS: number, exercise?: string) => ({
  reading: r,
  receivedAt: new Date(T0 + receivedS * 1000).toISOString(),
  ...(exercise ? { exercise } : {}),
});

/** Feeds [device, second, fields] rows and returns the transitions, as "transition:level". */
function run(
  rows: Array<[string, number, Partial<FloodReading>?]>,
  engine = new AlertEngine(registry(), rules, false),
) {
  const events: AlertEvent[] = [];
  for (const [id, at, fields] of rows)
    events.push(...engine.observeReading(record(reading(id, at, fields), at)));
  return { engine, events, summary: events.map((e) => `${e.transition}:${e.level}`) };
}

describe('debounce', () => {
  it.each([
    [
      'a splash (wet then dry within the debounce) raises nothing',
      [
        ['fs-a', 0],
        ['fs-a', 30, { wet: false }],
      ],
      [],
    ],
    [
      'wet held past the debounce raises a watch',
      [
        ['fs-a', 0],
        ['fs-a', 30],
        ['fs-a', 61],
      ],
      ['raised:watch'],
    ],
    [
      'a dry reading restarts the debounce',
      [
        ['fs-a', 0],
        ['fs-a', 50, { wet: false }],
        ['fs-a', 70],
        ['fs-a', 120],
      ],
      [],
    ],
  ] as const)('%s', (_name, rows, expected) => {
    expect(run(rows as never).summary).toEqual(expected);
  });
});

describe('hysteresis', () => {
  it('does not flap on a noisy on/off series, and clears only after staying dry', () => {
    const rows: Array<[string, number, Partial<FloodReading>?]> = [
      ['fs-a', 0],
      ['fs-a', 61],
    ];
    // Noisy: dry blips every 40 s for 20 minutes.
    for (let t = 100; t < 1300; t += 40) rows.push(['fs-a', t, { wet: (t / 40) % 2 === 0 }]);
    rows.push(['fs-a', 1340, { wet: false }], ['fs-a', 1600, { wet: false }], ['fs-a', 1941, { wet: false }]);
    expect(run(rows).summary).toEqual(['raised:watch', 'cleared:watch']);
  });
});

describe('corroboration', () => {
  it('k of n within the radius raises a warning; the same two sensors far apart do not', () => {
    expect(
      run([
        ['fs-a', 0],
        ['fs-b', 0],
        ['fs-a', 61],
        ['fs-b', 61],
      ]).summary,
    ).toEqual(['raised:watch', 'escalated:warning']);
    expect(
      run([
        ['fs-a', 0],
        ['fs-d', 0],
        ['fs-a', 61],
        ['fs-d', 61],
      ]).summary,
    ).toEqual(['raised:watch']);
  });

  it('a staged rise 10 → 20 → 30 cm on one sensor corroborates, up to emergency at the area depth', () => {
    // Slow enough (0.5 cm/min) that the rate of rise alone would not corroborate.
    const { events, summary } = run([
      ['fs-d', 0, { stage: 1 }],
      ['fs-d', 61, { stage: 1 }],
      ['fs-d', 1261, { stage: 2 }],
      ['fs-d', 2461, { stage: 3 }],
    ]);
    expect(summary).toEqual(['raised:watch', 'escalated:emergency']);
    expect(events[1]?.rule).toBe('staged-rise+depth');
  });

  it('fast-rising measured depth corroborates; deep water is an emergency', () => {
    const { events, summary } = run([
      ['fs-e', 0, { depthCm: 6 }],
      ['fs-e', 61, { depthCm: 6.5 }],
      ['fs-e', 121, { depthCm: 12 }],
      ['fs-e', 181, { depthCm: 31 }],
    ]);
    expect(summary).toEqual(['raised:watch', 'escalated:warning', 'escalated:emergency']);
    expect(events.map((e) => e.rule)).toEqual(['single-sensor', 'rapid-rise', 'rapid-rise+depth']);
  });
});

describe('silent radio sensors', () => {
  const silent = {
    v: 1,
    deviceId: 'fs-c',
    kind: 'flood-sensor',
    area: 'town',
    state: 'silent',
    since: new Date(T0).toISOString(),
  } as const;

  it('count as a possible flood when a neighbour is wet', () => {
    const { engine, summary } = run([
      ['fs-a', 0],
      ['fs-a', 61],
    ]);
    const events = engine.observeHealth(silent);
    expect([...summary, ...events.map((e) => `${e.transition}:${e.level}`)]).toEqual([
      'raised:watch',
      'escalated:warning',
    ]);
    expect(events[0]?.cause.find((c) => c.deviceId === 'fs-c')).toBeUndefined(); // never heard: no reading to cite
    expect(engine.classifySilent('fs-c')).toBe('possible-flood');
  });

  it('are a maintenance issue when alone, a low-battery one when the battery was low', () => {
    const engine = new AlertEngine(registry(), rules, false);
    engine.observeReading(record(reading('fs-c', 0, { wet: false, batteryV: 2.2 }), 0));
    expect(engine.observeHealth(silent)).toEqual([]);
    expect(engine.classifySilent('fs-c')).toBe('maintenance-low-battery');
    engine.observeReading(record(reading('fs-c', 10, { wet: false, batteryV: 3 }), 10));
    engine.observeHealth(silent);
    expect(engine.classifySilent('fs-c')).toBe('maintenance');
  });
});

describe('lifecycle', () => {
  it('re-notifies an unacknowledged alert on schedule, not an acknowledged one, and escalation needs a new ack', () => {
    const { engine } = run([
      ['fs-a', 0],
      ['fs-a', 61],
    ]);
    expect(engine.tick(T0 + 61_000 + 299_000)).toEqual([]);
    expect(engine.tick(T0 + 61_000 + 300_000).map((e) => e.transition)).toEqual(['re-notified']);
    const id = engine.active('town').alerts[0]?.id ?? '';
    expect(engine.acknowledge(id, 'tanaka', T0 + 400_000)).toMatchObject({
      transition: 'acknowledged',
      actor: 'office:tanaka',
      acknowledged: true,
    });
    expect(engine.tick(T0 + 2_000_000).filter((e) => e.transition === 're-notified')).toEqual([]);
    const up = engine.observeReading(record(reading('fs-b', 2000), 2000));
    engine.observeReading(record(reading('fs-b', 2100), 2100));
    expect(engine.active('town').alerts[0]).toMatchObject({ level: 'warning', acknowledgedAt: undefined });
    expect(up).toEqual([]);
  });

  it('carries the drill flag on every event of a drill engine', () => {
    const { events } = run(
      [
        ['fs-a', 0],
        ['fs-b', 0],
        ['fs-a', 61],
        ['fs-b', 61],
      ],
      new AlertEngine(registry(), rules, true),
    );
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.drill && e.alertId.includes('-drill-'))).toBe(true);
  });

  it('names the rule and cites the readings that made the condition true', () => {
    const { events } = run([
      ['fs-a', 0],
      ['fs-b', 0],
      ['fs-a', 61],
      ['fs-b', 61, { depthCm: 4 }],
    ]);
    const warning = events.find((e) => e.level === 'warning');
    expect(warning?.rule).toBe('corroborated');
    expect(warning?.cause.map((c) => c.deviceId).sort()).toEqual(['fs-a', 'fs-b']);
  });
});

describe('clock', () => {
  it('runs on broker time: a sensor whose clock is 20 h ahead does not skip the debounce', () => {
    const ahead = (atS: number) => record(reading('fs-a', atS + 20 * 3600), atS);
    const engine = new AlertEngine(registry(), rules, false);
    // Two wet readings 10 s apart by the broker's clock, 20 h ahead by the device's.
    expect(engine.observeReading(ahead(0))).toEqual([]);
    expect(engine.observeReading(ahead(10))).toEqual([]);
    expect(engine.active('town').alerts).toEqual([]);
    expect(engine.now()).toBe(T0 + 10_000);
    // The debounce completes on broker time, as for an honest clock.
    expect(engine.observeReading(ahead(61)).map((e) => e.transition)).toEqual(['raised']);
  });

  it('a wrong device clock neither clears an alert early nor stops re-notification', () => {
    const { engine } = run([
      ['fs-a', 0],
      ['fs-a', 61],
    ]);
    // A dry reading dated 2 h ahead: the hysteresis still wants 10 minutes of broker time.
    engine.observeReading(record(reading('fs-a', 7200, { wet: false }), 70));
    expect(engine.tick(T0 + 70_000 + 599_000).map((e) => e.transition)).toEqual(['re-notified']);
    expect(engine.active('town').alerts).toHaveLength(1);
    expect(engine.tick(T0 + 70_000 + 600_000).map((e) => e.transition)).toEqual(['cleared']);
  });
});

describe('readings read again', () => {
  it('a reading older than the latest from its sensor (a consumer that went back) changes nothing', () => {
    const { engine, summary } = run([
      ['fs-a', 0],
      ['fs-a', 61],
      ['fs-a', 70, { wet: false }],
    ]);
    expect(summary).toEqual(['raised:watch']);
    engine.tick(T0 + 670_000);
    expect(engine.active('town').alerts).toEqual([]);
    // The wet readings come again after the clear: the sensor's dry spell stands.
    for (const at of [0, 61]) expect(engine.observeReading(record(reading('fs-a', at), at))).toEqual([]);
    expect(engine.tick(T0 + 671_000)).toEqual([]);
  });
});

describe('drill exercises', () => {
  const drillRun = (engine: AlertEngine, exercise: string, startS: number) =>
    (
      [
        ['fs-a', 0],
        ['fs-b', 0],
        ['fs-a', 61],
        ['fs-b', 61],
      ] as const
    ).flatMap(([id, at]) => engine.observeReading(record(reading(id, startS + at), 0, exercise)));

  it('the same drill run twice raises the same alert twice; the first run is cleared when the second begins', () => {
    const engine = new AlertEngine(registry(), rules, true);
    const first = drillRun(engine, 'ex1', 0);
    expect(first.map((e) => `${e.transition}:${e.level}`)).toEqual(['raised:watch', 'escalated:warning']);
    // The second run replays the same simulated hours: earlier than the drill clock already is.
    const second = drillRun(engine, 'ex2', 0);
    expect(second.map((e) => `${e.transition}:${e.level}`)).toEqual([
      'cleared:warning',
      'raised:watch',
      'escalated:warning',
    ]);
    expect(second[0]?.rule).toBe('exercise-ended');
    expect(engine.active('town').alerts).toHaveLength(1);
  });

  it('drill time is the exercise clock: a 240x replay debounces on simulated time', () => {
    const engine = new AlertEngine(registry(), rules, true);
    // Received within one second of wall time, 61 simulated seconds apart.
    expect(drillRun(engine, 'fast', 0).map((e) => e.transition)).toEqual(['raised', 'escalated']);
  });
});

describe('reconcile after a restart', () => {
  const recorded = (alertId: string, level: 'watch' | 'warning' | 'emergency', ack = false) => ({
    alertId,
    level,
    openedAt: T0,
    ...(ack ? { acknowledgedAt: T0 + 1000, acknowledgedBy: 'tanaka' } : {}),
  });

  it('keeps the recorded id and acknowledgement of the same episode and announces nothing', () => {
    const { engine } = run([
      ['fs-a', 0],
      ['fs-a', 61],
    ]);
    expect(engine.reconcile('town', recorded('town-20210814T030000Z-old', 'watch', true))).toEqual([]);
    expect(engine.active('town').alerts[0]).toMatchObject({
      id: 'town-20210814T030000Z-old',
      acknowledgedBy: 'tanaka',
    });
  });

  it('announces an escalation that happened while down, under the recorded id', () => {
    const { engine } = run([
      ['fs-a', 0],
      ['fs-b', 0],
      ['fs-a', 61],
      ['fs-b', 61],
    ]);
    const events = engine.reconcile('town', recorded('town-old', 'watch'));
    expect(events.map((e) => `${e.alertId}:${e.transition}:${e.level}`)).toEqual([
      'town-old:escalated:warning',
    ]);
  });

  it('a replay that reads one sensor partition after another rebuilds the level live reached', () => {
    const rows = [0, 30, 61, 90].flatMap(
      (at): Array<[string, number]> => [
        ['fs-a', at],
        ['fs-b', at],
      ],
    );
    const live = run(rows);
    // Kafka hands a start-up replay each partition's history in turn: all of fs-a's, then fs-b's.
    const replayed = run([...rows.filter(([id]) => id === 'fs-a'), ...rows.filter(([id]) => id === 'fs-b')]);
    expect(live.engine.active('town').alerts[0]?.level).toBe('warning');
    expect(replayed.engine.active('town').alerts[0]?.level).toBe('warning');
    expect(replayed.engine.reconcile('town', recorded('town-old', 'warning'))).toEqual([]);
  });

  it('after a replay brought to the present, an alert that cleared by time alone is not raised again', () => {
    // Live: a watch, the sensor dries and sends nothing more; the tick cleared it 10 minutes later.
    const { engine } = run([
      ['fs-a', 0],
      ['fs-a', 61],
      ['fs-a', 70, { wet: false }],
    ]);
    engine.tick(T0 + 3_600_000);
    // The trail's last word was `cleared`: nothing to announce.
    expect(engine.reconcile('town', undefined)).toEqual([]);
  });

  it('clears a recorded alert the readings no longer support, and raises one the trail never saw', () => {
    const dry = new AlertEngine(registry(), rules, false);
    expect(
      dry.reconcile('town', recorded('town-old', 'warning')).map((e) => `${e.alertId}:${e.transition}`),
    ).toEqual(['town-old:cleared']);
    const { engine } = run([
      ['fs-a', 0],
      ['fs-a', 61],
    ]);
    expect(engine.reconcile('town', undefined).map((e) => e.transition)).toEqual(['raised']);
  });
});

// Record real traffic through the broker, replay it at 10×: complete, in order per device, spacing scaled.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { topics } from '../../src/schemas/topics.ts';
import { record } from '../../src/simulators/record.ts';
import { readRecording, replay } from '../../src/simulators/replay.ts';
import { eventually } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

let h: BrokerHarness | undefined;
afterAll(async () => h?.stop());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('replays a recording at 10×: complete, in order per device, spacing scaled', {
  timeout: 60_000,
}, async () => {
  h = await startBroker();
  const harness = h;
  const dir = mkdtempSync(join(tmpdir(), 'machi-replay-'));
  const file = join(dir, 'rec.ndjson');
  const recording = await record({
    url: harness.mqttUrl,
    password: harness.config.mqtt.roles.recorder,
    file,
    filter: 'takeo/v1/+/+/reading',
  });
  const ids = ['fs-takeo-001', 'fs-takeo-004', 'fs-takeo-007'];
  const clients = await Promise.all(ids.map((id) => harness.device(id)));
  for (let i = 0; i < 24; i++) {
    const id = ids[i % 3] as string;
    await clients[i % 3]?.publishAsync(
      topics.floodReading(id),
      JSON.stringify({ time: new Date().toISOString(), seq: i, wet: true }),
      { qos: 1 },
    );
    await sleep(250);
  }
  await eventually(async () => (recording.count() === 24 ? true : undefined));
  await recording.stop();
  const original = readRecording(file);
  const span = (xs: Array<{ t: number }>) => (xs.at(-1)?.t ?? 0) - (xs[0]?.t ?? 0);
  const originalSpan = span(original.map((m) => ({ t: Date.parse(m.time) })));

  // Watch what reaches the broker during the replay.
  const seen: Array<{ topic: string; payload: string; t: number }> = [];
  const watcher = await harness.connect('recorder', harness.config.mqtt.roles.recorder);
  watcher.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString(), t: Date.now() }));
  await watcher.subscribeAsync('takeo/v1/+/+/reading', { qos: 1 });
  let exercise: string | undefined;
  const result = await replay({
    file,
    url: harness.mqttUrl,
    registry: harness.broker.registry,
    speed: 10,
    drill: true,
    onStart: (run) => {
      exercise = run.exercise;
    },
  });
  await eventually(async () => (seen.length === 24 ? true : undefined));

  expect(result).toEqual({ sent: 24, acknowledged: 24, failed: 0, skipped: 0 });
  // A drill replay is an exercise of its own, like a drill scenario run.
  expect(exercise).toMatch(/^[a-z0-9]+$/);
  for (const id of ids) {
    const sent = original
      .filter((m) => m.topic.includes(id))
      .map((m) => Buffer.from(m.payload, 'base64').toString());
    expect(seen.filter((m) => m.topic.includes(id)).map((m) => m.payload)).toEqual(sent);
  }
  const replaySpan = span(seen);
  expect(replaySpan).toBeGreaterThan(originalSpan / 10 - 300);
  expect(replaySpan).toBeLessThan(originalSpan / 10 + 600);
});

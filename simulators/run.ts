// Plays a scenario against a broker: simulated time runs `speed` times faster than real time and
// ends at the moment the run started plus its wall duration, so device times stay recent.
import type { Registry } from '../src/registry/schema.ts';
import { DeviceFleet, inParallel } from './devices.ts';
import { generate, type SimMessage } from './generate.ts';
import type { Scenario } from './scenario.ts';

export interface RunResult {
  sent: number;
  acknowledged: number;
  failed: number;
}

export interface RunOptions {
  scenario: Scenario;
  registry: Registry;
  url: string;
  /** Simulated seconds per real second; 0 = as fast as the broker acknowledges. */
  speed: number;
  drill?: boolean;
  /** Stop after this many real seconds. */
  maxSeconds?: number;
  onProgress?: (done: number, total: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScenario(opts: RunOptions): Promise<RunResult> {
  const { scenario, registry, speed } = opts;
  const runStart = Date.now() - scenario.durationH * 3_600_000;
  const messages = generate(scenario, registry, runStart);
  const fleet = new DeviceFleet(opts.url, registry, { drill: opts.drill ?? scenario.drill });
  const result: RunResult = { sent: 0, acknowledged: 0, failed: 0 };
  const wallStart = Date.now();
  const deadline = opts.maxSeconds ? wallStart + opts.maxSeconds * 1000 : Number.POSITIVE_INFINITY;
  try {
    for (let i = 0; i < messages.length && Date.now() < deadline; ) {
      const at = (messages[i] as SimMessage).atMs;
      const step: SimMessage[] = [];
      while (i < messages.length && (messages[i] as SimMessage).atMs === at)
        step.push(messages[i++] as SimMessage);
      if (speed > 0) await sleep(Math.max(0, wallStart + at / speed - Date.now()));
      await inParallel(step, 50, async (m) => {
        result.sent++;
        try {
          await fleet.publish(m.deviceId, m.topic, m.reading);
          result.acknowledged++;
        } catch {
          result.failed++;
        }
      });
      opts.onProgress?.(i, messages.length);
    }
  } finally {
    await fleet.close();
  }
  return result;
}

// Plays a scenario against a broker. Simulated time 0 is the run's start (now unless told), and
// device time = start + simulated time, so at speed N > 1 device times run ahead of the wall clock:
// a drill keeps its own clock, and running it again means a new exercise at a new time.
import type { Registry } from '../registry/schema.ts';
import type { BrokerTrust } from '../runtime/component.ts';
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
  /** The CA to trust for an mqtts:// broker (MQTT_CA); none: Node's own CAs. */
  tls?: BrokerTrust;
  /** Simulated seconds per real second; 0 = as fast as the broker acknowledges. */
  speed: number;
  drill?: boolean;
  /** The device time simulated time 0 maps to (ms since the epoch); now when left out. */
  start?: number;
  /** Stop after this many real seconds. */
  maxSeconds?: number;
  /** Stops the run between two steps (Ctrl-C). */
  signal?: AbortSignal;
  /** Called once the run is set up, before the first message: its start and, in a drill, its exercise id. */
  onStart?: (run: { start: number; exercise?: string }) => void;
  onProgress?: (done: number, total: number) => void;
}

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function runScenario(opts: RunOptions): Promise<RunResult> {
  const { scenario, registry, speed } = opts;
  const start = opts.start ?? Date.now();
  const messages = generate(scenario, registry, start);
  const stop = AbortSignal.any([
    ...(opts.signal ? [opts.signal] : []),
    ...(opts.maxSeconds ? [AbortSignal.timeout(opts.maxSeconds * 1000)] : []),
  ]);
  const fleet = new DeviceFleet(opts.url, registry, { drill: opts.drill ?? scenario.drill, tls: opts.tls });
  const result: RunResult = { sent: 0, acknowledged: 0, failed: 0 };
  opts.onStart?.({ start, exercise: fleet.exercise });
  const wallStart = Date.now();
  try {
    for (let i = 0; i < messages.length && !stop.aborted; ) {
      const at = (messages[i] as SimMessage).atMs;
      if (speed > 0) await sleep(wallStart + at / speed - Date.now(), stop);
      if (stop.aborted) break;
      const step: SimMessage[] = [];
      while (i < messages.length && (messages[i] as SimMessage).atMs === at)
        step.push(messages[i++] as SimMessage);
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

// Replays a recording through each device's own credentials, keeping the original spacing scaled
// by `speed`. Only device topics are replayed; anything else in the file is skipped and counted.
// A drill replay is a new exercise each time, like a drill scenario run.
import { readFileSync } from 'node:fs';
import type { Registry } from '../registry/schema.ts';
import type { BrokerTrust } from '../runtime/component.ts';
import { parseDeviceTopic } from '../schemas/topics.ts';
import { DeviceFleet } from './devices.ts';
import { RecordedMessage } from './record.ts';

export interface ReplayResult {
  sent: number;
  acknowledged: number;
  failed: number;
  skipped: number;
}

export function readRecording(file: string): RecordedMessage[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const parsed = RecordedMessage.safeParse(JSON.parse(l));
      if (!parsed.success)
        throw new Error(`${file}:${i + 1}: not a recorded message: ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    });
}

export async function replay(opts: {
  file: string;
  url: string;
  /** The CA to trust for an mqtts:// broker (MQTT_CA); none: Node's own CAs. */
  tls?: BrokerTrust;
  registry: Registry;
  speed: number;
  drill: boolean;
  /** Called before the first message with the exercise id of a drill replay. */
  onStart?: (run: { exercise?: string }) => void;
  onProgress?: (done: number, total: number) => void;
}): Promise<ReplayResult> {
  const messages = readRecording(opts.file);
  const fleet = new DeviceFleet(opts.url, opts.registry, { drill: opts.drill, tls: opts.tls });
  const result: ReplayResult = { sent: 0, acknowledged: 0, failed: 0, skipped: 0 };
  opts.onStart?.({ exercise: fleet.exercise });
  const first = Date.parse(messages[0]?.time ?? new Date().toISOString());
  const wallStart = Date.now();
  // Per device, messages go out one after another (order kept); devices run side by side.
  const queues = new Map<string, Promise<void>>();
  try {
    for (const [i, m] of messages.entries()) {
      const device = parseDeviceTopic(m.topic);
      if (!device) {
        result.skipped++;
        continue;
      }
      const due = wallStart + (Date.parse(m.time) - first) / opts.speed;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      result.sent++;
      const previous = queues.get(device.deviceId) ?? Promise.resolve();
      queues.set(
        device.deviceId,
        previous.then(() =>
          fleet
            .publishRaw(device.deviceId, m.topic, Buffer.from(m.payload, 'base64'), m.qos === 0 ? 0 : 1)
            .then(
              () => {
                result.acknowledged++;
              },
              () => {
                result.failed++;
              },
            ),
        ),
      );
      opts.onProgress?.(i + 1, messages.length);
    }
    await Promise.all(queues.values());
  } finally {
    await fleet.close();
  }
  return result;
}

// Every payload goes through the same steps, whatever its vendor: identity, size, encoding, decode,
// schema, ranges, time window. Returns a reason code instead of throwing.
import type { Device } from '../registry/schema.ts';
import { CanonicalReading, readingTime } from '../schemas/readings.ts';
import { type ReasonCode, Rejection } from '../schemas/reasons.ts';
import type { DeviceTopic } from '../schemas/topics.ts';
import { adapterFor } from './index.ts';

const HOUR = 3_600_000;
const MAX_AHEAD_MS = 24 * HOUR;
const MAX_BEHIND_MS = 7 * 24 * HOUR;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type Validated =
  | { ok: true; reading: CanonicalReading; drill: boolean }
  | { ok: false; reason: ReasonCode; detail: string };

export interface ValidateInput {
  payload: Buffer;
  topic: DeviceTopic;
  device: Device | undefined;
  receivedAt: Date;
  maxPayloadBytes: number;
}

const TOPIC_KIND = { flood: 'flood-sensor', crowd: 'people-counter' } as const;

export function toCanonical(input: ValidateInput): Validated {
  try {
    return validate(input);
  } catch (err) {
    if (err instanceof Rejection) return { ok: false, reason: err.reason, detail: err.detail };
    return { ok: false, reason: 'PAYLOAD_MALFORMED', detail: String((err as Error).message).slice(0, 100) };
  }
}

function validate({ payload, topic, device, receivedAt, maxPayloadBytes }: ValidateInput): Validated {
  if (!device) throw new Rejection('UNKNOWN_DEVICE', `no device "${topic.deviceId}" in the registry`);
  if (TOPIC_KIND[topic.kind] !== device.kind) {
    throw new Rejection('TOPIC_INVALID', `${device.id} is a ${device.kind}, not a ${TOPIC_KIND[topic.kind]}`);
  }
  if (payload.length > maxPayloadBytes) {
    throw new Rejection('PAYLOAD_TOO_LARGE', `${payload.length} bytes, the limit is ${maxPayloadBytes}`);
  }
  const adapter = adapterFor(device.vendor);
  if (!adapter) throw new Rejection('UNKNOWN_ADAPTER', `no adapter for vendor format "${device.vendor}"`);
  if (adapter.text) {
    try {
      utf8.decode(payload);
    } catch {
      throw new Rejection('PAYLOAD_NOT_UTF8', `${adapter.format} payloads are text`);
    }
  }
  const decoded = adapter.decode(payload, { device, message: topic.message }) as Record<string, unknown>;
  if (decoded.deviceId !== undefined && decoded.deviceId !== topic.deviceId) {
    throw new Rejection(
      'DEVICE_MISMATCH',
      `payload says "${String(decoded.deviceId).slice(0, 64)}", topic says "${topic.deviceId}"`,
    );
  }
  const parsed = CanonicalReading.safeParse(decoded);
  if (!parsed.success) {
    const issue = pickIssue(parsed.error.issues);
    const field = issue.path.join('.') || '(payload)';
    throw new Rejection(reasonFor(issue), `${field}: ${issue.message}`);
  }
  const reading = parsed.data;
  if (reading.kind === 'flood' && reading.stage !== undefined && device.kind === 'flood-sensor') {
    if (reading.stage > device.stagesCm.length) {
      throw new Rejection(
        'VALUE_OUT_OF_RANGE',
        `stage: ${reading.stage} but the device has ${device.stagesCm.length} stages`,
      );
    }
  }
  const offset = Date.parse(readingTime(reading)) - receivedAt.getTime();
  if (offset > MAX_AHEAD_MS)
    throw new Rejection('TIME_IN_FUTURE', `device time is ${Math.round(offset / HOUR)} h ahead`);
  if (offset < -MAX_BEHIND_MS)
    throw new Rejection('TIME_TOO_OLD', `device time is ${Math.round(-offset / HOUR)} h behind`);
  return { ok: true, reading, drill: decoded.drill === true };
}

type Issue = { code: string; path: PropertyKey[]; message: string };

/** A wrong type outranks a range problem, which outranks an interval problem. */
function pickIssue(issues: Issue[]): Issue {
  const rank = (i: Issue) =>
    reasonFor(i) === 'SCHEMA_INVALID' ? 0 : reasonFor(i) === 'VALUE_OUT_OF_RANGE' ? 1 : 2;
  return [...issues].sort((a, b) => rank(a) - rank(b))[0] as Issue;
}

function reasonFor(issue: Issue): ReasonCode {
  if (issue.code === 'too_small' || issue.code === 'too_big') return 'VALUE_OUT_OF_RANGE';
  if (issue.code === 'custom' && issue.path.includes('intervalEnd')) return 'INTERVAL_INVALID';
  return 'SCHEMA_INVALID';
}

// Canonical readings: what every vendor adapter produces and every later stage consumes.
// Field names follow FIWARE Smart Data Models where one exists (FloodMonitoring, CrowdFlowObserved).
import { z } from 'zod';
import { DeviceId, Timestamp } from './common.ts';

/** A flood sensor's reading. `wet` is the binary state every one-coin sensor reports. */
export const FloodReading = z.object({
  kind: z.literal('flood'),
  deviceId: DeviceId,
  /** Device time of the observation. */
  time: Timestamp,
  seq: z.number().int().min(0),
  wet: z.boolean(),
  /** Staged sensors: how many of the registry's stage heights are under water (0 = none). */
  stage: z.number().int().min(0).max(10).optional(),
  /** Depth sensors: water depth above the road surface. */
  depthCm: z.number().min(0).max(500).optional(),
  batteryV: z.number().min(0).max(10).optional(),
  rssiDbm: z.number().min(-150).max(0).optional(),
});
export type FloodReading = z.infer<typeof FloodReading>;

/** A people counter's count over one interval; no images ever leave the camera. */
export const CrowdCount = z
  .object({
    kind: z.literal('crowd'),
    deviceId: DeviceId,
    seq: z.number().int().min(0),
    intervalStart: Timestamp,
    intervalEnd: Timestamp,
    peopleIn: z.number().int().min(0).max(1_000_000),
    peopleOut: z.number().int().min(0).max(1_000_000),
    /** People present at the end of the interval, when the camera can tell. */
    occupancy: z.number().int().min(0).max(1_000_000).optional(),
  })
  .refine((c) => Date.parse(c.intervalEnd) > Date.parse(c.intervalStart), {
    message: 'intervalEnd must be after intervalStart',
    path: ['intervalEnd'],
  });
export type CrowdCount = z.infer<typeof CrowdCount>;

/** A device's periodic sign of life, with battery and signal. */
export const Heartbeat = z.object({
  kind: z.literal('heartbeat'),
  deviceId: DeviceId,
  time: Timestamp,
  seq: z.number().int().min(0).optional(),
  batteryV: z.number().min(0).max(10).optional(),
  rssiDbm: z.number().min(-150).max(0).optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const CanonicalReading = z.discriminatedUnion('kind', [FloodReading, CrowdCount, Heartbeat]);
export type CanonicalReading = z.infer<typeof CanonicalReading>;
export type ReadingKind = CanonicalReading['kind'];

/** The device time a reading is about: observation time, or the end of a count's interval. */
export function readingTime(r: CanonicalReading): string {
  return r.kind === 'crowd' ? r.intervalEnd : r.time;
}

/**
 * The Kafka record value on the reading topics (key = deviceId). The envelope carries what the
 * broker knew: when it received the reading and whether it belongs to a drill (replay/simulation).
 */
export const ReadingRecord = z.object({
  v: z.literal(1),
  reading: CanonicalReading,
  receivedAt: Timestamp,
  drill: z.boolean().default(false),
  /** Which drill run the reading belongs to (from the client id); a new one starts the drill rules afresh. */
  exercise: z.string().max(64).optional(),
});
export type ReadingRecord = z.infer<typeof ReadingRecord>;

/** Clients whose id starts with this publish drill data (replays, simulations, exercises). */
export const DRILL_CLIENT_PREFIX = 'drill-';
const EXERCISE_SEPARATOR = '@';

/** The client id a simulated device uses in drill run `exercise`: `drill-<deviceId>@<exercise>`. */
export function drillClientId(deviceId: string, exercise: string): string {
  return `${DRILL_CLIENT_PREFIX}${deviceId}${EXERCISE_SEPARATOR}${exercise}`;
}

/** Whether a client id marks drill data, and which run it names (if any). */
export function drillOf(clientId: string): { drill: boolean; exercise?: string } {
  if (!clientId.startsWith(DRILL_CLIENT_PREFIX)) return { drill: false };
  const at = clientId.lastIndexOf(EXERCISE_SEPARATOR);
  const exercise = at > 0 ? clientId.slice(at + 1, at + 65) : '';
  return exercise ? { drill: true, exercise } : { drill: true };
}

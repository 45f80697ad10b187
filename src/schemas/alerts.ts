// Flood alert messages: the audit trail (Kafka), active alerts per area (retained MQTT, read by the
// office console) and acknowledgements from the office.
import { z } from 'zod';
import { AreaId, DeviceId, Timestamp } from './common.ts';

/** watch: one sensor (internal). warning: corroborated. emergency: depth or spread beyond the area's limits. */
export const AlertLevel = z.enum(['watch', 'warning', 'emergency']);
export type AlertLevel = z.infer<typeof AlertLevel>;
export const LEVEL_RANK: Record<AlertLevel, number> = { watch: 1, warning: 2, emergency: 3 };

export const Transition = z.enum([
  'raised',
  'escalated',
  'de-escalated',
  'acknowledged',
  're-notified',
  'cleared',
]);
export type Transition = z.infer<typeof Transition>;

/** The readings that made the condition true, as evidence. */
export const CauseReading = z.object({
  deviceId: DeviceId,
  time: Timestamp,
  receivedAt: Timestamp,
  wet: z.boolean(),
  stage: z.number().int().optional(),
  depthCm: z.number().optional(),
  /** A silent radio sensor counted as a possible flood because its neighbours are wet. */
  silent: z.boolean().optional(),
});
export type CauseReading = z.infer<typeof CauseReading>;

/** One transition of one alert: the audit record (Kafka key: area id). */
export const AlertEvent = z.object({
  v: z.literal(1),
  alertId: z.string().min(1),
  areaId: AreaId,
  level: AlertLevel,
  transition: Transition,
  time: Timestamp,
  /** Why: a rule name (corroborated, staged-rise, depth, spread, single-sensor, dry) and the readings. */
  rule: z.string(),
  cause: z.array(CauseReading),
  actor: z.string(),
  drill: z.boolean(),
  acknowledged: z.boolean(),
});
export type AlertEvent = z.infer<typeof AlertEvent>;

/** Retained on takeo/v1/alerts/<areaId>/active: the area's open alerts (empty list when none). */
export const ActiveAlerts = z.object({
  v: z.literal(1),
  areaId: AreaId,
  alerts: z.array(
    z.object({
      id: z.string(),
      level: AlertLevel,
      areaId: AreaId,
      sensors: z.array(DeviceId),
      openedAt: Timestamp,
      updatedAt: Timestamp,
      acknowledgedAt: Timestamp.optional(),
      acknowledgedBy: z.string().optional(),
      drill: z.boolean(),
    }),
  ),
});
export type ActiveAlerts = z.infer<typeof ActiveAlerts>;

/** Published by the office on takeo/v1/alerts/<areaId>/ack, or posted to /api/alerts/<id>/ack. */
export const AlertAck = z.object({
  v: z.literal(1),
  alertId: z.string().min(1),
  areaId: AreaId,
  by: z.string().min(1).max(64),
  at: Timestamp,
});
export type AlertAck = z.infer<typeof AlertAck>;

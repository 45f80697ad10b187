// The office console's HTTP API (src/web/office/api.ts): what it accepts and what it answers.
import { z } from 'zod';
import { AlertEvent } from './alerts.ts';
import { AreaId, DeviceId, Timestamp } from './common.ts';

/** A depth chart covers at most three days: longer is an InfluxDB export, not a console view. */
export const MAX_SERIES_HOURS = 72;

/** GET /api/office/alerts/history: events recorded since `since` (default: the last 24 h). */
export const HistoryQuery = z.strictObject({
  since: Timestamp.optional(),
  area: AreaId.optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

export const HistoryAnswer = z.object({
  v: z.literal(1),
  since: Timestamp,
  /** Older events are not held (7 days, a bounded count): a report from before this is incomplete. */
  heldSince: Timestamp,
  /** In the order Kafka recorded them. */
  events: z.array(AlertEvent),
});
export type HistoryAnswer = z.infer<typeof HistoryAnswer>;

/** GET /api/office/sensors/<id>/series: the sensor's readings over the last `hours`. */
export const SeriesQuery = z.strictObject({
  hours: z.coerce.number().int().min(1).max(MAX_SERIES_HOURS).default(6),
  /** 1: the drill series (tag drill=true) instead of the real one. */
  drill: z.enum(['0', '1']).default('0'),
});

/** One reading; a field the sensor does not report is null. */
export const SeriesPoint = z.object({
  time: Timestamp,
  wet: z.boolean().nullable(),
  stage: z.number().int().nullable(),
  depthCm: z.number().nullable(),
});
export type SeriesPoint = z.infer<typeof SeriesPoint>;

export const SeriesAnswer = z.object({
  v: z.literal(1),
  deviceId: DeviceId,
  areaId: AreaId,
  drill: z.boolean(),
  from: Timestamp,
  to: Timestamp,
  /** Float heights (cm): stage n means the n-th float is under water. */
  stagesCm: z.array(z.number()),
  depthThresholdsCm: z.object({ watch: z.number(), warning: z.number() }).nullable(),
  /** True when the range held more points than one answer carries (the newest are kept). */
  truncated: z.boolean(),
  points: z.array(SeriesPoint),
});
export type SeriesAnswer = z.infer<typeof SeriesAnswer>;

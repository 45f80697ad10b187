// The open-data API (/api/v1): what it accepts and what it answers. Every answer is one of these
// schemas, registered in `apiSchemas` under the name the OpenAPI document gives it (openapi.ts).
import { z } from 'zod';
import { AlertLevel, Transition } from '../../schemas/alerts.ts';
import { AreaId, DeviceId, Lat, LocalizedText, Lon, SiteId, Timestamp } from '../../schemas/common.ts';
import { CongestionLevel, CongestionStep } from '../../schemas/signage.ts';

/** The components of the OpenAPI document: each schema registered here under its `id`. */
export const apiSchemas = z.registry<{ id: string; description?: string }>();

function named<S extends z.ZodType>(schema: S, id: string, description?: string): S {
  apiSchemas.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

/** 15-minute intervals for a month, hourly ones for a year: longer is a bulk download, not an API call. */
export const MAX_RANGE_DAYS = { '15m': 31, '1h': 366 } as const;
export const MAX_LIMIT = 5000;
const DEFAULT_LIMIT = 500;

export const ApiError = named(
  z.object({
    error: z.string(),
    /** Stable: MACHI_ERR_INVALID_REQUEST, _NOT_FOUND, _RANGE_TOO_LARGE, _RATE_LIMITED, _UNAVAILABLE, ... */
    code: z.string().regex(/^MACHI_ERR_[A-Z_]+$/),
  }),
  'Error',
  'Every refusal: a human-readable reason and a stable code',
);

const Page = {
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

// ---- sites -------------------------------------------------------------------------------------

export const SiteForecast = named(
  z.object({
    issuedAt: Timestamp,
    /** True once the forecast is older than the configured age (runs kept failing). */
    stale: z.boolean(),
    /** People expected per 15 minutes, with an 80 % interval. */
    steps: z.array(CongestionStep),
  }),
  'SiteForecast',
);

export const SiteNow = named(
  z.object({
    level: CongestionLevel,
    /** People counted in the last complete 15 minutes (the forecast's first step when none). */
    people: z.number().min(0),
    observedAt: Timestamp.nullable(),
  }),
  'SiteNow',
);

export const Site = named(
  z.object({
    id: SiteId,
    name: LocalizedText,
    lat: Lat,
    lon: Lon,
    areaId: AreaId,
    /** People per 15 minutes the site holds comfortably. */
    capacity: z.number().int().positive(),
    signage: z.boolean(),
    current: SiteNow.nullable(),
    forecast: SiteForecast.nullable(),
  }),
  'Site',
);
export type Site = z.infer<typeof Site>;

export const SitesAnswer = named(z.object({ v: z.literal(1), sites: z.array(Site) }), 'SitesAnswer');
export type SitesAnswer = z.infer<typeof SitesAnswer>;

// ---- congestion history ------------------------------------------------------------------------

export const CongestionQuery = z.strictObject({
  interval: z.enum(['15m', '1h']).default('15m'),
  /** Default: 24 hours before `to`. */
  from: Timestamp.optional(),
  /** Default: now. */
  to: Timestamp.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  limit: Page.limit,
});

export const CongestionPoint = named(
  z.object({ start: Timestamp, end: Timestamp, people: z.number().int().min(0) }),
  'CongestionPoint',
);

export const CongestionAnswer = named(
  z.object({
    v: z.literal(1),
    siteId: SiteId,
    interval: z.enum(['15m', '1h']),
    from: Timestamp,
    to: Timestamp,
    /** Intervals with a count, oldest first; an interval without one is absent, not zero. */
    points: z.array(CongestionPoint),
    /** The next page (same range, later points) when `limit` cut this one; else null. */
    next: z.string().nullable(),
  }),
  'CongestionAnswer',
);
export type CongestionAnswer = z.infer<typeof CongestionAnswer>;

// ---- flood sensors -----------------------------------------------------------------------------

export const FloodReading = named(
  z.object({
    time: Timestamp,
    wet: z.boolean(),
    /** Floats under water (staged sensors); null when the sensor has none. */
    stage: z.number().int().nullable(),
    depthCm: z.number().nullable(),
  }),
  'FloodReading',
);
export type FloodReading = z.infer<typeof FloodReading>;

/** The device's health as machi's worker last judged it (online, offline, ...). */
export const DeviceState = named(z.object({ state: z.string(), since: Timestamp }), 'DeviceState');
export type DeviceState = z.infer<typeof DeviceState>;

export const FloodSensor = named(
  z.object({
    id: DeviceId,
    area: z.object({ id: AreaId, name: LocalizedText }),
    family: z.enum(['contact', 'radio']),
    lat: Lat,
    lon: Lon,
    stagesCm: z.array(z.number()),
    depthThresholdsCm: z.object({ watch: z.number(), warning: z.number() }).nullable(),
    /** The newest real (non-drill) reading within the last 30 days; null when there is none. */
    latest: FloodReading.nullable(),
    health: DeviceState.nullable(),
  }),
  'FloodSensor',
);
export type FloodSensor = z.infer<typeof FloodSensor>;

export const FloodSensorsAnswer = named(
  z.object({ v: z.literal(1), sensors: z.array(FloodSensor) }),
  'FloodSensorsAnswer',
);

// ---- alerts ------------------------------------------------------------------------------------

/** Alerts the public sees: warning and emergency (a single sensor's watch stays internal). */
export const PublicLevel = AlertLevel.exclude(['watch']);

export const PublicAlert = named(
  z.object({
    id: z.string(),
    areaId: AreaId,
    level: PublicLevel,
    openedAt: Timestamp,
    updatedAt: Timestamp,
    /** An exercise: never a real flood. */
    drill: z.boolean(),
  }),
  'PublicAlert',
);
export type PublicAlert = z.infer<typeof PublicAlert>;

export const ActiveAlertsAnswer = named(
  z.object({ v: z.literal(1), alerts: z.array(PublicAlert) }),
  'ActiveAlertsAnswer',
);

export const AlertHistoryQuery = z.strictObject({
  /** Default: 24 hours before `to`. */
  from: Timestamp.optional(),
  to: Timestamp.optional(),
  area: AreaId.optional(),
  ...Page,
});

export const PublicAlertEvent = named(
  z.object({
    alertId: z.string(),
    areaId: AreaId,
    /** `watch` only on the event that took a public alert back below warning. */
    level: AlertLevel,
    transition: Transition.exclude(['acknowledged']),
    time: Timestamp,
    drill: z.boolean(),
  }),
  'PublicAlertEvent',
);
export type PublicAlertEvent = z.infer<typeof PublicAlertEvent>;

export const AlertHistoryAnswer = named(
  z.object({
    v: z.literal(1),
    from: Timestamp,
    to: Timestamp,
    /** Older events are not held: a range starting before this is incomplete. */
    heldSince: Timestamp,
    total: z.number().int().min(0),
    events: z.array(PublicAlertEvent),
    next: z.string().nullable(),
  }),
  'AlertHistoryAnswer',
);
export type AlertHistoryAnswer = z.infer<typeof AlertHistoryAnswer>;

// The device registry's schema: areas, sites, devices and events, as stored in devices/*.yaml.
import { z } from 'zod';
import { AreaId, DeviceId, Lat, LocalizedText, Lon, SiteId, Timestamp } from '../schemas/common.ts';

/** Payload formats machi has adapters for (src/adapters); chosen per device. */
export const VendorFormat = z.enum(['machi-json', 'lpwa-hex', 'gateway-csv']);
export type VendorFormat = z.infer<typeof VendorFormat>;

/**
 * A secret is only ever stored as a verifier (src/registry/secrets.ts): `scrypt$N$r$p$<salt>$<hash>`,
 * or `hmac-sha256$<salt>$<mac>` for generated secrets of 128+ random bits (base64 fields).
 */
export const SecretHash = z
  .string()
  .regex(
    /^(scrypt\$\d+\$\d+\$\d+|hmac-sha256)\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
    'expected scrypt$N$r$p$salt$hash or hmac-sha256$salt$mac',
  );

export const Shelter = z.object({
  id: z.string().min(1),
  name: LocalizedText,
  lat: Lat,
  lon: Lon,
});

export const Area = z.object({
  id: AreaId,
  name: LocalizedText,
  lat: Lat,
  lon: Lon,
  /** Depth (cm) at or above which a corroborated flood in this area is an emergency. */
  emergencyDepthCm: z.number().positive().default(30),
  /** Share of the area's sensors wet at or above which a corroborated flood is an emergency. */
  emergencySpread: z.number().min(0).max(1).default(0.5),
  shelters: z.array(Shelter).default([]),
});
export type Area = z.infer<typeof Area>;

export const Site = z
  .object({
    id: SiteId,
    name: LocalizedText,
    lat: Lat,
    lon: Lon,
    /** People per 15 minutes the site holds comfortably. */
    capacity: z.number().int().positive(),
    /** Congestion thresholds as shares of capacity: somewhat crowded from, crowded from. */
    levels: z
      .object({ somewhat: z.number().positive(), crowded: z.number().positive() })
      .default({ somewhat: 0.6, crowded: 0.9 }),
    /** True where a signage screen stands. */
    signage: z.boolean().default(false),
    /** Flood area the site lies in: its public notices reach this site's sign. */
    area: AreaId,
    /** Other sites whose congestion this site's sign also shows. */
    nearby: z.array(SiteId).default([]),
  })
  .refine((s) => s.levels.crowded > s.levels.somewhat, {
    message: 'levels.crowded must be above levels.somewhat',
    path: ['levels'],
  });
export type Site = z.infer<typeof Site>;

const DeviceBase = z.object({
  id: DeviceId,
  vendor: VendorFormat,
  /** Seconds between heartbeats the device promises; offline after twice this. */
  heartbeatS: z.number().int().positive(),
  secretHash: SecretHash,
  /** A disabled device is refused at login and disconnected when the registry reloads. */
  disabled: z.boolean().default(false),
  lat: Lat,
  lon: Lon,
});

export const FloodSensor = DeviceBase.extend({
  kind: z.literal('flood-sensor'),
  /** contact: transmits when wet. radio: transmits all the time; silence can mean submerged. */
  family: z.enum(['contact', 'radio']),
  area: AreaId,
  /** Heights (cm) of a staged sensor's floats, ascending; empty for a plain wet/dry sensor. */
  stagesCm: z.array(z.number().positive()).default([]),
  /** Depth sensors report depth_cm; these thresholds (cm) mark watch and warning. */
  depthThresholdsCm: z.object({ watch: z.number().positive(), warning: z.number().positive() }).optional(),
}).refine((d) => d.stagesCm.every((h, i) => i === 0 || h > (d.stagesCm[i - 1] ?? 0)), {
  message: 'stagesCm must be ascending',
  path: ['stagesCm'],
});
export type FloodSensor = z.infer<typeof FloodSensor>;

export const PeopleCounter = DeviceBase.extend({
  kind: z.literal('people-counter'),
  site: SiteId,
  /** Seconds per count interval the camera reports. */
  intervalS: z.number().int().positive().default(300),
});
export type PeopleCounter = z.infer<typeof PeopleCounter>;

export const Device = z.discriminatedUnion('kind', [FloodSensor, PeopleCounter]);
export type Device = z.infer<typeof Device>;

/** A festival or event that lifts crowds at some sites (forecast input). */
export const CalendarEvent = z.object({
  id: z.string().min(1),
  name: LocalizedText,
  start: Timestamp,
  end: Timestamp,
  sites: z.array(SiteId).min(1),
  /** Expected multiplier on the usual crowd (1.5 = +50 %). */
  uplift: z.number().positive(),
});
export type CalendarEvent = z.infer<typeof CalendarEvent>;

/** One registry file may hold any of the sections; the loader merges the files of devices/. */
export const RegistryFile = z.object({
  /** Marks a file of the shipped demo registry, whose device secrets are public: production refuses it. */
  demo: z.boolean().default(false),
  areas: z.array(Area).default([]),
  sites: z.array(Site).default([]),
  devices: z.array(Device).default([]),
  events: z.array(CalendarEvent).default([]),
});
export type RegistryFile = z.infer<typeof RegistryFile>;

export interface Registry {
  areas: Map<string, Area>;
  sites: Map<string, Site>;
  devices: Map<string, Device>;
  events: CalendarEvent[];
  /** Files marked `demo: true` (set by loadRegistry). */
  demoFiles?: string[];
}

// Small building blocks shared by every message schema.
import { z } from 'zod';

/** Device, site and area ids: lower-case slugs, safe as MQTT topic levels, Kafka keys and tags. */
export const Slug = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'expected a lower-case slug (a-z, 0-9, -)');
export const DeviceId = Slug;
export const SiteId = Slug;
export const AreaId = Slug;

/** ISO 8601 with an explicit offset (Z or ±hh:mm): device clocks are in JST, brokers in UTC. */
export const Timestamp = z.iso.datetime({ offset: true });

export const Lat = z.number().min(-90).max(90);
export const Lon = z.number().min(-180).max(180);

/** Text shown to people: Japanese and English required, the other signage languages optional. */
export const Languages = ['ja', 'en', 'zh-Hans', 'zh-Hant', 'ko'] as const;
export const Language = z.enum(Languages);
export const LocalizedText = z.object({
  ja: z.string().min(1),
  en: z.string().min(1),
  'zh-Hans': z.string().min(1).optional(),
  'zh-Hant': z.string().min(1).optional(),
  ko: z.string().min(1).optional(),
});
export type LocalizedText = z.infer<typeof LocalizedText>;

// Messages the signs subscribe to (retained) and publish. Text is never in these messages: signs
// translate language-neutral codes and keys with their own messages files.
import { z } from 'zod';
import { AreaId, SiteId, Timestamp } from './common.ts';

export const CongestionLevel = z.enum(['not-crowded', 'somewhat-crowded', 'crowded']);
export type CongestionLevel = z.infer<typeof CongestionLevel>;

/** One forecast step: people expected in [start, end) with an 80 % interval. */
export const CongestionStep = z.object({
  start: Timestamp,
  end: Timestamp,
  level: CongestionLevel,
  forecast: z.number().min(0),
  lower: z.number().min(0),
  upper: z.number().min(0),
});

/** Retained on takeo/v1/signage/<siteId>/congestion: level now and for the next hours. */
export const CongestionMessage = z.object({
  v: z.literal(1),
  siteId: SiteId,
  issuedAt: Timestamp,
  /** True once the forecast is older than the configured age (a failed run left it in place). */
  stale: z.boolean(),
  capacity: z.number().int().positive(),
  current: z.object({ level: CongestionLevel, people: z.number().min(0), observedAt: Timestamp.optional() }),
  next: z.array(CongestionStep),
});
export type CongestionMessage = z.infer<typeof CongestionMessage>;

/**
 * Retained on takeo/v1/signage/<siteId>/notice: the public disaster notice for the site's area.
 * `active: false` clears it. Only warning and above reach the public.
 */
export const PublicNotice = z.object({
  v: z.literal(1),
  siteId: SiteId,
  areaId: AreaId,
  active: z.boolean(),
  level: z.enum(['warning', 'emergency']).optional(),
  /** Drill notices are shown as drills (訓練), never as a real emergency. */
  drill: z.boolean(),
  /** Key into the signs' messages files, e.g. "flood.warning" or "flood.emergency". */
  noticeKey: z.string().min(1).optional(),
  /** Shelter ids from the registry, for evacuation guidance. */
  shelters: z.array(z.string()).default([]),
  alertId: z.string().optional(),
  updatedAt: Timestamp,
});
export type PublicNotice = z.infer<typeof PublicNotice>;

/** Published by each sign on takeo/v1/signage/<siteId>/heartbeat so the office sees it alive. */
export const SignHeartbeat = z.object({
  v: z.literal(1),
  siteId: SiteId,
  time: Timestamp,
  language: z.string(),
  mode: z.enum(['normal', 'disaster', 'stale', 'offline']),
  /** The notice on screen (disaster mode); absent when there is none. */
  notice: PublicNotice.pick({ level: true, drill: true, noticeKey: true, alertId: true }).optional(),
});
export type SignHeartbeat = z.infer<typeof SignHeartbeat>;

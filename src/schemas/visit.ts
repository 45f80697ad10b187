// What machi streams to the visitors' phone page (server-sent events from /visit/…/events): the
// retained signage messages it holds, one JSON object per event. Text stays out, as on the signs.
import { z } from 'zod';
import { AreaId, SiteId } from './common.ts';
import { CongestionMessage, PublicNotice } from './signage.ts';

/** The level now of a site the page lists beside its own: enough to sort and mark it stale. */
export const LevelNow = CongestionMessage.pick({ issuedAt: true, stale: true, current: true });

export const VisitEvent = z.discriminatedUnion('type', [
  /** The page's own site, forecast included; null when machi holds none (or it was cleared). */
  z.object({ type: z.literal('congestion'), siteId: SiteId, message: CongestionMessage.nullable() }),
  /** A nearby (or, on the list, any) site's level. */
  z.object({ type: z.literal('level'), siteId: SiteId, level: LevelNow.nullable() }),
  /** The area's active public notice, or null once there is none (it replaces the page's content). */
  z.object({ type: z.literal('notice'), areaId: AreaId, notice: PublicNotice.nullable() }),
]);
export type VisitEvent = z.infer<typeof VisitEvent>;

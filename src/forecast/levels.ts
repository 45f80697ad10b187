// Congestion levels from a site's comfortable capacity (per 15 minutes) and its thresholds.
import type { Site } from '../registry/schema.ts';
import type { CongestionLevel } from '../schemas/signage.ts';

export function congestionLevel(
  peoplePer15Min: number,
  site: Pick<Site, 'capacity' | 'levels'>,
): CongestionLevel {
  const share = peoplePer15Min / site.capacity;
  if (share >= site.levels.crowded) return 'crowded';
  if (share >= site.levels.somewhat) return 'somewhat-crowded';
  return 'not-crowded';
}

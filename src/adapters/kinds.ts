import type { ReadingKind } from '../schemas/readings.ts';
import type { DeviceMessage } from '../schemas/topics.ts';

/** The canonical reading kind a topic's message level carries. */
export function kindOf(message: DeviceMessage): ReadingKind {
  return message === 'reading' ? 'flood' : message === 'count' ? 'crowd' : 'heartbeat';
}

export const epochToIso = (seconds: number) => new Date(seconds * 1000).toISOString();
export const isoToEpoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

// The audit trail as the office reads it: every alert event recorded in the last week, in the order
// Kafka recorded it, held in memory with a bound so a noisy week cannot exhaust the process.
import type { AlertEvent } from '../../schemas/alerts.ts';

/** How far back the office's history reaches (the audit trail's look-back in the alert service). */
export const HISTORY_LOOKBACK_MS = 7 * 24 * 3_600_000;
/** A flood night is hundreds of events; a week of re-notifications across every area stays far below. */
export const MAX_HELD_EVENTS = 20_000;

interface Held {
  event: AlertEvent;
  /** When Kafka recorded it: a drill's own `time` is on the exercise's clock, this is the real one. */
  recordedAt: number;
}

export class AlertHistory {
  private held: Held[] = [];
  private evictedUntil = 0;

  constructor(
    private readonly now = Date.now,
    private readonly maxEvents = MAX_HELD_EVENTS,
  ) {}

  add(event: AlertEvent, recordedAt: number): void {
    // Partitions (areas) arrive interleaved: kept sorted by recorded time, an area's own order intact.
    let at = this.held.length;
    while (at > 0 && (this.held[at - 1]?.recordedAt ?? 0) > recordedAt) at--;
    this.held.splice(at, 0, { event, recordedAt });
    const tooOld = this.now() - HISTORY_LOOKBACK_MS;
    const fresh = this.held.findIndex((h) => h.recordedAt >= tooOld);
    const drop = Math.max(this.held.length - this.maxEvents, fresh < 0 ? this.held.length : fresh);
    if (drop > 0) {
      this.evictedUntil = Math.max(this.evictedUntil, (this.held[drop - 1]?.recordedAt ?? 0) + 1);
      this.held = this.held.slice(drop);
    }
  }

  /** The oldest time from which every event is held. */
  heldSince(): number {
    return Math.max(this.now() - HISTORY_LOOKBACK_MS, this.evictedUntil);
  }

  /** Events recorded at or after `since`, optionally of one area, in recorded order. */
  query(since: number, areaId?: string): AlertEvent[] {
    return this.held
      .filter((h) => h.recordedAt >= since && (areaId === undefined || h.event.areaId === areaId))
      .map((h) => h.event);
  }
}

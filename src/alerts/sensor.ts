// One flood sensor as the rules see it: debounced wetness with hysteresis, its water level, how
// fast it rises, and whether it climbed its stages in order. Pure; time comes from the caller.
import type { FloodSensor } from '../registry/schema.ts';
import type { CauseReading } from '../schemas/alerts.ts';
import type { FloodReading } from '../schemas/readings.ts';

export interface RuleSettings {
  /** A wet condition must hold this long before the sensor counts (splashes are ignored). */
  debounceMs: number;
  /** An active sensor clears only after being dry this long (no flapping). */
  clearMs: number;
  /** Corroboration: at least k wet sensors within radiusM of each other. */
  k: number;
  radiusM: number;
  /** Depth rising at least this fast (cm per minute) corroborates on its own. */
  riseCmPerMin: number;
  /** Unacknowledged alerts are announced again after this long. */
  renotifyMs: number;
}

export const DEFAULT_RULES: RuleSettings = {
  debounceMs: 60_000,
  clearMs: 600_000,
  k: 2,
  radiusM: 1500,
  riseCmPerMin: 1,
  renotifyMs: 300_000,
};

export class SensorState {
  active = false;
  silent = false;
  batteryV: number | undefined;
  level: number | undefined;
  risePerMin = 0;
  last: CauseReading | undefined;
  private wetSince: number | undefined;
  private drySince: number | undefined;
  private lastWet = false;
  private stagesSeen: number[] = [];
  private levelAt: number | undefined;
  /** The rules' time of the latest reading taken. */
  private lastAt: number | undefined;

  constructor(readonly device: FloodSensor) {}

  /**
   * `at` is the rules' clock for this reading (broker time, or a drill's own clock): debounce and
   * hysteresis run on it. The rise rate is measured between device times, where a clock that is
   * merely off cancels out and readings a gateway delivers in a burst keep their spacing.
   * Returns false for a reading older than the latest one taken: a device's readings keep their
   * order in Kafka, so it is one read again (a consumer that went back after a Kafka restart) and
   * must not reopen a wet or dry spell that has moved on.
   */
  observe(reading: FloodReading, receivedAt: string, rules: RuleSettings, at: number): boolean {
    if (this.lastAt !== undefined && at < this.lastAt) return false;
    this.lastAt = at;
    const t = at;
    const deviceT = Date.parse(reading.time);
    this.silent = false;
    if (reading.batteryV !== undefined) this.batteryV = reading.batteryV;
    const level = waterLevel(this.device, reading);
    const wet =
      reading.wet || (reading.stage ?? 0) > 0 || (level !== undefined && level >= this.watchDepth());
    this.last = {
      deviceId: reading.deviceId,
      time: reading.time,
      receivedAt,
      wet,
      stage: reading.stage,
      depthCm: reading.depthCm,
    };
    if (level !== undefined) {
      if (this.level !== undefined && this.levelAt !== undefined && deviceT > this.levelAt) {
        this.risePerMin = ((level - this.level) / (deviceT - this.levelAt)) * 60_000;
      }
      this.level = level;
      this.levelAt = deviceT;
    }
    if (wet) {
      this.wetSince ??= t;
      this.drySince = undefined;
      if (reading.stage && reading.stage > (this.stagesSeen.at(-1) ?? 0)) this.stagesSeen.push(reading.stage);
    } else {
      this.drySince ??= t;
      this.wetSince = undefined;
    }
    this.lastWet = wet;
    this.advance(t, rules);
    return true;
  }

  /** Applies debounce and hysteresis at time `t`. */
  advance(t: number, rules: RuleSettings): void {
    if (this.lastWet && this.wetSince !== undefined && t - this.wetSince >= rules.debounceMs)
      this.active = true;
    if (!this.lastWet && this.active && this.drySince !== undefined && t - this.drySince >= rules.clearMs) {
      this.active = false;
      this.stagesSeen = [];
      this.risePerMin = 0;
    }
  }

  /** Everything the area rules read from this sensor: when it is unchanged, so is the area's assessment. */
  evidenceKey(rules: RuleSettings): string {
    return `${this.active}|${this.silent}|${this.level}|${this.risePerMin >= rules.riseCmPerMin}|${this.stagedRise()}`;
  }

  /** Climbed at least two stages in order up to the top one (10 → 20 → 30 cm, or 10 → 40 cm). */
  stagedRise(): boolean {
    const top = this.device.stagesCm.length;
    return top >= 2 && this.stagesSeen.length >= 2 && this.stagesSeen.at(-1) === top;
  }

  private watchDepth(): number {
    return this.device.depthThresholdsCm?.watch ?? 1;
  }
}

/** Water level in cm: measured depth, or the height of the highest float under water. */
export function waterLevel(device: FloodSensor, reading: FloodReading): number | undefined {
  if (reading.depthCm !== undefined) return reading.depthCm;
  if (reading.stage && reading.stage > 0) return device.stagesCm[reading.stage - 1];
  return undefined;
}

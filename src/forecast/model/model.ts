// The congestion model: a robust seasonal profile by day type and time of day, corrected by how
// the site is running against it right now. The correction is a linear model of the log-ratio to
// the profile, one per horizon and hour of the day, learned online from the site's own past (a
// pair is learned only once its target has been observed, so there is no look-ahead), with the
// other sites' median log-ratio (context.ts) to tell a city-wide change from this site's noise.
// Intervals come from the model's own recent errors per horizon and hour of the day. Deterministic.
// Equations: README, "Congestion forecast".
import { type CityContext, contextAt } from './context.ts';
import { Correction, type Memory } from './correction.ts';
import { SeasonalProfile } from './profile.ts';

export interface ModelOptions {
  stepMs: number;
  /** Is this local date (YYYY-MM-DD) a public holiday? */
  isHoliday: (date: string) => boolean;
  /** Values kept per day type and slot for the profile. */
  window: number;
  /** Steps ahead with their own coefficients; further ones use the last horizon's. */
  horizons: number;
  /** The corrections' memories (correction.ts): one correction each, averaged. */
  memories: Memory[];
  /** Weight of the persistence prior in each horizon's pooled coefficients, in samples. */
  prior: number;
  /** Weight of the pooled coefficients as the prior of each hour of the day's, in samples. */
  hourPrior: number;
  /** Samples are weighted by (1 + profile)^weightPower so busy hours, where errors count, lead. */
  weightPower: number;
  /** Log errors beyond ±huber weigh in proportion to 1/|error| (Huber's loss). */
  huber: number;
  /** How the other sites run (context.ts); without it the city features are 0. */
  context?: CityContext;
}

/** Chosen on the Auckland and Melbourne pedestrian counts (README, "Congestion forecast"). */
export const DEFAULT_MODEL: Omit<ModelOptions, 'stepMs' | 'isHoliday' | 'horizons'> = {
  window: 104,
  memories: [
    { halfLifeDays: 10, splitDaysOff: false },
    { halfLifeDays: 240, splitDaysOff: true },
  ],
  prior: 20,
  hourPrior: 5,
  weightPower: 0.5,
  huber: 0.25,
};

/** A point in time, in UTC and in the series' local time (UTC + its offset). */
export interface Instant {
  utc: number;
  local: number;
}

export interface Forecast {
  forecast: number;
  lower: number;
  upper: number;
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Log errors kept per horizon and hour of the day for the intervals, and pooled over the day. */
const HOUR_ERRORS = 250;
const MAX_ERRORS = 2000;
/** Fewer errors than this in an hour: that hour's interval is the pooled one. */
const MIN_ERRORS = 50;
/** Half-life of the slow level, in days. */
const SLOW_HALF_LIFE_DAYS = 2;
/** Half-life of each time of day's level, in days of the same kind (working days or days off). */
const SLOT_HALF_LIFE_DAYS = 2;
const SLOT_RATE = 1 - 0.5 ** (1 / SLOT_HALF_LIFE_DAYS);
/** Beyond ±JUMP the last log-ratio gets a coefficient of its own: a crowd passing, a glitch. */
const JUMP = 0.5;

/**
 * Features of a forecast from origin t for target t + h, r being ln(1 + count) − ln(1 + profile)
 * (0 where the count is missing, i.e. as the profile): the last three r, today so far (its counts
 * against its profile), a slow level (half-life 2 days), r at the target's and at the origin's
 * slot a day and a week earlier, the profile's own change from origin to target, the part of the
 * last r beyond ±0.5 (big one-hour jumps fade faster than a day that runs high), the other
 * sites' median r at the origin and a step before (0 without other sites), and r at the target's
 * time of day smoothed over the last days of its kind (slotLevels).
 */
export const FEATURES = [
  'bias',
  'r0',
  'r1',
  'r2',
  'today',
  'slow',
  'dayTarget',
  'weekTarget',
  'dayOrigin',
  'weekOrigin',
  'shape',
  'jump',
  'city',
  'cityLag',
  'slotLevel',
] as const;
const N = FEATURES.length;
const HOURS = Array.from({ length: 24 }, (_, i) => i);
const hourOf = (local: number) => Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000);

/**
 * The q-quantile (linear between order statistics) of the first n values of `a`, which it
 * reorders: a selection, not a sort, since the intervals take 2 × 25 quantiles per horizon weekly.
 */
export function quantile(a: Float64Array, n: number, q: number): number {
  if (n === 0) return 0;
  const pos = (n - 1) * q;
  const k = Math.floor(pos);
  // Hoare's selection: afterwards a[k] is the k-th smallest, with nothing smaller to its right.
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i++] = a[j] as number;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  const below = a[k] as number;
  if (pos === k) return below;
  let above = Number.POSITIVE_INFINITY;
  for (let i = k + 1; i < n; i++) above = Math.min(above, a[i] as number);
  return below + (above - below) * (pos - k);
}

export class CongestionModel {
  private readonly profile: SeasonalProfile;
  /** One correction per half-life (correction.ts); the forecast takes their mean. */
  private readonly corrections: Correction[];
  /**
   * Per horizon, rings of the last log errors for each hour of the target (0 … 23) and pooled
   * (24), with how many each has seen, and the interval bounds of each hour.
   */
  private readonly errors: Float64Array[][];
  private readonly errorCount: number[][];
  private readonly bounds: Array<Array<[number, number]>>;
  /**
   * Forecasts waiting for their target, in a ring by target step modulo horizons + 1 (each holds
   * one per horizon): the target step, ln(1 + profile at the target) as the forecast used it,
   * the forecast log-ratio (to learn the interval from its error), and the features.
   */
  private readonly pendingStep: Float64Array;
  private readonly pendingLp: Float64Array;
  private readonly pendingZhat: Float64Array;
  private readonly pendingX: Float64Array[];
  /** Per horizon from the current origin: the target's local time and ln(1 + forecast). */
  private readonly issued: Float64Array;
  /** Log-ratios of the last week (NaN: no value), by step modulo the ring's length. */
  private readonly ratios: Float64Array;
  private readonly daySteps: number;
  private readonly weekSteps: number;
  private readonly slowRate: number;
  private origin: number | undefined;
  /** ln(1 + profile) at the origin, as it was before the origin's value joined the profile. */
  private originLp = Number.NaN;
  private slow = 0;
  /**
   * Per time of day, r smoothed over the last days of the same kind, working days' slots first,
   * then days off': how this hour has been running lately, which the profile's two years and the
   * all-day levels miss (evenings that grow with the daylight; on a Monday, Friday's evening
   * rather than Sunday's).
   */
  private readonly slotLevels: Float64Array;
  private originLocal = Number.NaN;
  private today = { day: Number.NaN, actual: 0, profile: 0 };
  private sinceRefit = 0;
  private refits = 0;

  constructor(private readonly opts: ModelOptions) {
    this.profile = new SeasonalProfile(opts.stepMs, opts.window, opts.isHoliday);
    this.daySteps = Math.round(DAY_MS / opts.stepMs);
    this.weekSteps = Math.round(WEEK_MS / opts.stepMs);
    this.ratios = new Float64Array(this.weekSteps + 1).fill(Number.NaN);
    this.slowRate = 1 - 0.5 ** (1 / (SLOW_HALF_LIFE_DAYS * this.daySteps));
    this.slotLevels = new Float64Array(2 * this.daySteps);
    const hs = Array.from({ length: opts.horizons }, (_, i) => i + 1);
    // Before the site's own history speaks: persistence of the last ratio, fading with the horizon.
    const priors = hs.map((h) => Float64Array.from(FEATURES, (f) => (f === 'r0' ? 0.8 ** h : 0)));
    this.corrections = opts.memories.map((memory) => new Correction(priors, memory, this.daySteps));
    const rings = [...HOURS.map(() => HOUR_ERRORS), MAX_ERRORS];
    this.errors = hs.map(() => rings.map((size) => new Float64Array(size)));
    this.errorCount = hs.map(() => rings.map(() => 0));
    this.bounds = hs.map(() => HOURS.map(() => [-0.4, 0.4]));
    this.issued = new Float64Array(2 * opts.horizons).fill(Number.NaN);
    const slots = (opts.horizons + 1) * opts.horizons;
    this.pendingStep = new Float64Array(slots).fill(Number.NaN);
    this.pendingLp = new Float64Array(slots);
    this.pendingZhat = new Float64Array(slots);
    this.pendingX = Array.from({ length: slots }, () => new Float64Array(N));
  }

  profileAt(at: Instant): number | undefined {
    return this.profile.at(at.local);
  }

  /** r at a step of the last week up to the origin; 0 if missing (or not yet seen). */
  private ratioAt(step: number): number {
    if (this.origin === undefined || step > this.origin || step <= this.origin - this.weekSteps) return 0;
    const r = this.ratios[step % this.ratios.length] as number;
    return Number.isNaN(r) ? 0 : r;
  }

  /** Index into slotLevels of a local time. */
  private slotIndex(local: number): number {
    return this.profile.slot(local) + (this.profile.isDayOff(local) ? this.daySteps : 0);
  }

  private cityAt(step: number): number {
    const c = contextAt(this.opts.context, step);
    return Number.isNaN(c) ? 0 : c;
  }

  /** Features from the current origin for the target h steps ahead, whose profile is `p`. */
  private features(h: number, p: number, x: Float64Array = new Float64Array(N)): Float64Array {
    const t = this.origin as number;
    x[0] = 1;
    x[1] = this.ratioAt(t);
    x[2] = this.ratioAt(t - 1);
    x[3] = this.ratioAt(t - 2);
    x[4] = Math.log1p(this.today.actual) - Math.log1p(this.today.profile);
    x[5] = this.slow;
    x[6] = this.ratioAt(t + h - this.daySteps);
    x[7] = this.ratioAt(t + h - this.weekSteps);
    x[8] = this.ratioAt(t - this.daySteps);
    x[9] = this.ratioAt(t - this.weekSteps);
    x[10] = Number.isNaN(this.originLp) ? 0 : Math.log1p(p) - this.originLp;
    x[11] = x[1] - Math.min(JUMP, Math.max(-JUMP, x[1]));
    x[12] = this.cityAt(t);
    x[13] = this.cityAt(t - 1);
    x[14] = this.slotLevels[this.slotIndex(this.originLocal + h * this.opts.stepMs)] as number;
    return x;
  }

  /** Horizons past the last learned one use its coefficients and bounds. */
  private horizonIndex(h: number): number {
    return Math.min(Math.max(h, 1), this.opts.horizons) - 1;
  }

  /** The corrections' mean for a target at `local`. */
  private predict(h: number, local: number, x: Float64Array): number {
    const i = this.horizonIndex(h);
    const hour = hourOf(local);
    const dayOff = this.profile.isDayOff(local);
    let z = 0;
    for (const c of this.corrections) z += c.predict(i, hour, dayOff, x);
    return z / this.corrections.length;
  }

  /** Feeds the value observed at `at` (undefined: a gap, e.g. a camera outage). */
  update(at: Instant, value: number | undefined): void {
    const step = Math.round(at.utc / this.opts.stepMs);
    this.origin = step;
    this.originLocal = at.local;
    // A negative count is no count (some counters write -1 for no data), and has no logarithm.
    const known = value !== undefined && Number.isFinite(value) && value >= 0;
    const p = this.profile.at(at.local);
    this.originLp = p === undefined ? Number.NaN : Math.log1p(p);
    const day = Math.floor(at.local / DAY_MS);
    if (day !== this.today.day) this.today = { day, actual: 0, profile: 0 };
    let r = Number.NaN;
    if (known && p !== undefined) {
      const ly = Math.log1p(value);
      r = ly - this.originLp;
      this.learn(step, ly, at.local);
      this.slow += this.slowRate * (r - this.slow);
      const k = this.slotIndex(at.local);
      this.slotLevels[k] = (this.slotLevels[k] as number) + SLOT_RATE * (r - (this.slotLevels[k] as number));
      this.today.actual += value;
      this.today.profile += p;
    }
    this.ratios[step % this.ratios.length] = r;
    // A working day the city's counts show to be a day off (context.ts): a holiday from here on.
    const c = this.opts.context;
    if (c?.dayOff?.[step - c.first] === 1) this.profile.markHoliday(at.local);
    if (known) this.profile.add(at.local, value);
    if (++this.sinceRefit >= this.daySteps) this.refit();
    // What each horizon forecasts from here, to learn from once the target is observed (and to
    // answer forecast() for the same target without computing it again).
    this.issued.fill(Number.NaN);
    for (let h = 1; h <= this.opts.horizons; h++) {
      const local = at.local + h * this.opts.stepMs;
      const target = this.profile.at(local);
      if (target === undefined) continue;
      const slot = this.slot(step + h, h);
      const x = this.features(h, target, this.pendingX[slot] as Float64Array);
      const lp = Math.log1p(target);
      const zhat = this.predict(h, local, x);
      this.pendingStep[slot] = step + h;
      this.pendingLp[slot] = lp;
      this.pendingZhat[slot] = zhat;
      this.issued[2 * h - 2] = local;
      this.issued[2 * h - 1] = lp + zhat;
    }
  }

  private slot(target: number, h: number): number {
    const n = this.opts.horizons + 1;
    return (((target % n) + n) % n) * this.opts.horizons + h - 1;
  }

  /** The forecasts made for this step (at `local`) meet its observed value `ly` = ln(1 + y). */
  private learn(step: number, ly: number, local: number): void {
    const hour = hourOf(local);
    const dayOff = this.profile.isDayOff(local);
    for (let h = 1; h <= this.opts.horizons; h++) {
      const slot = this.slot(step, h);
      if (this.pendingStep[slot] !== step) continue;
      const x = this.pendingX[slot] as Float64Array;
      const lp = this.pendingLp[slot] as number;
      const zhat = this.pendingZhat[slot] as number;
      const z = ly - lp;
      // Huber weights from the error the forecast actually made: a robust fit, so rare glitches
      // and outlier hours don't steer the coefficients (an online iteratively reweighted fit).
      const w = Math.exp(this.opts.weightPower * lp) / Math.max(Math.abs(z - zhat), this.opts.huber);
      for (const c of this.corrections) c.add(h - 1, hour, dayOff, x, z, w);
      this.keepError(h, hour, z - zhat);
      this.keepError(h, 24, z - zhat);
    }
  }

  private keepError(h: number, ring: number, e: number): void {
    const counts = this.errorCount[h - 1] as number[];
    const errors = this.errors[h - 1]?.[ring] as Float64Array;
    errors[(counts[ring] as number) % errors.length] = e;
    counts[ring] = (counts[ring] as number) + 1;
  }

  /** Once a day new coefficients, once a week new interval bounds, from what has been observed. */
  private refit(): void {
    this.sinceRefit = 0;
    const bounds = this.refits++ % 7 === 0;
    for (const c of this.corrections) c.refit(this.opts.prior, this.opts.hourPrior);
    if (!bounds) return;
    for (let i = 0; i < this.opts.horizons; i++) {
      // Errors spread much wider at night (few people, so noisy ratios) than in the busy hours:
      // each hour gets its own quantiles once it has enough errors, else the pooled ones.
      const quantiles = (ring: number): [number, number] | undefined => {
        const errors = this.errors[i]?.[ring] as Float64Array;
        const n = Math.min(this.errorCount[i]?.[ring] as number, errors.length);
        if (n < MIN_ERRORS) return undefined;
        const scratch = errors.slice(0, n);
        // The interval always holds the forecast itself, even when recent errors lean one way.
        return [Math.min(0, quantile(scratch, n, 0.1)), Math.max(0, quantile(scratch, n, 0.9))];
      };
      let allDay: [number, number] | undefined;
      this.bounds[i] = HOURS.map((hr, k) => {
        const own = quantiles(hr);
        if (own) return own;
        allDay ??= quantiles(24);
        return allDay ?? (this.bounds[i]?.[k] as [number, number]);
      });
    }
  }

  /** Forecast `h` steps after the last value fed, for `target`, times an event uplift. */
  forecast(h: number, target: Instant, uplift = 1): Forecast | undefined {
    if (this.origin === undefined) return undefined;
    let lyhat =
      h >= 1 && this.issued[2 * h - 2] === target.local ? (this.issued[2 * h - 1] as number) : Number.NaN;
    if (Number.isNaN(lyhat)) {
      const p = this.profile.at(target.local);
      if (p === undefined) return undefined;
      lyhat = Math.log1p(p) + this.predict(h, target.local, this.features(h, p));
    }
    const bounds = this.bounds[this.horizonIndex(h)] as Array<[number, number]>;
    const [qlo, qhi] = bounds[hourOf(target.local)] as [number, number];
    const scale = (q: number) => Math.max(0, uplift * Math.expm1(lyhat + q));
    return { forecast: scale(0), lower: scale(qlo), upper: scale(qhi) };
  }
}

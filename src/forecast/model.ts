// The congestion model: a robust seasonal profile by day type and time of day, times how today is
// running against it (an exponentially smoothed log-ratio that fades with the horizon), times any
// event uplift; 80 % intervals from the model's own recent errors per horizon. Deterministic.
//
//   p(d, s)   = median of the last W values seen on day type d at slot s         (profile)
//   r_t       = ln(1 + y_t) − ln(1 + p(d_t, s_t))                                 (how today runs)
//   L_t       = β·r_t + (1 − β)·L_{t−1}                                          (slow level, β = 0.02)
//   ℓ_t       = α·(r_t − L_t) + (1 − α)·ℓ_{t−1}  (a missing y_t: ℓ_t = φ·ℓ_{t−1})  (fast level)
//   ŷ_{t+h}   = u_{t+h} · (exp(ln(1 + p(d, s)_{t+h}) + L_t + φ^h·ℓ_t) − 1)        (forecast)
//   [lo, hi]  = (1 + ŷ)·exp(q_{10%}, q_{90%} of e_h) − 1,  e_h = ln(1+y) − ln(1+ŷ_h)  (interval)

export type DayType = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun' | 'holiday';
const DAYS: DayType[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface ModelOptions {
  stepMs: number;
  /** Is this local date (YYYY-MM-DD) a public holiday? */
  isHoliday: (date: string) => boolean;
  /** Smoothing of the level; fade of the level per step ahead; values kept per profile slot. */
  alpha: number;
  phi: number;
  window: number;
}

/** Chosen on the Auckland pedestrian counts (README, "Congestion forecast"). */
export const DEFAULT_MODEL: Omit<ModelOptions, 'stepMs' | 'isHoliday'> = { alpha: 0.6, phi: 0.8, window: 8 };

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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Each weekday has its own shape (Friday evenings are not Monday's); holidays share one. */
export function dayType(local: number, isHoliday: (date: string) => boolean): DayType {
  const d = new Date(local);
  return isHoliday(d.toISOString().slice(0, 10)) ? 'holiday' : (DAYS[d.getUTCDay()] as DayType);
}

const MAX_RESIDUALS = 1000;
const SLOW_ALPHA = 0.02;

export class CongestionModel {
  private readonly profile = new Map<string, number[]>();
  private level = 0;
  /** A slow level: how the whole recent period runs against the profile (fades slowly). */
  private slow = 0;
  private readonly residuals = new Map<number, number[]>();
  private readonly bounds = new Map<number, [number, number]>();
  private readonly pending = new Map<number, Array<{ h: number; yhat: number }>>();
  private sinceBounds = 0;

  constructor(private readonly opts: ModelOptions) {}

  private key(at: Instant): string {
    const slot = Math.floor((at.local % 86_400_000) / this.opts.stepMs);
    return `${dayType(at.local, this.opts.isHoliday)}|${slot}`;
  }

  /**
   * The profile value for an instant; with no history for its slot (a new site), the same slot on
   * any day type, then whatever has been seen at all.
   */
  profileAt(at: Instant): number | undefined {
    const own = this.profile.get(this.key(at));
    if (own?.length) return median(own);
    const slot = this.key(at).split('|')[1];
    const entries = [...this.profile.entries()];
    const sameSlot = entries.filter(([k]) => k.endsWith(`|${slot}`)).flatMap(([, v]) => v);
    if (sameSlot.length) return median(sameSlot);
    const all = entries.flatMap(([, v]) => v);
    return all.length ? median(all) : undefined;
  }

  /** Feeds the value observed at `at` (undefined: a gap, e.g. a camera outage). */
  update(at: Instant, value: number | undefined): void {
    const step = Math.round(at.utc / this.opts.stepMs);
    const due = this.pending.get(step);
    this.pending.delete(step);
    if (value === undefined || !Number.isFinite(value)) {
      this.level *= this.opts.phi;
      return;
    }
    for (const { h, yhat } of due ?? []) {
      const list = this.residuals.get(h) ?? [];
      list.push(Math.log1p(value) - Math.log1p(yhat));
      if (list.length > MAX_RESIDUALS) list.shift();
      this.residuals.set(h, list);
    }
    if (++this.sinceBounds >= 24) this.refreshBounds();
    const p = this.profileAt(at);
    if (p !== undefined) {
      const r = Math.log1p(value) - Math.log1p(p);
      this.slow = SLOW_ALPHA * r + (1 - SLOW_ALPHA) * this.slow;
      this.level = this.opts.alpha * (r - this.slow) + (1 - this.opts.alpha) * this.level;
    }
    const k = this.key(at);
    const values = this.profile.get(k) ?? [];
    values.push(value);
    if (values.length > this.opts.window) values.shift();
    this.profile.set(k, values);
  }

  private refreshBounds(): void {
    this.sinceBounds = 0;
    for (const [h, list] of this.residuals) {
      const sorted = [...list].sort((a, b) => a - b);
      this.bounds.set(h, [quantile(sorted, 0.1), quantile(sorted, 0.9)]);
    }
  }

  /**
   * Forecast `h` steps ahead for `target`. With `track`, the forecast's error is learned once the
   * actual value arrives (for the intervals).
   */
  forecast(h: number, target: Instant, uplift = 1, track = true): Forecast | undefined {
    const p = this.profileAt(target);
    if (p === undefined) return undefined;
    const yhat = Math.max(
      0,
      uplift * Math.expm1(Math.log1p(p) + this.slow + this.opts.phi ** h * this.level),
    );
    if (track) {
      const step = Math.round(target.utc / this.opts.stepMs);
      this.pending.set(step, [...(this.pending.get(step) ?? []), { h, yhat }]);
    }
    const [qlo, qhi] = this.bounds.get(h) ?? [-0.4, 0.4];
    return {
      forecast: yhat,
      lower: Math.max(0, Math.expm1(Math.log1p(yhat) + qlo)),
      upper: Math.max(0, Math.expm1(Math.log1p(yhat) + qhi)),
    };
  }
}

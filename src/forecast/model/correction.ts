// The model's correction of the log-ratio to the profile at one memory length: per horizon, a
// ridge regression pooled over the day, and one per hour of the target shrunk towards it. The
// model averages several of these with different half-lives: a short memory follows a site that
// changes (a new shop, a road closed for weeks), a long one keeps steady coefficients, and their
// mean forecast better than any one half-life did on the Auckland and Melbourne counts. A long
// memory has samples enough to keep working days apart from weekends and holidays, whose hours
// run differently (no commuter peak, crowds that build through the afternoon).
import { RidgeRegression } from './ridge.ts';

export interface Memory {
  halfLifeDays: number;
  /** Each hour of the day has two regressions: one for working days, one for days off. */
  splitDaysOff: boolean;
}

const HOURS = 24;
/** Share of days that are days off (weekends), for a group's forgetting per sample. */
const OFF_SHARE = 2 / 7;
/**
 * Solves per half-life, at most one a day: a 240-day memory re-solves every 4 days. Solving is
 * most of the backtest's work; against daily solves this changed MASE by under 0.0003 on the
 * Auckland and Melbourne counts.
 */
const REFIT_PER_HALF_LIFE = 60;

export class Correction {
  private readonly pooled: RidgeRegression[];
  /** Per horizon, by hour of the target (working days, then days off when split). */
  private readonly hourly: RidgeRegression[][];
  /** Per horizon and group: the coefficients in use until the next refit. */
  private readonly coefs: Float64Array[][];
  /** Days between two solves: a long memory's coefficients barely move in a day. */
  private readonly refitEvery: number;
  private refits = 0;

  /**
   * @param priors per horizon, the coefficients before the site's own history speaks
   * @param daySteps steps per day: the pooled regressions get a sample a step, each group's one
   *   on each of its days
   */
  constructor(
    private readonly priors: Float64Array[],
    private readonly memory: Memory,
    daySteps: number,
  ) {
    const { halfLifeDays, splitDaysOff } = memory;
    this.refitEvery = Math.max(1, Math.floor(halfLifeDays / REFIT_PER_HALF_LIFE));
    const n = priors[0]?.length ?? 0;
    // Forgetting per sample, so that every regression's half-life is halfLifeDays in days.
    const forget = (perDay: number) => 0.5 ** (1 / (halfLifeDays * perDay));
    const perHourDay = daySteps / HOURS;
    const shares = splitDaysOff
      ? [...Array(HOURS).fill(1 - OFF_SHARE), ...Array(HOURS).fill(OFF_SHARE)]
      : Array(HOURS).fill(1);
    this.pooled = priors.map(() => new RidgeRegression(n, forget(daySteps)));
    this.hourly = priors.map(() => shares.map((share) => new RidgeRegression(n, forget(perHourDay * share))));
    this.coefs = priors.map((p) => shares.map(() => Float64Array.from(p)));
  }

  private group(hour: number, dayOff: boolean): number {
    return this.memory.splitDaysOff && dayOff ? hour + HOURS : hour;
  }

  /** A sample for horizon index i (0-based) at the target's hour of the day and kind of day. */
  add(i: number, hour: number, dayOff: boolean, x: Float64Array, z: number, w: number): void {
    this.pooled[i]?.add(x, z, w);
    this.hourly[i]?.[this.group(hour, dayOff)]?.add(x, z, w);
  }

  predict(i: number, hour: number, dayOff: boolean, x: Float64Array): number {
    const b = this.coefs[i]?.[this.group(hour, dayOff)] as Float64Array;
    let z = 0;
    for (let k = 0; k < x.length; k++) z += (b[k] as number) * (x[k] as number);
    return z;
  }

  /**
   * Called once a day. New coefficients: pooled ones shrunk to the prior, each group's shrunk to
   * the pooled ones.
   */
  refit(prior: number, hourPrior: number): void {
    if (this.refits++ % this.refitEvery !== 0) return;
    for (const [i, regressions] of this.hourly.entries()) {
      const pooled = this.pooled[i]?.solve(this.priors[i] as Float64Array, prior) as Float64Array;
      const coefs = this.coefs[i] as Float64Array[];
      for (const [g, r] of regressions.entries()) r.solve(pooled, hourPrior, coefs[g]);
    }
  }
}

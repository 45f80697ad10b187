// How the other sites are running right now: at each step, the median over the other sites of
// their log-ratio to their own profile, r = ln(1 + y) − ln(1 + p). Rain, a lockdown or a holiday
// the calendar does not know shows in all of them at once, and the median of several sites is a
// steadier witness of it than the site's own last hour. A site's r at a step uses only its
// values up to that step, so the context at an origin holds nothing after it.
import { SeasonalProfile } from './profile.ts';

/** One site's points, in time order (plain arrays, so a backtest job can carry it to a thread). */
export interface SiteSeries {
  utc: ArrayLike<number>;
  local: ArrayLike<number>;
  values: ArrayLike<number>;
}

/** The others' median log-ratio per grid step (utc / stepMs) from `first`; NaN where none has one. */
export interface CityContext {
  first: number;
  values: Float64Array;
  /** Per step, 1 once the step's working day has been found to be a day off (findDaysOff). */
  dayOff?: Uint8Array;
}

export interface ContextOptions {
  stepMs: number;
  /** The model's profile window, so each site's r is the one its own model sees. */
  window: number;
  isHoliday: (date: string) => boolean;
  /** No holiday calendar is known (foreign data without a file): find days off from the counts. */
  findDaysOff?: boolean;
}

export function contextAt(context: CityContext | undefined, step: number): number {
  if (!context) return Number.NaN;
  const i = step - context.first;
  return i >= 0 && i < context.values.length ? (context.values[i] as number) : Number.NaN;
}

/**
 * A working day counts as a day off once, from DAY_OFF_HOUR on, all sites' counts so far sit
 * closer to their day-off profiles than to their own by DAY_OFF_FIT (sums of absolute log
 * errors). Without a holiday file this finds most holidays by mid-morning; chosen on the three
 * real data sets without their holidays (0.6–0.75 all helped, README).
 */
const DAY_OFF_FIT = 0.75;
const DAY_OFF_HOUR = 9;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

class DayOffFinder {
  private day = Number.NaN;
  private own = 0;
  private off = 0;
  found = false;

  /** A site's value at a working day's `local`, against its own profile and its day-off one. */
  see(local: number, ly: number, lpOwn: number, lpOff: number): void {
    this.startDay(local);
    this.own += Math.abs(ly - lpOwn);
    this.off += Math.abs(ly - lpOff);
  }

  /** After every site's value at `local`: is its day a day off? */
  decide(local: number): boolean {
    this.startDay(local);
    const hour = Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
    if (!this.found && hour >= DAY_OFF_HOUR && this.own > 0 && this.off < DAY_OFF_FIT * this.own)
      this.found = true;
    return this.found;
  }

  private startDay(local: number): void {
    const day = Math.floor(local / DAY_MS);
    if (day === this.day) return;
    this.day = day;
    this.own = 0;
    this.off = 0;
    this.found = false;
  }
}

/**
 * The context of each site (same order as `sites`): the median of the other sites' r, and with
 * findDaysOff the days off found. All sites go step by step together, as a day off found at a
 * step changes every profile's day type from there on.
 */
export function cityContexts(sites: SiteSeries[], opts: ContextOptions): CityContext[] {
  const steps = sites.flatMap((s) =>
    s.utc.length
      ? [
          Math.round((s.utc[0] as number) / opts.stepMs),
          Math.round((s.utc[s.utc.length - 1] as number) / opts.stepMs),
        ]
      : [],
  );
  if (sites.length < 2 || steps.length === 0)
    return sites.map(() => ({ first: 0, values: new Float64Array(0) }));
  const first = Math.min(...steps);
  const length = Math.max(...steps) - first + 1;
  const ratios = sites.map(() => new Float64Array(length).fill(Number.NaN));
  const profiles = sites.map(() => new SeasonalProfile(opts.stepMs, opts.window, opts.isHoliday));
  const dayOff = opts.findDaysOff ? new Uint8Array(length) : undefined;
  const finder = new DayOffFinder();
  // Per site, the index of its next point, and of its point at the current step (−1: none).
  const next = sites.map(() => 0);
  const here = sites.map(() => -1);
  for (let i = 0; i < length; i++) {
    let local = Number.NaN;
    for (const [k, site] of sites.entries()) {
      const stepOf = (j: number) => Math.round((site.utc[j] as number) / opts.stepMs) - first;
      let j = next[k] as number;
      // A second point on the same step (an odd timestamp) is passed over, as the grid holds one.
      while (j < site.utc.length && stepOf(j) < i) j++;
      next[k] = j;
      here[k] = j < site.utc.length && stepOf(j) === i ? j : -1;
      if (here[k] < 0) continue;
      next[k] = j + 1;
      local = site.local[j] as number;
      const profile = profiles[k] as SeasonalProfile;
      const p = profile.at(local);
      if (p === undefined) continue;
      const ly = Math.log1p(site.values[j] as number);
      (ratios[k] as Float64Array)[i] = ly - Math.log1p(p);
      const off = dayOff && !profile.isDayOff(local) ? profile.atHoliday(local) : undefined;
      if (off !== undefined) finder.see(local, ly, Math.log1p(p), Math.log1p(off));
    }
    const found = dayOff !== undefined && !Number.isNaN(local) && finder.decide(local);
    if (found) dayOff[i] = 1;
    for (const [k, site] of sites.entries()) {
      const j = here[k] as number;
      if (j < 0) continue;
      const profile = profiles[k] as SeasonalProfile;
      if (found) profile.markHoliday(site.local[j] as number);
      profile.add(site.local[j] as number, site.values[j] as number);
    }
  }
  const contexts = sites.map(() => ({ first, values: new Float64Array(length).fill(Number.NaN), dayOff }));
  const sorted = new Float64Array(sites.length);
  for (let i = 0; i < length; i++) {
    let n = 0;
    for (const r of ratios) if (!Number.isNaN(r[i] as number)) sorted[n++] = r[i] as number;
    const present = sorted.subarray(0, n).sort();
    for (const [k, r] of ratios.entries()) {
      const own = r[i] as number;
      (contexts[k] as CityContext).values[i] = medianWithout(present, own);
    }
  }
  return contexts;
}

/** The median of sorted `a` without one occurrence of `v` (none if v is NaN); NaN if empty. */
export function medianWithout(a: Float64Array, v: number): number {
  // Index of the left-out value, or a.length (nothing left out).
  let skip = a.length;
  if (!Number.isNaN(v)) {
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((a[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    skip = lo;
  }
  const m = skip < a.length ? a.length - 1 : a.length;
  if (m === 0) return Number.NaN;
  const nth = (j: number) => a[j < skip ? j : j + 1] as number;
  return m % 2 ? nth((m - 1) / 2) : (nth(m / 2 - 1) + nth(m / 2)) / 2;
}

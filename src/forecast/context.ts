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
}

export interface ContextOptions {
  stepMs: number;
  /** The model's profile window, so each site's r is the one its own model sees. */
  window: number;
  isHoliday: (date: string) => boolean;
}

export function contextAt(context: CityContext | undefined, step: number): number {
  if (!context) return Number.NaN;
  const i = step - context.first;
  return i >= 0 && i < context.values.length ? (context.values[i] as number) : Number.NaN;
}

/** Each site's r on the common grid from `first` (NaN: no value, or no profile yet). */
function siteRatios(site: SiteSeries, first: number, length: number, opts: ContextOptions): Float64Array {
  const r = new Float64Array(length).fill(Number.NaN);
  const profile = new SeasonalProfile(opts.stepMs, opts.window, opts.isHoliday);
  for (let i = 0; i < site.values.length; i++) {
    const local = site.local[i] as number;
    const value = site.values[i] as number;
    const p = profile.at(local);
    if (p !== undefined)
      r[Math.round((site.utc[i] as number) / opts.stepMs) - first] = Math.log1p(value) - Math.log1p(p);
    profile.add(local, value);
  }
  return r;
}

/** The context of each site (same order as `sites`): the median of the other sites' r. */
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
  const ratios = sites.map((s) => siteRatios(s, first, length, opts));
  const contexts = sites.map(() => ({ first, values: new Float64Array(length).fill(Number.NaN) }));
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

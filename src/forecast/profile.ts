// The seasonal profile: for each day type and time-of-day slot, a trimmed mean of the last W
// values seen there (the highest and lowest 10 % dropped). Gaps are simply not fed (an outage is
// not a zero) and the trimming keeps an odd day (a protest, a broken counter) from moving it,
// while averaging more values than a median does, so the profile's shape is less noisy.

type DayType = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun' | 'holiday';
const DAYS: DayType[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY_MS = 86_400_000;
/** Index of the holiday day type after the seven weekdays (Sunday is 0). */
const HOLIDAY = 7;

/** Each weekday has its own shape (Friday evenings are not Monday's); holidays share one. */
function dayType(local: number, isHoliday: (date: string) => boolean): DayType {
  const d = new Date(local);
  return isHoliday(d.toISOString().slice(0, 10)) ? 'holiday' : (DAYS[d.getUTCDay()] as DayType);
}

/** Share of values dropped at each end. */
const TRIM = 0.1;

/** The mean of `xs` without its lowest and highest ⌊n·share⌋ values. */
export function trimmedMean(xs: number[], share = TRIM): number {
  const s = Float64Array.from(xs);
  if (s.length > 64) s.sort();
  // The profile's own lists are short and this runs at every step: an insertion sort is quicker.
  else
    for (let i = 1; i < s.length; i++) {
      const v = s[i] as number;
      let j = i;
      for (; j > 0 && (s[j - 1] as number) > v; j--) s[j] = s[j - 1] as number;
      s[j] = v;
    }
  const cut = Math.floor(s.length * share);
  let sum = 0;
  for (let i = cut; i < s.length - cut; i++) sum += s[i] as number;
  return sum / (s.length - 2 * cut);
}

export class SeasonalProfile {
  private readonly slotsPerDay: number;
  private readonly values = new Map<number, number[]>();
  private readonly means = new Map<number, number>();
  private readonly types = new Map<number, number>();
  /** The fallbacks of at(), kept until a value joins them (a new site asks for them each step). */
  private readonly slotMeans = new Map<number, number>();
  private anyMean: number | undefined;

  constructor(
    private readonly stepMs: number,
    private readonly window: number,
    private readonly isHoliday: (date: string) => boolean,
  ) {
    this.slotsPerDay = Math.round(DAY_MS / stepMs);
  }

  /** Slot of the day (0 … slotsPerDay − 1) of a local time. */
  slot(local: number): number {
    return Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / this.stepMs);
  }

  private key(local: number): number {
    const day = Math.floor(local / DAY_MS);
    let type = this.types.get(day);
    if (type === undefined) {
      const d = dayType(local, this.isHoliday);
      type = d === 'holiday' ? HOLIDAY : DAYS.indexOf(d);
      this.types.set(day, type);
    }
    return type * this.slotsPerDay + this.slot(local);
  }

  add(local: number, value: number): void {
    const k = this.key(local);
    const list = this.values.get(k) ?? [];
    list.push(value);
    if (list.length > this.window) list.shift();
    this.values.set(k, list);
    this.means.set(k, trimmedMean(list));
    this.slotMeans.delete(k % this.slotsPerDay);
    this.anyMean = undefined;
  }

  /**
   * The profile at a local time; with no history for its day type and slot (a new site, a first
   * holiday), a holiday falls back to Sunday's, anything else to the same slot on any day type,
   * then to whatever has been seen at all.
   */
  at(local: number): number | undefined {
    const k = this.key(local);
    const own = this.means.get(k);
    if (own !== undefined) return own;
    const slot = k % this.slotsPerDay;
    const sunday = k >= HOLIDAY * this.slotsPerDay ? this.means.get(slot) : undefined;
    if (sunday !== undefined) return sunday;
    let mean = this.slotMeans.get(slot);
    if (mean === undefined) {
      const pool = [...this.values.entries()]
        .filter(([key]) => key % this.slotsPerDay === slot)
        .flatMap(([, v]) => v);
      if (pool.length) {
        mean = trimmedMean(pool);
        this.slotMeans.set(slot, mean);
      }
    }
    if (mean !== undefined) return mean;
    if (this.anyMean === undefined && this.values.size)
      this.anyMean = trimmedMean([...this.values.values()].flat());
    return this.anyMean;
  }
}

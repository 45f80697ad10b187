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

/** The mean of the first n values of sorted `s` without the lowest and highest ⌊n·share⌋. */
function trimmedMeanSorted(s: Float64Array, n: number, share: number): number {
  const cut = Math.floor(n * share);
  let sum = 0;
  for (let i = cut; i < n - cut; i++) sum += s[i] as number;
  return sum / (n - 2 * cut);
}

/** The mean of `xs` without its lowest and highest ⌊n·share⌋ values. */
export function trimmedMean(xs: number[], share = TRIM): number {
  return trimmedMeanSorted(Float64Array.from(xs).sort(), xs.length, share);
}

/** Index of the first value of sorted s[0, n) that is not below v. */
function lowerBound(s: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((s[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The last W values of one day type and slot, in arrival order (a ring) and sorted, kept sorted
 * as values come and go: the profile takes a trimmed mean at every step, and sorting W = 104
 * values afresh each time was most of the backtest's work.
 */
class SlotWindow {
  readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  n = 0;
  private next = 0;

  constructor(size: number) {
    this.ring = new Float64Array(size);
    this.sorted = new Float64Array(size);
  }

  add(v: number): void {
    const size = this.ring.length;
    if (this.n === size) {
      const old = this.ring[this.next] as number;
      const at = lowerBound(this.sorted, this.n, old);
      this.sorted.copyWithin(at, at + 1, this.n);
      this.n--;
    }
    this.ring[this.next] = v;
    this.next = (this.next + 1) % size;
    const at = lowerBound(this.sorted, this.n, v);
    this.sorted.copyWithin(at + 1, at, this.n);
    this.sorted[at] = v;
    this.n++;
  }

  /** The values held, in no particular order. */
  values(): Float64Array {
    return this.ring.subarray(0, this.n);
  }

  trimmedMean(): number {
    return trimmedMeanSorted(this.sorted, this.n, TRIM);
  }
}

export class SeasonalProfile {
  private readonly slotsPerDay: number;
  private readonly values = new Map<number, SlotWindow>();
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

  /** Index of the day type of a local time (DAYS, then HOLIDAY), kept per day. */
  private typeOf(local: number): number {
    const day = Math.floor(local / DAY_MS);
    let type = this.types.get(day);
    if (type === undefined) {
      const d = dayType(local, this.isHoliday);
      type = d === 'holiday' ? HOLIDAY : DAYS.indexOf(d);
      this.types.set(day, type);
    }
    return type;
  }

  /** Saturday, Sunday or a holiday. */
  isDayOff(local: number): boolean {
    const type = this.typeOf(local);
    return type === HOLIDAY || DAYS[type] === 'sat' || DAYS[type] === 'sun';
  }

  /** From now on, the day of this local time is a holiday (found from the counts: context.ts). */
  markHoliday(local: number): void {
    this.types.set(Math.floor(local / DAY_MS), HOLIDAY);
  }

  /** The profile at a local time as if its day were a holiday (Sunday's until one is seen). */
  atHoliday(local: number): number | undefined {
    const slot = this.slot(local);
    return this.means.get(HOLIDAY * this.slotsPerDay + slot) ?? this.means.get(slot);
  }

  private key(local: number): number {
    return this.typeOf(local) * this.slotsPerDay + this.slot(local);
  }

  add(local: number, value: number): void {
    const k = this.key(local);
    let slot = this.values.get(k);
    if (!slot) {
      slot = new SlotWindow(this.window);
      this.values.set(k, slot);
    }
    slot.add(value);
    this.means.set(k, slot.trimmedMean());
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
        .flatMap(([, v]) => [...v.values()]);
      if (pool.length) {
        mean = trimmedMean(pool);
        this.slotMeans.set(slot, mean);
      }
    }
    if (mean !== undefined) return mean;
    if (this.anyMean === undefined && this.values.size)
      this.anyMean = trimmedMean([...this.values.values()].flatMap((v) => [...v.values()]));
    return this.anyMean;
  }
}

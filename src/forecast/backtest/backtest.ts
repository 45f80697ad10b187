// Rolling-origin evaluation with no look-ahead: the model only ever sees values before each
// origin, which moves one step at a time after an 8-week warm-up. The two baselines use the same
// targets: the seasonal naive (same slot a week earlier) and the weekly profile (mean of the same
// weekday and hour over the previous 8 weeks with data), which is what Takeo shows today.
import type { CityContext } from '../model/context.ts';
import { CongestionModel, DEFAULT_MODEL, type ModelOptions } from '../model/model.ts';
import { formatInstant, inferStep, type Point } from './series.ts';

const WEEK = 7 * 86_400_000;
export const HORIZONS = [1, 2, 3] as const;

export interface Scores {
  mae: number;
  wape: number;
  mase: number;
}

export interface HorizonResult {
  h: number;
  n: number;
  model: Scores;
  seasonalNaive: Scores;
  weeklyProfile: Scores;
  /** Share of actuals inside the model's 80 % interval. */
  coverage80: number;
}

export interface Prediction {
  location: string;
  origin: string;
  target: string;
  h: number;
  forecast: number;
  lower: number;
  upper: number;
  actual: number;
}

export interface BacktestOptions {
  isHoliday: (date: string) => boolean;
  from?: number;
  to?: number;
  onPrediction?: (p: Prediction) => void;
  model?: Partial<ModelOptions>;
  /** The other locations' median log-ratio (context.ts), on this location's grid. */
  context?: CityContext;
}

export function backtestLocation(location: string, points: Point[], opts: BacktestOptions): HorizonResult[] {
  const stepMs = inferStep(points);
  const model = new CongestionModel({
    ...DEFAULT_MODEL,
    stepMs,
    isHoliday: opts.isHoliday,
    horizons: HORIZONS.length,
    context: opts.context,
    ...opts.model,
  });
  const first = Math.round((points[0]?.at.utc ?? 0) / stepMs);
  const last = Math.round((points.at(-1)?.at.utc ?? 0) / stepMs);
  // The points by grid step (a dense array: the loop looks up some 30 steps per origin).
  const grid: Array<Point | undefined> = new Array(last - first + 1).fill(undefined);
  for (const p of points) grid[Math.round(p.at.utc / stepMs) - first] = p;
  const byStep = { get: (step: number) => grid[step - first] };
  const weekSteps = Math.round(WEEK / stepMs);
  const warmUp = first + 8 * weekSteps;
  const sums = HORIZONS.map(() => ({ n: 0, actual: 0, model: 0, naive: 0, profile: 0, covered: 0 }));
  // Local time of a grid step: shift by the offset of the nearest known point (handles DST).
  let offset = (points[0]?.at.local ?? 0) - (points[0]?.at.utc ?? 0);
  const instant = (step: number) => ({ utc: step * stepMs, local: step * stepMs + offset });

  for (let step = first; step <= last; step++) {
    const point = byStep.get(step);
    if (point) offset = point.at.local - point.at.utc;
    model.update(point?.at ?? instant(step), point?.value);
    if (step < warmUp) continue;
    const originUtc = step * stepMs;
    if ((opts.from !== undefined && originUtc < opts.from) || (opts.to !== undefined && originUtc > opts.to))
      continue;
    for (const [i, h] of HORIZONS.entries()) {
      const target = byStep.get(step + h);
      const f = model.forecast(h, target?.at ?? instant(step + h));
      if (!target || !f) continue;
      opts.onPrediction?.({
        location,
        origin: point?.text ?? formatInstant(instant(step)),
        target: target.text,
        h,
        ...f,
        actual: target.value,
      });
      // Scored only where both baselines have a value: the three are compared on the same targets.
      const naive = byStep.get(step + h - weekSteps)?.value;
      let sum = 0;
      let weeks = 0;
      for (let k = 1; k <= 8; k++) {
        const v = byStep.get(step + h - k * weekSteps)?.value;
        if (v !== undefined) {
          sum += v;
          weeks++;
        }
      }
      if (naive === undefined || weeks === 0) continue;
      const profile = sum / weeks;
      const s = sums[i] as (typeof sums)[number];
      s.n++;
      s.actual += target.value;
      s.model += Math.abs(target.value - f.forecast);
      s.naive += Math.abs(target.value - naive);
      s.profile += Math.abs(target.value - profile);
      if (target.value >= f.lower && target.value <= f.upper) s.covered++;
    }
  }
  return HORIZONS.map((h, i) => {
    const s = sums[i] as (typeof sums)[number];
    const score = (abs: number): Scores => ({
      mae: s.n ? abs / s.n : Number.NaN,
      wape: s.actual ? abs / s.actual : Number.NaN,
      mase: s.naive ? abs / s.naive : Number.NaN,
    });
    return {
      h,
      n: s.n,
      model: score(s.model),
      seasonalNaive: score(s.naive),
      weeklyProfile: score(s.profile),
      coverage80: s.n ? s.covered / s.n : Number.NaN,
    };
  });
}

// One location's backtest as a self-contained job: plain arrays in (so it can cross to a worker
// thread cheaply), its scores and its --predictions rows out. The same code runs inline and on
// worker threads, so both give byte-identical results.

import type { CityContext } from '../model/context.ts';
import { isJapaneseHoliday } from '../model/holidays-jp.ts';
import { backtestLocation, type HorizonResult, type Prediction } from './backtest.ts';
import type { Point } from './series.ts';

export interface LocationJob {
  index: number;
  location: string;
  utc: Float64Array;
  local: Float64Array;
  values: Float64Array;
  texts: string[];
  /** How the file's other locations ran (context.ts). */
  context?: CityContext;
}

export interface JobSettings {
  /** The data's own holidays (YYYY-MM-DD); Japan's by rule when absent. */
  holidays?: string[];
  from?: number;
  to?: number;
  /** Produce the --predictions rows. */
  predictions: boolean;
}

export interface JobResult {
  index: number;
  horizons: HorizonResult[];
  /** CSV rows without the header (empty unless asked for). */
  predictions: string;
}

export function toJob(index: number, location: string, points: Point[], context?: CityContext): LocationJob {
  return {
    index,
    location,
    context,
    utc: Float64Array.from(points, (p) => p.at.utc),
    local: Float64Array.from(points, (p) => p.at.local),
    values: Float64Array.from(points, (p) => p.value),
    texts: points.map((p) => p.text),
  };
}

/** The data's own holidays when given, else Japan's by rule. */
export function holidayRule(holidays?: string[]): (date: string) => boolean {
  if (!holidays) return isJapaneseHoliday;
  const set = new Set(holidays);
  return (date) => set.has(date);
}

const csvField = (s: string) => (/[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export const PREDICTIONS_HEADER = 'location,origin,target,h,forecast,lower,upper,actual\n';

export function runJob(job: LocationJob, settings: JobSettings): JobResult {
  const points: Point[] = job.texts.map((text, i) => ({
    at: { utc: job.utc[i] as number, local: job.local[i] as number },
    text,
    value: job.values[i] as number,
  }));
  const name = csvField(job.location);
  const rows: string[] = [];
  const onPrediction = settings.predictions
    ? (p: Prediction) => {
        rows.push(
          `${name},${p.origin},${p.target},${p.h},${p.forecast.toFixed(3)},${p.lower.toFixed(3)},${p.upper.toFixed(3)},${p.actual}\n`,
        );
      }
    : undefined;
  const horizons = backtestLocation(job.location, points, {
    isHoliday: holidayRule(settings.holidays),
    from: settings.from,
    to: settings.to,
    onPrediction,
    context: job.context,
  });
  return { index: job.index, horizons, predictions: rows.join('') };
}

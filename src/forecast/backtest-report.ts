// Runs the backtest over a CSV and renders it as a table or the documented JSON shape.
import { closeSync, openSync, writeSync } from 'node:fs';
import { backtestLocation, type HorizonResult, type Prediction } from './backtest.ts';
import { isJapaneseHoliday } from './holidays-jp.ts';
import { readCountsCsv, readHolidayFile } from './series.ts';

export interface BacktestRequest {
  csv: string;
  location?: string;
  from?: string;
  to?: string;
  holidays?: string;
  predictions?: string;
}

export interface BacktestReport {
  locations: Array<{
    location: string;
    horizons: Array<Omit<HorizonResult, 'coverage80'> & { coverage80: number }>;
  }>;
}

export async function runBacktest(req: BacktestRequest): Promise<BacktestReport> {
  const series = readCountsCsv(req.csv);
  const custom = req.holidays ? readHolidayFile(req.holidays) : undefined;
  const isHoliday = custom ? (d: string) => custom.has(d) : isJapaneseHoliday;
  const locations = [...series.keys()].filter((l) => !req.location || l === req.location).sort();
  if (locations.length === 0)
    throw new Error(req.location ? `no location "${req.location}" in ${req.csv}` : `no data in ${req.csv}`);
  const out = req.predictions ? openSync(req.predictions, 'w') : undefined;
  if (out !== undefined) writeSync(out, 'location,origin,target,h,forecast,lower,upper,actual\n');
  const csvField = (s: string) => (/[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  // Millions of rows: written in chunks, since a write per row costs more than the model.
  let chunk: string[] = [];
  const flush = () => {
    if (out !== undefined && chunk.length) writeSync(out, chunk.join(''));
    chunk = [];
  };
  const onPrediction =
    out !== undefined
      ? (p: Prediction) => {
          chunk.push(
            `${csvField(p.location)},${p.origin},${p.target},${p.h},${p.forecast.toFixed(3)},${p.lower.toFixed(3)},${p.upper.toFixed(3)},${p.actual}\n`,
          );
          if (chunk.length >= 10_000) flush();
        }
      : undefined;
  const report: BacktestReport = { locations: [] };
  try {
    for (const location of locations) {
      const horizons = backtestLocation(location, series.get(location) ?? [], {
        isHoliday,
        from: req.from ? Date.parse(req.from) : undefined,
        to: req.to ? Date.parse(req.to) : undefined,
        onPrediction,
      });
      report.locations.push({ location, horizons });
    }
    flush();
  } finally {
    if (out !== undefined) closeSync(out);
  }
  return report;
}

export function formatReport(report: BacktestReport): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
  const lines = ['location\th\tn\tmodel MAE\tWAPE\tMASE\tnaive WAPE\tprofile WAPE\tprofile MASE\t80% cover'];
  const mean = new Map<number, { mase: number; wape: number; pw: number; cov: number; k: number }>();
  for (const { location, horizons } of report.locations) {
    for (const r of horizons) {
      lines.push(
        [
          location,
          r.h,
          r.n,
          f(r.model.mae),
          f(r.model.wape),
          f(r.model.mase),
          f(r.seasonalNaive.wape),
          f(r.weeklyProfile.wape),
          f(r.weeklyProfile.mase),
          f(r.coverage80),
        ].join('\t'),
      );
      if (r.n === 0) continue;
      const m = mean.get(r.h) ?? { mase: 0, wape: 0, pw: 0, cov: 0, k: 0 };
      m.mase += r.model.mase;
      m.wape += r.model.wape;
      m.pw += r.weeklyProfile.wape;
      m.cov += r.coverage80;
      m.k++;
      mean.set(r.h, m);
    }
  }
  for (const [h, m] of mean) {
    lines.push(
      `mean over ${m.k} locations\th=${h}\t\t\tWAPE ${f(m.wape / m.k)}\tMASE ${f(m.mase / m.k)}\t\tprofile WAPE ${f(m.pw / m.k)}\t\tcover ${f(m.cov / m.k)}`,
    );
  }
  return lines.join('\n');
}

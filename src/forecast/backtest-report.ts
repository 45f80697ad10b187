// Runs the backtest over a CSV and renders it as a table or the documented JSON shape.
import { closeSync, openSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { HorizonResult } from './backtest.ts';
import { type JobResult, PREDICTIONS_HEADER, toJob } from './backtest-job.ts';
import { runJobs } from './backtest-pool.ts';
import { readCountsCsv, readHolidayFile } from './series.ts';

export interface BacktestRequest {
  csv: string;
  location?: string;
  from?: string;
  to?: string;
  holidays?: string;
  predictions?: string;
  /** Worker threads for the locations (default: one per core). */
  threads?: number;
}

export interface BacktestReport {
  locations: Array<{
    location: string;
    horizons: HorizonResult[];
  }>;
}

export async function runBacktest(req: BacktestRequest): Promise<BacktestReport> {
  const series = readCountsCsv(req.csv);
  const locations = [...series.keys()].filter((l) => !req.location || l === req.location).sort();
  if (locations.length === 0)
    throw new Error(req.location ? `no location "${req.location}" in ${req.csv}` : `no data in ${req.csv}`);
  const jobs = locations.map((l, i) => toJob(i, l, series.get(l) ?? []));
  series.clear();
  const settings = {
    holidays: req.holidays ? [...readHolidayFile(req.holidays)] : undefined,
    from: req.from ? Date.parse(req.from) : undefined,
    to: req.to ? Date.parse(req.to) : undefined,
    predictions: req.predictions !== undefined,
  };
  const out = req.predictions ? openSync(req.predictions, 'w') : undefined;
  const report: BacktestReport = { locations: [] };
  // Results come back in completion order: each is written once all before it are.
  const done = new Map<number, JobResult>();
  try {
    if (out !== undefined) writeSync(out, PREDICTIONS_HEADER);
    await runJobs(jobs, settings, req.threads ?? availableParallelism(), (r) => {
      done.set(r.index, r);
      for (let next = done.get(report.locations.length); next; next = done.get(report.locations.length)) {
        done.delete(next.index);
        report.locations.push({ location: locations[next.index] as string, horizons: next.horizons });
        if (out !== undefined) writeSync(out, next.predictions);
      }
    });
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

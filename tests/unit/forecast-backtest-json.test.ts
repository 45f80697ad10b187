// `machi forecast backtest --json` as a process on real counts (City of Melbourne, ../shared/data):
// stdout is one document of the BacktestJson shape, and its scores agree with a hand computation
// from the --predictions file of the same run.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { BacktestJson } from '../../src/forecast/backtest/report.ts';
import { sharedPath } from '../support/shared-dir.ts';

const DATA = sharedPath('data/melbourne-pedestrian/melbourne_hourly_pedestrian_counts.csv');
const dir = mkdtempSync(join(tmpdir(), 'machi-bt-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The rows of `location` from `from` (inclusive) for `weeks` weeks; all in AEST, no gaps there. */
function rows(lines: string[], location: string, from: string, weeks: number): string[] {
  const start = Date.parse(from);
  const end = start + weeks * 7 * 86_400_000;
  return lines.filter((l) => {
    const [timestamp = '', name] = l.split(',');
    const t = Date.parse(timestamp);
    return name === location && t >= start && t < end;
  });
}

it('prints one document of the BacktestJson shape whose scores match the predictions', async () => {
  const lines = readFileSync(DATA, 'utf8').split('\n');
  // 9 weeks: the 8-week warm-up, then one scored. A week of a second station is too short to score.
  const long = rows(lines, 'Southern Cross Station', '2015-05-04T00:00:00+10:00', 9);
  const short = rows(lines, 'Flagstaff Station', '2015-05-04T00:00:00+10:00', 1);
  expect(long).toHaveLength(9 * 168);
  const csv = join(dir, 'counts.csv');
  const predictions = join(dir, 'predictions.csv');
  writeFileSync(csv, `${lines[0]}\n${[...long, ...short].join('\n')}\n`);

  const { stdout, stderr } = await promisify(execFile)(
    'node',
    [
      'bin/machi.js',
      'forecast',
      'backtest',
      '--csv',
      csv,
      '--json',
      '--predictions',
      predictions,
      '--threads',
      '1',
    ],
    { timeout: 60_000 },
  );
  // Notes go to stderr; stdout is the document alone, on one line.
  expect(stderr).toContain('no public holidays assumed');
  expect(stdout.trim().split('\n')).toHaveLength(1);
  const report = BacktestJson.parse(JSON.parse(stdout));
  expect(report.locations.map((l) => l.location)).toEqual(['Flagstaff Station', 'Southern Cross Station']);

  const [flagstaff, southernCross] = report.locations;
  for (const r of flagstaff?.horizons ?? []) {
    expect(r.n).toBe(0);
    expect(r.model).toEqual({ mae: null, wape: null, mase: null });
  }
  // Every forecast with an actual is scored here (no gaps): MAE and WAPE by hand from the file.
  const predicted = readFileSync(predictions, 'utf8').trim().split('\n').slice(1);
  expect(southernCross?.horizons.map((r) => r.h)).toEqual([1, 2, 3]);
  for (const r of southernCross?.horizons ?? []) {
    const mine = predicted.map((l) => l.split(',')).filter((f) => f[3] === String(r.h));
    const abs = mine.reduce((a, f) => a + Math.abs(Number(f[7]) - Number(f[4])), 0);
    const actual = mine.reduce((a, f) => a + Number(f[7]), 0);
    expect(r.n).toBe(mine.length);
    expect(r.n).toBeGreaterThan(160);
    // The file rounds forecasts to 3 decimals.
    expect(r.model.mae).toBeCloseTo(abs / r.n, 3);
    expect(r.model.wape).toBeCloseTo(abs / actual, 5);
    // MASE is scaled by the seasonal naive's own MAE, so the naive scores exactly 1.
    expect(r.seasonalNaive.mase).toBeCloseTo(1, 12);
    expect(r.model.mase).toBeCloseTo((r.model.mae as number) / (r.seasonalNaive.mae as number), 12);
  }
}, 90_000);

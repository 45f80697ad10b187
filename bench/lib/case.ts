// What a bench case is: a named measurement that starts what it needs, runs `runs` times, stops
// what it started and returns its result rows. The shared stack (Kafka, InfluxDB) is up before
// any case runs; cases that break services on purpose start private ones.
import type { Config } from '../../src/config/config.ts';
import type { CaseResult } from './report.ts';

export interface BenchContext {
  config: Config;
  /** Runs per case (≥ 3); each case reports medians. */
  runs: number;
  /** Scales durations down for a quick look (`--quick`); results are still written, marked as such. */
  quick: boolean;
}

export interface BenchCase {
  name: string;
  run(ctx: BenchContext): Promise<CaseResult[]>;
}

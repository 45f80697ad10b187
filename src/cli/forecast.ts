import { parseArgs } from 'node:util';
import { createRuntime } from '../app/run.ts';
import { formatReport, runBacktest } from '../forecast/backtest-report.ts';
import { runForecastOnce } from '../forecast/component.ts';
import type { Command } from './command.ts';

const USAGE = `machi forecast backtest --csv FILE [--location NAME] [--from DATE --to DATE] [--holidays FILE] [--json] [--predictions OUT.csv] [--threads N]
machi forecast run`;

export const forecastCommand: Command = {
  name: 'forecast',
  summary: 'run the congestion forecast once, or backtest the model against baselines on a CSV',
  usage: USAGE,
  async run(args) {
    const [action, ...rest] = args;
    if (action === 'backtest') {
      const { values } = parseArgs({
        args: rest,
        options: Object.fromEntries(
          [['csv'], ['location'], ['from'], ['to'], ['holidays'], ['predictions'], ['threads']].map(([o]) => [
            o,
            { type: 'string' as const },
          ]),
        ) as Record<string, { type: 'string' }>,
        strict: false,
      });
      if (typeof values.csv !== 'string') {
        console.error(`usage:\n${USAGE}`);
        return 2;
      }
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const threads = str(values.threads);
      if (threads !== undefined && !/^[1-9]\d*$/.test(threads)) {
        console.error(`--threads must be a positive integer, not "${threads}"`);
        return 2;
      }
      const started = Date.now();
      const report = await runBacktest({
        csv: values.csv,
        location: str(values.location),
        from: str(values.from),
        to: str(values.to),
        holidays: str(values.holidays),
        predictions: str(values.predictions),
        threads: threads === undefined ? undefined : Number(threads),
      });
      // On stderr, so --json output stays one document.
      if (report.holidays === 'none')
        console.error(
          "no --holidays given and the data is not in Japan time (+09:00): no public holidays assumed; pass --holidays FILE with the data's own",
        );
      for (const r of report.rejected)
        console.error(
          `skipped ${r.rows} row(s) of ${values.csv}: ${r.reason} (first at line ${r.firstLine})`,
        );
      if (values.json) {
        const json = {
          locations: report.locations.map((l) => ({
            location: l.location,
            horizons: l.horizons.map(({ coverage80: _c, ...h }) => h),
          })),
        };
        console.log(JSON.stringify(json));
      } else {
        console.log(formatReport(report));
        console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
      return 0;
    }
    if (action === 'run') {
      return runForecastOnce(createRuntime());
    }
    console.error(`usage:\n${USAGE}`);
    return 2;
  },
};

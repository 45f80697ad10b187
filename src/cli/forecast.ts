import { singletons } from '../app/pipeline.ts';
import { createRuntime, startComponents, untilSignal } from '../app/run.ts';
import { formatReport, reportJson, runBacktest } from '../forecast/backtest/report.ts';
import { runForecastOnce } from '../forecast/component.ts';
import { type Command, type OptionSpecs, parseOptions, usageError } from './command.ts';

const USAGE = `machi forecast backtest --csv FILE [--location NAME] [--from DATE --to DATE] [--holidays FILE] [--json] [--predictions OUT.csv] [--threads N]
machi forecast run
machi forecast serve`;

const options = {
  csv: { type: 'string', arg: 'FILE', help: 'backtest: the counts to backtest on (docs/forecast.md)' },
  location: { type: 'string', arg: 'NAME', help: 'backtest: only this location' },
  from: { type: 'string', arg: 'DATE', help: 'backtest: first day' },
  to: { type: 'string', arg: 'DATE', help: 'backtest: last day' },
  holidays: { type: 'string', arg: 'FILE', help: "backtest: the data's public holidays" },
  json: { type: 'boolean', help: 'backtest: print the report as one JSON document' },
  predictions: { type: 'string', arg: 'OUT.csv', help: 'backtest: write every prediction to this CSV' },
  threads: { type: 'string', arg: 'N', help: 'backtest: worker threads' },
} satisfies OptionSpecs;

export const forecastCommand: Command = {
  name: 'forecast',
  summary:
    'run the congestion forecast once or on its schedule, or backtest the model against baselines on a CSV',
  usage: USAGE,
  options,
  async run(args) {
    const { values, positionals } = parseOptions(options, args);
    const action = positionals[0];
    if (action === 'backtest') {
      if (values.csv === undefined) return usageError(this);
      const threads = values.threads;
      if (threads !== undefined && !/^[1-9]\d*$/.test(threads)) {
        console.error(`--threads must be a positive integer, not "${threads}"`);
        return 2;
      }
      const started = Date.now();
      const report = await runBacktest({
        csv: values.csv,
        location: values.location,
        from: values.from,
        to: values.to,
        holidays: values.holidays,
        predictions: values.predictions,
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
        console.log(JSON.stringify(reportJson(report)));
      } else {
        console.log(formatReport(report));
        console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
      return 0;
    }
    if (action === 'run') {
      return runForecastOnce(createRuntime());
    }
    if (action === 'serve') {
      // On MACHI_FORECAST_CRON until stopped; one of any number of these is active at a time.
      const running = await startComponents(createRuntime(), [singletons.forecast]);
      await untilSignal();
      await running.stop();
      return 0;
    }
    return usageError(this);
  },
};

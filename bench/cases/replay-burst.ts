// Replay burst: one simulated day of every Takeo device (the heavy-rain scenario stretched to 24 h,
// so every sensor wakes) played at 1,000× through machi's broker and a worker into a private
// InfluxDB: how long until everything is queryable, against the 86.4 s the burst itself lasts.

import type { Config } from '../../src/config/config.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { runScenario } from '../../src/simulators/run.ts';
import { loadScenario } from '../../src/simulators/scenario.ts';
import { startPrivateInflux } from '../../tests/support/private-stack.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { influxQl, seriesOf } from '../lib/influxql.ts';
import { startMachiPipeline } from '../lib/pipelines.ts';
import { sleep } from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const SPEED = 1000;
const HOURS = 24;
const INFLUX_PORT = 18586;
const DRAIN_TARGET_S = 10;

/** Flood and crowd points (every one has a seq field); heartbeats are left out, as not all carry one field. */
async function storedReadings(influxUrl: string, config: Config): Promise<number> {
  const r = await influxQl(influxUrl, 'SELECT count(seq) FROM flood, crowd', config.influx.bucket);
  return seriesOf(r).reduce((sum, s) => sum + Number(s.values[0]?.[1] ?? 0), 0);
}

export const replayBurstCase: BenchCase = {
  name: 'replay-burst',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const registry = loadRegistry('devices');
    const scenario = { ...loadScenario('heavy-rain-2021'), durationH: HOURS, drill: true };
    const runs: Array<Record<string, number>> = [];
    for (let run = 0; run < ctx.runs; run++) {
      const influx = await startPrivateInflux(INFLUX_PORT);
      try {
        const p = await startMachiPipeline(ctx.config, 'devices', '', influx.address);
        try {
          const t0 = Date.now();
          const played = await runScenario({
            scenario,
            registry,
            url: `mqtt://127.0.0.1:${p.mqttPort}`,
            speed: SPEED,
            // A past day replayed: device times end now (starting now would run up to 24 h ahead,
            // the broker's limit for device clocks).
            start: t0 - HOURS * 3_600_000,
          });
          const replayS = (Date.now() - t0) / 1000;
          // Drained: every record the broker put on the reading topics is committed by the worker.
          const deadline = Date.now() + 300_000;
          while (((await p.lag()) ?? 0) > 0 && Date.now() < deadline) await sleep(100);
          const drainedS = (Date.now() - t0) / 1000;
          const { flood, crowd } = p.kafkaTopics.readings;
          const records = (await p.records(flood)) + (await p.records(crowd));
          const deadLetters = await p.records(p.kafkaTopics.deadLetter);
          const stored = await storedReadings(influx.address, ctx.config);
          runs.push({ ...played, replayS, drainedS, records, deadLetters, stored });
          console.log(
            `  run ${run + 1}: ${played.acknowledged}/${played.sent} acknowledged in ${replayS.toFixed(1)} s, drained at ${drainedS.toFixed(1)} s; Kafka ${records} flood/crowd readings, ${deadLetters} dead letters; InfluxDB ${stored} flood/crowd points`,
          );
        } finally {
          await p.stop();
        }
      } finally {
        await influx.dispose();
      }
    }
    const tail = median(runs.map((r) => (r.drainedS ?? 0) - (r.replayS ?? 0)));
    const exact = runs.every((r) => r.stored === r.records && r.failed === 0);
    return [
      {
        case: 'replay-burst',
        metric: 's until all queryable after the burst ends',
        value: tail,
        baseline: { name: 'burst duration (s)', value: median(runs.map((r) => r.replayS ?? 0)) },
        target: `≤ ${DRAIN_TARGET_S} s after the burst; every reading stored`,
        pass: tail <= DRAIN_TARGET_S && exact,
        context: `${median(runs.map((r) => r.sent ?? 0))} messages from ${registry.devices.size} devices (${HOURS} h at ${SPEED}×, nominal ${((HOURS * 3600) / SPEED).toFixed(1)} s); flood/crowd readings in Kafka = points in InfluxDB: ${exact ? 'yes' : 'NO'}; ${median(runs.map((r) => r.deadLetters ?? 0))} dead letters`,
        runs: runs.length,
        details: runs,
      },
    ];
  },
};

// Proof that the Node-RED peer (bench/lib/node-red.ts) works and what it keeps, outside the bench:
//   node --import tsx bench/node-red-check.ts                     both variants, 20,000 readings at
//                                                                 2,000/s, then a 5 s restart under
//                                                                 load with a clean and a persistent
//                                                                 session
//   node --import tsx bench/node-red-check.ts --sweep 5000,10000,20000,30000 --seconds 30
//                                                                 stored vs acknowledged per fixed rate,
//                                                                 up to the first rate that loses
//   --restart-only --restart-variants batching,plain   only the restart runs (5,000/s for 30 s,
//                                                      Node-RED SIGKILLed at 10 s, 5 s down)
// Prints acknowledged / stored / lost per run. Bare aedes on 21887, Node-RED HTTP on 21880, its
// database `nodered_check` on the shared InfluxDB (dropped before each run).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from '../src/simulators/load.ts';
import { startBareAedes } from './cases/ingest.ts';
import {
  dropDatabase,
  ensureDatabase,
  ensureNodeRed,
  type NodeRedVariant,
  settleStored,
  startNodeRed,
  waitInfluxSocketsSettled,
} from './lib/node-red.ts';
import { sleep, stopChild, waitForPort } from './lib/processes.ts';

const MQTT_PORT = 21887;
const HTTP_PORT = 21880;
const DATABASE = 'nodered_check';
// Warnings every start prints (no projects, no credentials file): not problems with the data.
const STARTUP_NOTICES = /Projects disabled|Encrypted credentials not found/;

const { values } = parseArgs({
  options: {
    influx: { type: 'string', default: process.env.INFLUX_URL ?? 'http://127.0.0.1:8086' },
    devices: { type: 'string', default: '50' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '10' },
    sweep: { type: 'string' },
    variants: { type: 'string', default: 'plain,batching' },
    'restart-rate': { type: 'string', default: '5000' },
    'restart-seconds': { type: 'string', default: '30' },
    'restart-variants': { type: 'string', default: 'batching' },
    'no-restart': { type: 'boolean', default: false },
    'restart-only': { type: 'boolean', default: false },
  },
});
const influxUrl = values.influx;
const devices = Number(values.devices);
const variants = values.variants.split(',') as NodeRedVariant[];

interface Outcome {
  acknowledged: number;
  stored: number;
  distinct: number;
  lost: number;
  settleS: number;
  errorLines: number;
}

async function measure(
  label: string,
  variant: NodeRedVariant,
  cleanSession: boolean,
  rate: number,
  seconds: number,
  restartAfterS?: number,
): Promise<Outcome> {
  await dropDatabase(influxUrl, DATABASE);
  await ensureDatabase(influxUrl, DATABASE);
  const userDir = mkdtempSync(join(tmpdir(), 'machi-node-red-'));
  const tag = Date.now().toString(36);
  const ids = Array.from({ length: devices }, (_, i) => `nr-${tag}-${i}`);
  const nodeRed = await startNodeRed({
    variant,
    mqttPort: MQTT_PORT,
    influxUrl,
    database: DATABASE,
    httpPort: HTTP_PORT,
    userDir,
    cleanSession,
    clientId: `nodered-check-${tag}`,
  });
  try {
    const since = Date.now() - 1000;
    const outage =
      restartAfterS === undefined
        ? Promise.resolve(undefined)
        : sleep(restartAfterS * 1000).then(() => nodeRed.restart(5000));
    const load = await runLoad({
      url: `mqtt://127.0.0.1:${MQTT_PORT}`,
      deviceIds: ids,
      secret: () => 'bare broker ignores it',
      rate,
      durationS: seconds,
    });
    const outageMs = await outage;
    const settleStart = Date.now();
    const stored = await settleStored(influxUrl, DATABASE, since, load.acknowledged, {
      devicePrefix: `nr-${tag}-`,
    });
    const problems = readFileSync(nodeRed.logFile, 'utf8')
      .split('\n')
      .filter((l) => /\[(error|warn)\]/.test(l) && !STARTUP_NOTICES.test(l));
    const errorLines = problems.length;
    // The first few kinds of problem, without their timestamps, say why readings went missing.
    for (const kind of [...new Set(problems.map((l) => l.replace(/^.*?\[(error|warn)\]/, '[$1]')))].slice(
      0,
      3,
    ))
      console.log(`  node-red: ${kind.slice(0, 200)}`);
    const o: Outcome = {
      acknowledged: load.acknowledged,
      stored: stored.rows,
      distinct: stored.distinct,
      lost: load.acknowledged - stored.distinct,
      settleS: (Date.now() - settleStart) / 1000,
      errorLines,
    };
    console.log(
      `${label}: acknowledged ${o.acknowledged} (offered ${rate}/s for ${seconds} s, acknowledged within ${load.seconds.toFixed(1)} s = ${Math.round(load.acknowledged / load.seconds)}/s, ${load.failed} failed, ${load.sent - load.acknowledged - load.failed} unanswered) / stored ${o.stored} (distinct ${o.distinct}) / lost ${o.lost} (${((100 * o.lost) / Math.max(1, o.acknowledged)).toFixed(2)}%)` +
        `; drained ${o.settleS.toFixed(1)} s after the load; ${o.errorLines} error/warn log lines` +
        (outageMs === undefined ? '' : `; outage ${(outageMs / 1000).toFixed(1)} s`),
    );
    if (o.lost < 0)
      console.log(
        `  ${-o.lost} more stored than acknowledged: publishes whose PUBACK did not come back before the load generator gave up`,
      );
    if (o.stored !== o.distinct)
      console.log(`  rows ${o.stored} ≠ distinct ${o.distinct}: overwrites or duplicates`);
    return o;
  } finally {
    await nodeRed.stop();
    rmSync(userDir, { recursive: true, force: true });
    await waitInfluxSocketsSettled(influxUrl);
  }
}

await ensureNodeRed();
const broker = startBareAedes(MQTT_PORT);
let failed = false;
let stopping = false;
// The baseline broker dying mid-run (aedes has overflowed its stack once here, draining a large
// offline queue) would make every later figure meaningless: say so and fail.
broker.once('exit', (code, signal) => {
  if (stopping) return;
  failed = true;
  console.error(`bare aedes exited (${code ?? signal}) during the check; figures after this are void`);
});
try {
  await waitForPort(MQTT_PORT);
  if (values.sweep) {
    const rates = values.sweep.split(',').map(Number);
    // Rising rates, stopping at the first that loses: past it the plain flow only opens ever more
    // sockets to InfluxDB (tens of thousands at 10,000/s), which starves everything else on loopback.
    for (const variant of variants)
      for (const rate of rates) {
        const o = await measure(`${variant} ${rate}/s`, variant, true, rate, Number(values.seconds));
        if (o.lost > 0) break;
      }
  } else {
    for (const variant of values['restart-only'] ? [] : variants) {
      const o = await measure(
        `${variant} ${values.rate}/s`,
        variant,
        true,
        Number(values.rate),
        Number(values.seconds),
      );
      if (o.lost !== 0 || o.stored !== o.distinct) failed = true;
    }
    if (!values['no-restart']) {
      const seconds = Number(values['restart-seconds']);
      for (const variant of values['restart-variants'].split(',') as NodeRedVariant[])
        for (const cleanSession of [true, false])
          await measure(
            `${variant} restart 5 s under ${values['restart-rate']}/s, ${cleanSession ? 'clean' : 'persistent'} session`,
            variant,
            cleanSession,
            Number(values['restart-rate']),
            seconds,
            seconds / 3,
          );
    }
  }
} finally {
  stopping = true;
  await stopChild(broker);
}
process.exitCode = failed ? 1 : 0;

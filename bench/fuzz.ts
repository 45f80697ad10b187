// `npm run fuzz [-- --count N --service-count M --seconds S --seed X]`: bad input thrown at
// `machi all` alongside a valid QoS 1 stream (see bench/lib/fuzz-run.ts): N malformed MQTT inputs at
// the broker, and M service inputs (garbage acknowledgements as the office, garbage records on every
// Kafka topic a service consumes, bad requests at every HTTP route). Prints what happened to every
// input, by outcome and by dead-letter reason, and exits 1 on any violation: a crash, a 5xx, a hang,
// a lost valid reading, or bad input neither dead-lettered nor refused with a reason. A failing seed
// replays exactly with --seed.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.ts';
import { stackDown, stackUp } from '../src/stack/stack.ts';
import { type FuzzReport, runFuzz } from './lib/fuzz-run.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '5000' },
    'service-count': { type: 'string', default: '2500' },
    seconds: { type: 'string', default: '180' },
    seed: { type: 'string' },
    out: { type: 'string', default: 'bench/results/fuzz-latest.json' },
  },
});
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
const count = Number(values.count);
const serviceCount = Number(values['service-count']);
const seconds = Number(values.seconds);
if (![seed, count, serviceCount, seconds].every((n) => Number.isInteger(n) && n >= 0)) {
  console.error('--count, --service-count, --seconds and --seed take whole numbers');
  process.exit(2);
}

/** Reserved for the fuzzer so it can run beside the other benchmarks. */
const PORTS = { mqtt: 21886, http: 28086 };

function print(r: FuzzReport): void {
  const rows = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `  ${String(v).padStart(7)}  ${k}`)
      .join('\n');
  console.log(`\nseed ${r.seed}: ${r.sent} bad inputs sent\n\noutcomes:\n${rows(r.outcomes)}`);
  console.log(
    `\ndead letters in Kafka: ${r.deadLetters.records} (broker counted ${r.deadLetters.brokerCounted})`,
  );
  console.log(rows(r.deadLetters.byReason));
  console.log(`\nfamilies:\n${rows(r.families)}`);
  const v = r.valid;
  console.log(
    `\nvalid stream: sent ${v.sent}, acknowledged ${v.acked}, in Kafka ${v.inKafka}, missing ${v.missing}, duplicates ${v.duplicates}`,
  );
  console.log(
    `fuzzed but valid: acknowledged ${r.fuzzAcceptedAsValid.acked}, in Kafka ${r.fuzzAcceptedAsValid.inKafka}`,
  );
  console.log(`broker's own counters: disconnects by reason\n${rows(r.broker.disconnects)}`);
  console.log(`refused logins by reason\n${rows(r.broker.authFailures)}`);
  console.log(
    `broker: ${r.broker.alive ? 'alive' : 'DOWN'} (healthz ${r.broker.healthz}${r.broker.exit ? `, ${r.broker.exit}` : ''})`,
  );
  const sv = r.services;
  console.log(
    `\nservice inputs: ${sv.sent} (${Object.entries(sv.byChannel)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')})`,
  );
  console.log(`outcomes:\n${rows(sv.outcomes)}`);
  console.log(`service families:\n${rows(sv.families)}`);
  console.log(
    `dead letters: worker ${sv.deadLetters.worker}, alert service ${sv.deadLetters.alerts}\n${rows(sv.deadLetters.byReason)}`,
  );
  console.log(`HTTP statuses (slowest answer ${sv.http.slowestMs} ms)\n${rows(sv.http.statuses)}`);
  console.log(
    `retained acks sent ${sv.retainCleared.sent}, retain flags cleared by the broker ${sv.retainCleared.brokerCounted}, retained afterwards ${sv.retainCleared.retainedAfter}`,
  );
  if (sv.probe)
    console.log(
      `probe: points ${sv.probe.points.written}/${sv.probe.points.sent}, alert ${sv.probe.alert ? `${sv.probe.alert.level} ${sv.probe.alert.id} (retained: ${sv.probe.alert.onRetainedTopic})` : 'NONE'}\n${Object.entries(
        sv.probe.acks,
      )
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`,
    );
  if (sv.restart)
    console.log(
      `restart: stop ${sv.restart.stopExit}, ready again after ${sv.restart.readyAfterMs ?? 'NEVER'} ms, replay skipped ${sv.restart.replaySkipped}/${sv.restart.replayExpected} garbage records`,
    );
  console.log(`machi's error log lines:\n${rows(sv.logErrors)}`);
  const p = r.process;
  console.log(
    `machi all: ${p.alive ? 'alive' : `DOWN (${p.exit})`}, healthz ${p.healthz}, readyz ${p.readyz} ${JSON.stringify(p.checks)}`,
  );
  if (r.violations.length) console.log(`\nVIOLATIONS:\n${r.violations.map((x) => `  ${x}`).join('\n')}`);
}

const config = loadConfig();
const started = await stackUp(config);
let report: FuzzReport;
try {
  report = await runFuzz({
    count,
    serviceCount,
    seconds,
    seed,
    mqttPort: PORTS.mqtt,
    httpPort: PORTS.http,
    topicPrefix: `fuzz-${Date.now().toString(36)}`,
    progress: (line) => console.log(line),
  });
} finally {
  await stackDown(started);
}
print(report);
writeFileSync(values.out, `${JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2)}\n`);
console.log(
  report.violations.length
    ? `\nFUZZ FAILED (replay: --seed ${seed})`
    : '\nfuzz passed: no crash, no 5xx, nothing valid lost, every bad input refused or dead-lettered with a reason',
);
process.exitCode = report.violations.length ? 1 : 0;

// `npm run bench [-- --case ingest,e2e,... ] [--quick]`: brings the stack up, runs the chosen cases
// (all by default) one after the other, writes bench/results/<date>.json and merges the rows into
// bench/results/latest.{json,md}. Exit code 1 when any target is missed.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.ts';
import { stackDown, stackUp } from '../src/stack/stack.ts';
import { deleteTopicsCreatedSince } from '../tests/support/topic-cleanup.ts';
import { alertLatencyCase } from './cases/alert-latency.ts';
import { bruteForceCase } from './cases/brute-force.ts';
import { connectionsCase } from './cases/connections.ts';
import { e2eCase } from './cases/e2e.ts';
import { ingestCase } from './cases/ingest.ts';
import { reconnectStormCase } from './cases/reconnect-storm.ts';
import { replayBurstCase } from './cases/replay-burst.ts';
import { scaleOutCase } from './cases/scale-out.ts';
import type { BenchCase } from './lib/case.ts';
import { type CaseResult, writeResults } from './lib/report.ts';

const CASES: BenchCase[] = [
  ingestCase,
  e2eCase,
  alertLatencyCase,
  connectionsCase,
  replayBurstCase,
  bruteForceCase,
  reconnectStormCase,
  scaleOutCase,
];

const { values } = parseArgs({
  options: { case: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const wanted = values.case?.split(',').map((s) => s.trim()) ?? CASES.map((c) => c.name);
const unknown = wanted.filter((w) => !CASES.some((c) => c.name === w));
if (unknown.length) {
  console.error(`unknown case(s): ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}`);
  process.exit(2);
}

const config = loadConfig();
const since = Date.now();
const started = await stackUp(config);
const results: CaseResult[] = [];
try {
  for (const c of CASES.filter((c) => wanted.includes(c.name))) {
    console.log(`• ${c.name}`);
    const t0 = Date.now();
    const rows = await c.run({
      config,
      // Fewer than 3 runs only for a quick look; the table shows how many ran.
      runs: Math.max(1, Number(process.env.MACHI_BENCH_RUNS ?? 3)),
      quick: values.quick,
    });
    for (const r of rows)
      console.log(
        `  ${r.case}: ${r.pass ? 'pass' : 'FAIL'} (${r.metric} ${r.value.toFixed(1)}; ${r.context})`,
      );
    console.log(`  ${c.name} took ${Math.round((Date.now() - t0) / 1000)} s`);
    results.push(...rows);
  }
} finally {
  // Every case runs on topic prefixes of its own: none is needed once the results are in (unless
  // MACHI_KEEP_TOPICS=1, as for the tests: other runs on the same Kafka may have created topics since).
  if (process.env.MACHI_KEEP_TOPICS !== '1')
    await deleteTopicsCreatedSince(config.kafka.brokers, since).catch(() => {});
  await stackDown(started);
}
const table = writeResults(results);
console.log(`\n${table}`);
process.exitCode = results.every((r) => r.pass) ? 0 : 1;

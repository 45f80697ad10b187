// `npm run bench`: ingest throughput of machi's broker (auth + validation + PUBACK after Kafka acked)
// against a bare aedes broker, both in their own process, fed by the same load generator in the
// same run. Median of MACHI_BENCH_RUNS (≥ 3) runs per case; the headline is the ratio.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { type LoadResult, runLoad } from '../simulators/load.ts';
import { makeLoadRegistry } from '../simulators/load-registry.ts';
import { loadConfig } from '../src/config/config.ts';
import { demoSecret } from '../src/registry/secrets.ts';
import { stackDown, stackUp } from '../src/stack/stack.ts';
import { INFLUXDB_VERSION, KAFKA_VERSION } from '../src/stack/tools.ts';

const RUNS = Math.max(3, Number(process.env.MACHI_BENCH_RUNS ?? 3));
const SECONDS = Number(process.env.MACHI_BENCH_SECONDS ?? 10);
const TARGET_RATIO = 0.35;
const PORT = 21883;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForPort(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(200);
  }
  throw new Error(`nothing listened on ${port} within ${timeoutMs / 1000} s`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

function startServer(kind: 'bare' | 'machi', registryDir: string): ChildProcess {
  const env = {
    ...process.env,
    MQTT_PORT: String(PORT),
    HTTP_PORT: '28080',
    MACHI_DEVICES_DIR: registryDir,
    KAFKA_TOPIC_PREFIX: `bench-${Date.now().toString(36)}`,
    MACHI_LOG_LEVEL: 'warn',
    MACHI_INFLIGHT_PER_CLIENT: '1000',
  };
  const args =
    kind === 'bare' ? ['--import', 'tsx', 'bench/bare-aedes.ts', String(PORT)] : ['bin/machi.js', 'broker'];
  return spawn('node', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function measure(kind: 'bare' | 'machi', ids: string[], registryDir: string): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  for (let run = 0; run < RUNS; run++) {
    const server = startServer(kind, registryDir);
    try {
      await waitForPort(PORT);
      const r = await runLoad({
        url: `mqtt://127.0.0.1:${PORT}`,
        deviceIds: ids,
        secret: demoSecret,
        rate: 0,
        durationS: SECONDS,
        window: ids.length >= 100 ? 2 : 50,
      });
      results.push(r);
      console.log(
        `  ${kind} ${ids.length} devices run ${run + 1}: ${Math.round(r.throughput)} msg/s acknowledged, p99 ${r.latencyMs.p99.toFixed(1)} ms, failed ${r.failed}`,
      );
    } finally {
      await stop(server);
    }
  }
  return results;
}

const config = loadConfig();
const started = await stackUp(config);
const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-registry-'));
try {
  const all = makeLoadRegistry(registryDir, 1000);
  const cases = [];
  for (const devices of [10, 1000]) {
    const ids = all.slice(0, devices);
    console.log(`• ingest, ${devices} devices, ${RUNS} runs of ${SECONDS} s each`);
    const bare = await measure('bare', ids, registryDir);
    const machi = await measure('machi', ids, registryDir);
    const bareMedian = median(bare.map((r) => r.throughput));
    const machiMedian = median(machi.map((r) => r.throughput));
    const ratio = machiMedian / bareMedian;
    cases.push({
      case: `ingest-${devices}-devices`,
      devices,
      bareAedesMsgPerS: Math.round(bareMedian),
      machiMsgPerS: Math.round(machiMedian),
      ratio,
      target: TARGET_RATIO,
      pass: ratio >= TARGET_RATIO,
      machiP99Ms: median(machi.map((r) => r.latencyMs.p99)),
      machiFailed: machi.reduce((a, r) => a + r.failed, 0),
      runs: { bare, machi },
    });
  }
  const facts = {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kafka: KAFKA_VERSION,
    influxdb: INFLUXDB_VERSION,
    runsPerCase: RUNS,
    secondsPerRun: SECONDS,
  };
  mkdirSync('bench/results', { recursive: true });
  const stamp = facts.date.replace(/[:.]/g, '-');
  writeFileSync(`bench/results/${stamp}.json`, JSON.stringify({ facts, cases }, null, 2));
  const table = [
    `Machine: ${facts.cores} cores (${facts.cpu}), ${facts.memoryGiB} GiB, Node ${facts.node}, Kafka ${facts.kafka}, InfluxDB ${facts.influxdb}; ${RUNS} runs of ${SECONDS} s per case, medians; ${facts.date}.`,
    '',
    '| case | bare aedes (msg/s) | machi (msg/s) | ratio | target | machi p99 PUBACK | result |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...cases.map(
      (c) =>
        `| ${c.case} | ${c.bareAedesMsgPerS} | ${c.machiMsgPerS} | ${c.ratio.toFixed(2)} | ≥ ${c.target} | ${c.machiP99Ms.toFixed(1)} ms | ${c.pass ? 'pass' : 'FAIL'} |`,
    ),
  ].join('\n');
  writeFileSync('bench/results/latest.md', `${table}\n`);
  console.log(`\n${table}`);
  process.exitCode = cases.every((c) => c.pass) ? 0 : 1;
} finally {
  rmSync(registryDir, { recursive: true, force: true });
  await stackDown(started);
}

// One Ctrl-C while `machi stack up` is still starting Kafka or InfluxDB stops what it spawned and
// exits within seconds (issue 23); so does a failure of one of the two, which start side by side.
// On its own ports and state directory, so the shared stack is never touched.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { influxPaths } from '../../src/stack/influxdb.ts';
import { kafkaLayout } from '../../src/stack/kafka-nodes.ts';
import { alive, readPid, sleep } from '../../src/stack/processes.ts';

const KAFKA_PORT = 19492; // controller on 19493
const INFLUX_PORT = 18926; // RPC on 18928
/** Generous for 2 shared cores: the stop itself gives a half-started node a few seconds' grace. */
const EXIT_BOUND_MS = 12_000;

const stateDir = mkdtempSync(join(tmpdir(), 'machi-stack-interrupt-'));
const env = {
  ...process.env,
  MACHI_STACK_DIR: stateDir,
  KAFKA_BROKERS: `127.0.0.1:${KAFKA_PORT}`,
  INFLUX_URL: `http://127.0.0.1:${INFLUX_PORT}`,
};
const kafkaNode = kafkaLayout({ host: '127.0.0.1', port: KAFKA_PORT }, 1, env)[0];
const [kafkaPidFile, kafkaLog] = [kafkaNode?.pid ?? '', kafkaNode?.log ?? ''];
const influxPidFile = influxPaths(env).pid;

/** PIDs of the processes whose command line names this test's state directory (java, influxd). */
function processesOfThisStack(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stateDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

afterAll(() => {
  // Whatever a failed run left behind is this test's own: kill it before deleting its state.
  for (const pid of processesOfThisStack()) process.kill(pid, 'SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

/**
 * Runs `machi stack up`, sends SIGINT once `ready` says the moment has come, and returns what the
 * command printed, its exit code and how long it took to exit (or "still running"). Without
 * `ready`, no signal: the time is counted from the start.
 */
async function runStackUp(ready?: () => boolean) {
  const up = spawn('node', ['bin/machi.js', 'stack', 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  up.stdout.on('data', collect);
  up.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => up.on('exit', (code) => resolve(code)));
  let sentAt = Date.now();
  if (ready) {
    const deadline = Date.now() + 90_000;
    while (!ready() && Date.now() < deadline) await sleep(50);
    sentAt = Date.now();
    up.kill('SIGINT');
  }
  const code = await Promise.race([exited, sleep(EXIT_BOUND_MS * 2).then(() => 'still running')]);
  return { output, code, tookMs: Date.now() - sentAt };
}

async function expectNothingLeft(): Promise<void> {
  expect(processesOfThisStack()).toEqual([]);
  for (const port of [KAFKA_PORT, KAFKA_PORT + 1, INFLUX_PORT, INFLUX_PORT + 2])
    expect(await portFree(port), `port ${port}`).toBe(true);
}

it('Ctrl-C while Kafka starts stops the JVM and exits within seconds, leaving no process or port', {
  timeout: 120_000,
}, async () => {
  // Mid start-up: the JVM is spawned (PID file) and Kafka has begun to log; it answers only seconds later.
  const kafkaStarting = () =>
    Boolean(readPid(kafkaPidFile)) && existsSync(kafkaLog) && statSync(kafkaLog).size > 0;
  const { output, code, tookMs } = await runStackUp(kafkaStarting);
  const kafkaPid = readPid(kafkaPidFile)?.pid;

  expect(output, 'the signal came after Kafka was up: the test proves nothing').not.toContain('✓ Kafka');
  expect(kafkaPid !== undefined && alive(kafkaPid), 'the Kafka JVM outlived the Ctrl-C').toBe(false);
  await expectNothingLeft();
  expect(code, output).toBe(130);
  expect(tookMs, output).toBeLessThan(EXIT_BOUND_MS);
  expect(output).toContain('MACHI_ERR_START_INTERRUPTED');
});

// Kafka and InfluxDB start side by side: both are spawned, and InfluxDB does not answer yet.
it('Ctrl-C while InfluxDB starts stops influxd and the Kafka this run started', {
  timeout: 120_000,
}, async () => {
  const { output, code, tookMs } = await runStackUp(
    () => Boolean(readPid(influxPidFile)) && Boolean(readPid(kafkaPidFile)),
  );

  expect(output, 'the signal came after InfluxDB was up: the test proves nothing').not.toContain(
    '✓ InfluxDB',
  );
  await expectNothingLeft();
  expect(code, output).toBe(130);
  expect(tookMs, output).toBeLessThan(EXIT_BOUND_MS);
});

it('InfluxDB unable to start: stack up says why, stops Kafka starting beside it, leaves nothing', {
  timeout: 120_000,
}, async () => {
  // Something else on InfluxDB's port that answers nothing (a connection is closed at once).
  const taken = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => taken.listen(INFLUX_PORT, '127.0.0.1', resolve));
  try {
    const { output, code } = await runStackUp();
    expect(code, output).toBe(1);
    expect(output).toContain('MACHI_ERR_PORT_IN_USE');
    expect(output, 'Kafka was waited for instead of interrupted').not.toContain('✓ Kafka');
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
  await expectNothingLeft();
});

// The process guards in a real child process serving like `machi all` (runtime, components,
// /metrics, untilSignal): a stray promise rejection is logged and counted and the process keeps
// serving; an uncaught exception is logged as fatal, the components are stopped, and it exits 1.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';

const SERVING = `
import { loadConfig } from './src/config/config.ts';
import { installProcessGuards } from './src/app/process-guards.ts';
import { createRuntime, startComponents, untilSignal } from './src/app/run.ts';

const runtime = createRuntime(loadConfig({ ...process.env, HTTP_PORT: '0', MACHI_LOG_LEVEL: 'info' }));
installProcessGuards(runtime.log, 10_000);
const flaky = () => ({
  name: 'flaky',
  async start() {
    setTimeout(() => void Promise.reject(new Error('nobody handles this')), 50);
    if (process.env.THROW) setTimeout(() => { throw new Error('boom'); }, 300);
  },
  async stop() {
    runtime.log.info('flaky stopped');
  },
});
const running = await startComponents(runtime, [flaky]);
runtime.log.info({ port: runtime.http.server.address().port }, 'serving');
await untilSignal();
await running.stop();
`;

interface Line {
  level: number;
  msg: string;
  port?: number;
  err?: { message: string };
}

let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function serve(env: Record<string, string> = {}) {
  const proc = spawn('node', ['--import', 'tsx', '--input-type=module', '-e', SERVING], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = proc;
  const lines: Line[] = [];
  let rest = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) lines.push(JSON.parse(part) as Line);
  });
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const logged = async (msg: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = lines.find((l) => l.msg.includes(msg));
      if (line) return line;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no "${msg}" logged within ${timeoutMs} ms: ${JSON.stringify(lines)}`);
  };
  return { proc, exited, logged };
}

it('logs and counts an unhandled rejection, and keeps serving until SIGTERM', {
  timeout: 60_000,
}, async () => {
  const { proc, exited, logged } = serve();
  const { port } = await logged('serving');
  const rejection = await logged('unhandled promise rejection');
  expect(rejection.level).toBe(50); // pino's error level
  expect(rejection.err?.message).toBe('nobody handles this');

  await new Promise((r) => setTimeout(r, 500));
  expect(proc.exitCode).toBeNull();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toMatch(/^machi_unhandled_rejections_total 1$/m);

  proc.kill('SIGTERM');
  expect(await exited).toEqual([0, null]);
});

it('on an uncaught exception logs fatal, stops the components, and exits 1', {
  timeout: 60_000,
}, async () => {
  const { exited, logged } = serve({ THROW: '1' });
  const fatal = await logged('uncaught exception');
  expect(fatal.level).toBe(60); // pino's fatal level
  expect(fatal.err?.message).toBe('boom');
  await logged('flaky stopped');
  expect(await exited).toEqual([1, null]);
});

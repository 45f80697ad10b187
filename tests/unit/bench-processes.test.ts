// The bench's bounded waits leave no timer behind: a `Promise.race` with a sleep kept `npm run
// drills` alive for a minute after its last line, and the alert drills for 15 s (CI time, #23).
import { spawn } from 'node:child_process';
import { afterEach, expect, it, vi } from 'vitest';
import { stopChild, within } from '../../bench/lib/processes.ts';

afterEach(() => {
  vi.useRealTimers();
});

it('within: what the promise resolves to, with no timer left running', async () => {
  vi.useFakeTimers();
  expect(await within(Promise.resolve(7), 60_000)).toBe(7);
  expect(vi.getTimerCount()).toBe(0);
});

it('within: undefined once the time is up', async () => {
  vi.useFakeTimers();
  const waiting = within(new Promise<number>(() => {}), 1000);
  await vi.advanceTimersByTimeAsync(1000);
  expect(await waiting).toBeUndefined();
});

it('stopChild: no timer left running once the child has exited', async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  await stopChild(child);
  expect(child.signalCode).toBe('SIGTERM');
  expect(vi.getTimerCount()).toBe(0);
});

// The whole stop of a process's components is bounded: all go unready at once, then each stops in
// reverse order, and one whose stop hangs is logged and left behind rather than holding the rest.
import { afterEach, expect, it, vi } from 'vitest';
import { COMPONENT_STOP_MS, createRuntime, startComponents } from '../../src/app/run.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { ComponentFactory } from '../../src/runtime/component.ts';

afterEach(() => {
  vi.useRealTimers();
});

it('tells every component first, then stops each in reverse, going on past one that hangs', async () => {
  const events: string[] = [];
  const component =
    (name: string, hangs = false): ComponentFactory =>
    () => ({
      name,
      async start() {},
      beginStop: () => events.push(`begin ${name}`),
      stop() {
        events.push(`stop ${name}`);
        return hangs ? new Promise<void>(() => {}) : Promise.resolve();
      },
    });
  const runtime = createRuntime(loadConfig({ MACHI_LOG_LEVEL: 'silent', HTTP_PORT: '0' }));
  const errors = vi.spyOn(runtime.log, 'error');
  const running = await startComponents(runtime, [
    component('broker'),
    component('alerts', true),
    component('web'),
  ]);

  vi.useFakeTimers();
  const stopped = running.stop();
  expect(running.stop()).toBe(stopped); // once, however often asked
  await vi.advanceTimersByTimeAsync(COMPONENT_STOP_MS);
  await stopped;

  expect(events).toEqual([
    'begin broker',
    'begin alerts',
    'begin web',
    'stop web',
    'stop alerts',
    'stop broker',
  ]);
  expect(errors).toHaveBeenCalledWith(
    { component: 'alerts', ms: COMPONENT_STOP_MS },
    'stop did not finish in time: going on',
  );
});

import { expect, it } from 'vitest';
import { createRuntime, startComponents } from '../../src/app/run.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { ComponentFactory } from '../../src/runtime/component.ts';

it('stops the component whose start failed half-way, then the ones before it, in reverse', async () => {
  const events: string[] = [];
  const component =
    (name: string, fail = false): ComponentFactory =>
    () => ({
      name,
      async start() {
        events.push(`start ${name}`);
        if (fail) throw new Error(`${name} could not start`);
      },
      async stop() {
        events.push(`stop ${name}`);
      },
    });
  const runtime = createRuntime(loadConfig({ MACHI_LOG_LEVEL: 'silent' }));
  await expect(
    startComponents(runtime, [component('broker'), component('alerts', true), component('web')]),
  ).rejects.toThrow('alerts could not start');
  expect(events).toEqual(['start broker', 'start alerts', 'stop alerts', 'stop broker']);
});

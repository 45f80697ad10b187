import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import { pipelineComponents } from '../runtime/pipeline.ts';
import { createRuntime, startComponents, untilSignal } from '../runtime/run.ts';
import { stackDown, stackUp } from '../stack/stack.ts';
import type { Command } from './command.ts';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'start the stack and the whole pipeline, and say what is running (Ctrl-C stops all)',
  usage: 'machi demo [--duration SECONDS]',
  async run(args) {
    const { values } = parseArgs({ args, options: { duration: { type: 'string' } } });
    const config = loadConfig();
    console.log('• starting the native stack (Kafka + InfluxDB)');
    const startedServices = await stackUp(config);
    try {
      const running = await startComponents(createRuntime(config), pipelineComponents);
      const base = `http://${config.http.host}:${config.http.port}`;
      console.log('\nmachi is running:');
      console.log(`  Kafka       ${config.kafka.brokers.join(',')}`);
      console.log(`  InfluxDB    ${config.influx.url} (bucket ${config.influx.bucket})`);
      console.log(`  components  ${pipelineComponents.length} pipeline component(s)`);
      console.log(`  health      ${base}/healthz   readiness ${base}/readyz`);
      console.log(`  metrics     ${base}/metrics`);
      console.log('\nPress Ctrl-C to stop everything the demo started.');
      const duration = values.duration ? Number(values.duration) * 1000 : undefined;
      await (duration ? new Promise((r) => setTimeout(r, duration)) : untilSignal());
      console.log('\n• stopping');
      await running.stop();
    } finally {
      await stackDown(startedServices);
    }
    return 0;
  },
};

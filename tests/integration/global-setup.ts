// Brings up the real Kafka + InfluxDB with the project's own stack code when they are not running,
// and stops afterwards only what it started (MACHI_KEEP_STACK=1 keeps them for the next run).
// The topics the run created are deleted at the end either way, unless MACHI_KEEP_TOPICS=1: runs
// side by side on one Kafka would otherwise delete each other's (cleanup goes by creation time).
// The integration and browser projects both use this setup; their teardowns run one after the
// other in this process, so the first cleans up for both, before it may stop the stack.
import { loadConfig } from '../../src/config/config.ts';
import { stackDown, stackUp } from '../../src/stack/stack.ts';
import { deleteTopicsCreatedSince } from '../support/topic-cleanup.ts';

const run = globalThis as { machiTestRunSince?: number; machiTopicsCleaned?: boolean };

export default async function setup(): Promise<() => Promise<void>> {
  const config = loadConfig();
  run.machiTestRunSince ??= Date.now();
  const started = await stackUp(config);
  return async () => {
    if (process.env.MACHI_KEEP_TOPICS !== '1' && !run.machiTopicsCleaned) {
      run.machiTopicsCleaned = true;
      await deleteTopicsCreatedSince(config.kafka.brokers, run.machiTestRunSince ?? 0).catch((err: Error) =>
        console.warn(`could not delete this run's topics: ${err.message}`),
      );
    }
    if (started.length > 0 && process.env.MACHI_KEEP_STACK !== '1') await stackDown(started);
  };
}

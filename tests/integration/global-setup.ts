// Brings up the real Kafka + InfluxDB with the project's own stack code when they are not running,
// and stops afterwards only what it started (MACHI_KEEP_STACK=1 keeps them for the next run).
import { loadConfig } from '../../src/config/config.ts';
import { stackDown, stackUp } from '../../src/stack/stack.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const started = await stackUp(loadConfig());
  return async () => {
    if (started.length > 0 && process.env.MACHI_KEEP_STACK !== '1') await stackDown(started);
  };
}

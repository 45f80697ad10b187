import { afterAll, describe, expect, it } from 'vitest';
import { kafkaMetadataOk } from '../../src/stack/kafka.ts';
import { type PrivateService, startPrivateKafka } from '../support/private-stack.ts';

describe('private Kafka for fault tests', () => {
  let kafka: PrivateService | undefined;
  afterAll(async () => kafka?.dispose());

  it('starts beside the shared stack, survives SIGKILL and restarts on its own data', async () => {
    kafka = await startPrivateKafka(19992);
    expect(await kafkaMetadataOk({ host: '127.0.0.1', port: 19992 })).toBe(true);
    kafka.kill();
    await new Promise((r) => setTimeout(r, 500));
    expect(await kafkaMetadataOk({ host: '127.0.0.1', port: 19992 })).toBe(false);
    await kafka.start();
    expect(await kafkaMetadataOk({ host: '127.0.0.1', port: 19992 })).toBe(true);
  });
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Tests run the demo registry and default secrets, which production mode refuses.
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1', MACHI_MODE: 'demo' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/integration/global-setup.ts'],
          // One Kafka and one InfluxDB on a 2-core machine: files run one after another.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          // The pages run against the real broker, which hands off to the real Kafka.
          globalSetup: ['tests/integration/global-setup.ts'],
          fileParallelism: false,
          // After the integration files, not beside them: Chromium and Kafka on 2 cores at once
          // make timing-bound tests on both sides flaky.
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

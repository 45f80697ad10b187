import { describe, expect, it } from 'vitest';
import { topicCreatedAt } from '../support/topic-cleanup.ts';

describe('throwaway topic names', () => {
  const at = Date.parse('2026-12-01T11:00:00Z');
  const t36 = at.toString(36);

  it('reads the creation time of test and bench prefixes', () => {
    expect(topicCreatedAt(`worker-${t36}-d53bad.readings.flood`)).toBe(at);
    expect(topicCreatedAt(`bench-e2e-${t36}.deadletter`)).toBe(at);
    expect(topicCreatedAt(`alerts-restart-${t36}-0a1b2c.alerts.events`)).toBe(at);
  });

  it('reads any uniqueName() prefix, whatever word the test chose', () => {
    // singletons-, ngsi-push- and demo-mode- topics once outlived every run.
    expect(topicCreatedAt(`singletons-${t36}-144ed4.readings.heartbeat`)).toBe(at);
    expect(topicCreatedAt(`ngsi-push-${t36}-0a1b2c.readings.flood`)).toBe(at);
  });

  it('leaves everything else alone', () => {
    expect(topicCreatedAt('machi.readings.flood')).toBeUndefined();
    expect(topicCreatedAt('__consumer_offsets')).toBeUndefined();
    // "readings" is 8 base-36 digits too, but after the first dot and far in the future.
    expect(topicCreatedAt('bench-readings.flood')).toBeUndefined();
    expect(topicCreatedAt(`site-${t36}.readings.flood`)).toBeUndefined();
  });
});

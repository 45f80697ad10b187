// The cluster id `machi stack up` formats a new Kafka with, made in Node instead of a JVM run of
// `StorageTool random-uuid`: it must be what Kafka's Uuid.fromString takes (16 bytes, base64url
// without padding) and what its command line does not mistake for an option (no leading '-').
import { expect, it } from 'vitest';
import { newClusterId } from '../../src/stack/kafka.ts';

it('makes random 16-byte ids in base64url, 22 characters, none starting with a dash', () => {
  const ids = Array.from({ length: 500 }, () => newClusterId());
  for (const id of ids) {
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  }
  expect(new Set(ids).size).toBe(ids.length);
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replicationFor } from '../../src/bus/replication.ts';
import { kafkaLayout, kafkaNodesOnDisk } from '../../src/stack/kafka-nodes.ts';

describe('replication of machi topics', () => {
  it('keeps as many copies as brokers, up to three, and wants two in sync from three on', () => {
    expect([1, 2, 3, 5].map((brokers) => replicationFor(brokers))).toEqual([
      { factor: 1, minInsync: 1 },
      { factor: 2, minInsync: 1 },
      { factor: 3, minInsync: 2 },
      { factor: 3, minInsync: 2 },
    ]);
    expect(replicationFor(3, 1)).toEqual({ factor: 1, minInsync: 1 });
  });
});

describe('the local Kafka nodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'machi-kafka-nodes-'));
  const env = { MACHI_STACK_DIR: dir };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the single-node layout and gives a cluster consecutive client, then controller ports', () => {
    const first = { host: '127.0.0.1', port: 9092 };
    expect(kafkaLayout(first, 1, env).map((n) => [n.name, n.port, n.controllerPort, n.dir])).toEqual([
      ['kafka', 9092, 9093, join(dir, 'kafka')],
    ]);
    expect(kafkaLayout(first, 3, env).map((n) => [n.id, n.name, n.port, n.controllerPort])).toEqual([
      [1, 'kafka-1', 9092, 9095],
      [2, 'kafka-2', 9093, 9096],
      [3, 'kafka-3', 9094, 9097],
    ]);
  });

  it('finds the node count of the Kafka on disk', () => {
    expect(kafkaNodesOnDisk(env)).toBeUndefined();
    for (const name of ['kafka-1', 'kafka-2', 'kafka-3']) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'server.properties'), '');
    }
    expect(kafkaNodesOnDisk(env)).toBe(3);
  });
});

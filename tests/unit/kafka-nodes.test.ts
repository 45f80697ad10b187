import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replicationFor } from '../../src/bus/replication.ts';
import { kafkaLayout, kafkaNodesOnDisk, removeDeletedPartitions } from '../../src/stack/kafka-nodes.ts';

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

  it('removes the folders of deleted partitions a stopped node left, and nothing else', () => {
    const [node] = kafkaLayout({ host: '127.0.0.1', port: 9092 }, 1, env);
    if (!node) throw new Error('no node');
    const kept = ['__consumer_offsets-0', 'machi.readings-3', 'meta.properties'];
    const deleted = ['test-a1b2-0.5f0e2c0d9e8b4f4c8a3e1d2c3b4a5f6e-delete', 'x-1.0123456789abcdef-delete'];
    for (const name of [...kept.slice(0, 2), ...deleted]) {
      mkdirSync(join(node.data, name), { recursive: true });
      writeFileSync(join(node.data, name, '00000000000000000000.log'), '');
    }
    writeFileSync(join(node.data, 'meta.properties'), '');
    expect(removeDeletedPartitions(node)).toBe(2);
    expect(readdirSync(node.data).sort()).toEqual(kept);
  });
});

// The nodes of machi's local Kafka: where each listens, where it keeps its state, and the
// server.properties that tells it so. Every node is broker and controller; N nodes are N voters.
// Clients use port … port+N-1, controllers port+N … port+2N-1. One node keeps the layout the stack
// always had (controller on port + 1, state in kafka/), so a single-node stack is still found.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replicationFor } from '../bus/replication.ts';
import { stateDir } from './tools.ts';

export interface KafkaEndpoint {
  host: string;
  port: number;
}

export interface KafkaNodePaths {
  /** kafka (one node) or kafka-<id>: the name `stack status` and `stack down` show. */
  name: string;
  dir: string;
  data: string;
  config: string;
  log4j: string;
  log: string;
  pid: string;
}

export interface KafkaNode extends KafkaEndpoint, KafkaNodePaths {
  id: number;
  controllerPort: number;
}

function nodePaths(id: number, nodes: number, env = process.env): KafkaNodePaths {
  const name = nodes === 1 ? 'kafka' : `kafka-${id}`;
  const dir = join(stateDir(env), name);
  return {
    name,
    dir,
    data: join(dir, 'data'),
    config: join(dir, 'server.properties'),
    log4j: join(dir, 'log4j2.properties'),
    log: join(dir, 'kafka.log'),
    pid: join(dir, 'kafka.pid'),
  };
}

export function kafkaLayout(first: KafkaEndpoint, nodes: number, env = process.env): KafkaNode[] {
  return Array.from({ length: nodes }, (_, i) => ({
    ...nodePaths(i + 1, nodes, env),
    id: i + 1,
    host: first.host,
    port: first.port + i,
    controllerPort: first.port + nodes + i,
  }));
}

/** The node count of the Kafka whose state is in the state directory; undefined before its first start. */
export function kafkaNodesOnDisk(env = process.env): number | undefined {
  const dir = stateDir(env);
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir).filter((n) => existsSync(join(dir, n, 'server.properties')));
  const cluster = names.filter((n) => /^kafka-\d+$/.test(n)).length;
  if (cluster > 0) return cluster;
  return names.includes('kafka') ? 1 : undefined;
}

/** The state of every node on disk, for stopping them without knowing their ports. */
export function kafkaNodePathsOnDisk(env = process.env): KafkaNodePaths[] {
  const nodes = kafkaNodesOnDisk(env) ?? 1;
  return Array.from({ length: nodes }, (_, i) => nodePaths(i + 1, nodes, env));
}

/**
 * Removes the folders of deleted partitions (`<topic>-<n>.<id>-delete`) a node left when it stopped
 * before purging them; a restarted node does not purge them promptly, and each holds open files.
 * Only while the node is down. Returns how many went.
 */
export function removeDeletedPartitions(node: KafkaNodePaths): number {
  if (!existsSync(node.data)) return 0;
  const deleted = readdirSync(node.data).filter((name) => name.endsWith('-delete'));
  for (const name of deleted) rmSync(join(node.data, name), { recursive: true, force: true });
  return deleted.length;
}

export function writeNodeConfig(node: KafkaNode, layout: KafkaNode[]): void {
  // Kafka's own topics (consumer offsets, transactions) get the copies machi's topics get.
  const { factor, minInsync } = replicationFor(layout.length);
  mkdirSync(node.dir, { recursive: true });
  writeFileSync(
    node.config,
    [
      'process.roles=broker,controller',
      `node.id=${node.id}`,
      `controller.quorum.voters=${layout.map((n) => `${n.id}@${n.host}:${n.controllerPort}`).join(',')}`,
      `listeners=PLAINTEXT://${node.host}:${node.port},CONTROLLER://${node.host}:${node.controllerPort}`,
      `advertised.listeners=PLAINTEXT://${node.host}:${node.port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${node.data}`,
      'num.partitions=6',
      `offsets.topic.replication.factor=${factor}`,
      'offsets.topic.num.partitions=6',
      // Six, as the offsets topic: Kafka's 50 are created on the first transactional producer and
      // loaded at each start, seconds on a 2-core machine for a handful of machi's producers.
      'transaction.state.log.num.partitions=6',
      `transaction.state.log.replication.factor=${factor}`,
      `transaction.state.log.min.isr=${minInsync}`,
      `share.coordinator.state.topic.replication.factor=${factor}`,
      `share.coordinator.state.topic.min.isr=${minInsync}`,
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      // A deleted topic's folders go at once, not after Kafka's minute: test runs delete thousands
      // of partitions just before the stack stops, and folders left behind count against the
      // open-files limit at the next start.
      'file.delete.delay.ms=1000',
      // A dead node's partitions move once the controller fences it: 6 s instead of Kafka's 9, so
      // the failover fits well inside the 15 s a device's record is held (MACHI_HANDOFF_HOLD_MS).
      ...(layout.length > 1 ? ['broker.session.timeout.ms=6000'] : []),
      '',
    ].join('\n'),
  );
  writeFileSync(
    node.log4j,
    [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = out',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = info',
      'rootLogger.appenderRef.out.ref = out',
      'logger.kafka.name = kafka',
      'logger.kafka.level = info',
      'logger.state.name = state.change.logger',
      'logger.state.level = warn',
      '',
    ].join('\n'),
  );
}

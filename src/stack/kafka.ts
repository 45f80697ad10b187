// Apache Kafka in KRaft mode, one node or a cluster of them on this machine, from the official jars
// on Maven Central, run with the local Java.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { StackError } from './errors.ts';
import {
  type KafkaEndpoint,
  type KafkaNode,
  kafkaLayout,
  kafkaNodePathsOnDisk,
  kafkaNodesOnDisk,
  removeDeletedPartitions,
  writeNodeConfig,
} from './kafka-nodes.ts';
import {
  assertPortFree,
  isOurs,
  type PidRecord,
  readPid,
  type StartResult,
  spawnDetached,
  stopProcess,
  throwIfInterrupted,
  waitUntil,
} from './processes.ts';
import {
  cacheDir,
  KAFKA_VERSION,
  LOG4J_VERSION,
  requireTool,
  runStep,
  SCALA_VERSION,
  stateDir,
} from './tools.ts';

/** The jars, shared by every clone and every node on the machine. */
export function kafkaPaths(env = process.env) {
  const home = join(cacheDir(env), `kafka-${KAFKA_VERSION}`);
  return { home, libs: join(home, 'libs') };
}

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>machi.stack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

/** Fetches Kafka's jars and their dependencies with Maven once per machine. */
export async function ensureKafkaJars(env = process.env, signal?: AbortSignal): Promise<void> {
  const paths = kafkaPaths(env);
  const marker = join(paths.home, '.complete');
  if (existsSync(marker)) return;
  requireTool('java');
  requireTool('mvn');
  console.log(
    `• fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${paths.libs} (once per machine)`,
  );
  rmSync(paths.libs, { recursive: true, force: true });
  mkdirSync(paths.home, { recursive: true });
  writeFileSync(join(paths.home, 'pom.xml'), POM);
  await runStep({
    label: 'maven',
    command: 'mvn',
    args: [
      '-B',
      '-f',
      join(paths.home, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${paths.libs}`,
      '-DincludeScope=runtime',
    ],
    failure: {
      code: 'MACHI_ERR_FETCH_FAILED',
      hint: 'Maven could not fetch the Kafka jars: check that Maven Central is reachable (proxy settings in ~/.m2/settings.xml).',
    },
    showLine: (line) => /Downloaded from|BUILD|ERROR/.test(line),
    signal,
  });
  writeFileSync(marker, new Date().toISOString());
}

function java(args: string[], env = process.env) {
  return spawnSync('java', ['-cp', `${kafkaPaths(env).libs}/*`, ...args], { encoding: 'utf8' });
}

/** The cluster id the nodes already formatted share, so a node formatted later joins their cluster. */
function clusterIdOf(layout: KafkaNode[]): string | undefined {
  for (const node of layout) {
    const meta = join(node.data, 'meta.properties');
    const id = existsSync(meta) ? /^cluster\.id=(.+)$/m.exec(readFileSync(meta, 'utf8'))?.[1] : undefined;
    if (id) return id.trim();
  }
  return undefined;
}

/**
 * A new cluster id as Kafka's `StorageTool random-uuid` makes it (a random UUID, base64url without
 * padding, never starting with '-'), without starting a JVM for it.
 */
export function newClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Formats KRaft storage unless this node's directory already holds a formatted log. */
function formatStorage(node: KafkaNode, clusterId: string, env = process.env): void {
  if (existsSync(join(node.data, 'meta.properties'))) return;
  const format = java(['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', node.config], env);
  if (format.status !== 0) {
    throw new StackError('MACHI_ERR_START_FAILED', `formatting Kafka storage failed:\n${format.stderr}`);
  }
}

export async function kafkaMetadataOk(endpoint: KafkaEndpoint): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'machi-stack-probe',
    brokers: [`${endpoint.host}:${endpoint.port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    authenticationTimeout: 1000,
    requestTimeout: 2000,
    enforceRequestTimeout: true,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Starts the nodes of a `nodes`-node Kafka whose first client port is `endpoint` that are not
 * running, on their own data. By default as many nodes as the state directory holds (one at first).
 * Aborting `signal` stops the nodes this call spawned and rejects with MACHI_ERR_START_INTERRUPTED.
 */
export async function startKafka(
  endpoint: KafkaEndpoint,
  env = process.env,
  nodes = kafkaNodesOnDisk(env) ?? 1,
  signal?: AbortSignal,
): Promise<StartResult> {
  assertLayoutOnDisk(nodes, env);
  const layout = kafkaLayout(endpoint, nodes, env);
  const down = layout.filter((node) => !isOurs(readPid(node.pid)));
  if (down.length === 0) return 'already-running';
  // A broker someone else runs (docker, a CI service) is used as it is.
  if (down.length === layout.length && (await kafkaMetadataOk(endpoint))) return 'external';
  await ensureKafkaJars(env, signal);
  const { home, libs } = kafkaPaths(env);
  if (readdirSync(libs).length === 0) {
    throw new StackError('MACHI_ERR_FETCH_FAILED', `no jars in ${libs}; delete ${home} and retry.`);
  }
  for (const node of down) {
    const which = nodes === 1 ? '' : ` node ${node.id}`;
    await assertPortFree(node.host, node.port, `Kafka${which}`);
    await assertPortFree(node.host, node.controllerPort, `the Kafka controller${which}`);
  }
  const clusterId = clusterIdOf(layout) ?? newClusterId();
  for (const node of down) {
    writeNodeConfig(node, layout);
    formatStorage(node, clusterId, env);
    removeDeletedPartitions(node);
  }
  throwIfInterrupted(signal, 'preparing Kafka');
  // All at once: a node of a cluster is ready only once a majority of the voters runs.
  const spawned = down.map((node) => ({ node, record: spawnNode(node, nodes, env) }));
  try {
    await Promise.all(
      spawned.map(({ node, record }) =>
        waitUntil(`Kafka on ${node.host}:${node.port}`, () => kafkaMetadataOk(node), {
          timeoutMs: 90_000,
          pid: record.pid,
          logFile: node.log,
          signal,
        }),
      ),
    );
  } catch (err) {
    // Leave no node of this call running half-started.
    await Promise.all(spawned.map(({ node }) => stopProcess(node.pid, 5000)));
    throw err;
  }
  return 'started';
}

function spawnNode(node: KafkaNode, nodes: number, env = process.env): PidRecord {
  // Three JVMs share the machine with everything else: each gets a smaller heap than a lone node.
  const heap = nodes === 1 ? ['-Xms256m', '-Xmx1g'] : ['-Xms128m', '-Xmx384m'];
  return spawnDetached({
    command: 'java',
    args: [
      ...heap,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${node.log4j}`,
      '-cp',
      `${kafkaPaths(env).libs}/*`,
      'kafka.Kafka',
      node.config,
    ],
    logFile: node.log,
    pidFile: node.pid,
    marker: 'kafka.Kafka',
    env,
  });
}

/** Data formatted for another number of voters cannot join this quorum: say so instead of failing later. */
function assertLayoutOnDisk(nodes: number, env = process.env): void {
  const onDisk = kafkaNodesOnDisk(env);
  if (onDisk === undefined || onDisk === nodes) return;
  const dirs = kafkaNodePathsOnDisk(env).map((p) => p.dir);
  throw new StackError(
    'MACHI_ERR_START_FAILED',
    `${stateDir(env)} holds a ${onDisk}-node Kafka, not ${nodes}: start it with --kafka-nodes ${onDisk}, ` +
      `or run \`machi stack down\` and delete ${dirs.join(' ')} (its topics and records go with it).`,
  );
}

/**
 * Stops every node on disk, all at once (about 10 s for three): stopped one after another, the
 * last node waits for a quorum that is gone until it is killed.
 */
export async function stopKafka(env = process.env): Promise<Record<string, 'stopped' | 'not-running'>> {
  const nodes = kafkaNodePathsOnDisk(env);
  const outcomes = await Promise.all(nodes.map((node) => stopProcess(node.pid, 30_000)));
  return Object.fromEntries(nodes.map((node, i) => [node.name, outcomes[i] ?? 'not-running']));
}

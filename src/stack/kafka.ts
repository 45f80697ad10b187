// Apache Kafka, one KRaft node, from the official jars on Maven Central, run with the local Java.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { StackError } from './errors.ts';
import {
  assertPortFree,
  isOurs,
  logTail,
  readPid,
  type StartResult,
  spawnDetached,
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

export interface KafkaEndpoint {
  host: string;
  port: number;
}

export function kafkaPaths(env = process.env) {
  const home = join(cacheDir(env), `kafka-${KAFKA_VERSION}`);
  const state = join(stateDir(env), 'kafka');
  return {
    home,
    libs: join(home, 'libs'),
    state,
    data: join(state, 'data'),
    config: join(state, 'server.properties'),
    log4j: join(state, 'log4j2.properties'),
    log: join(state, 'kafka.log'),
    pid: join(state, 'kafka.pid'),
  };
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
export async function ensureKafkaJars(env = process.env): Promise<void> {
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
  });
  writeFileSync(marker, new Date().toISOString());
}

function writeBrokerConfig(endpoint: KafkaEndpoint, env = process.env): void {
  const paths = kafkaPaths(env);
  const controllerPort = endpoint.port + 1;
  mkdirSync(paths.state, { recursive: true });
  writeFileSync(
    paths.config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${endpoint.host}:${controllerPort}`,
      `listeners=PLAINTEXT://${endpoint.host}:${endpoint.port},CONTROLLER://${endpoint.host}:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://${endpoint.host}:${endpoint.port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${paths.data}`,
      'num.partitions=6',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=6',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
  );
  writeFileSync(
    paths.log4j,
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

function java(args: string[], env = process.env) {
  const paths = kafkaPaths(env);
  return spawnSync('java', ['-cp', `${paths.libs}/*`, ...args], { encoding: 'utf8' });
}

/** Formats KRaft storage unless this state directory already holds a formatted log. */
function formatStorage(env = process.env): void {
  const paths = kafkaPaths(env);
  if (existsSync(join(paths.data, 'meta.properties'))) return;
  const uuid = java(['kafka.tools.StorageTool', 'random-uuid'], env)
    .stdout.split('\n')
    .map((l) => l.trim())
    .find((l) => /^[A-Za-z0-9_-]{22}$/.test(l));
  if (!uuid) throw new StackError('MACHI_ERR_START_FAILED', 'Kafka StorageTool did not print a cluster id.');
  const format = java(['kafka.tools.StorageTool', 'format', '-t', uuid, '-c', paths.config], env);
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

export async function startKafka(endpoint: KafkaEndpoint, env = process.env): Promise<StartResult> {
  const paths = kafkaPaths(env);
  if (isOurs(readPid(paths.pid))) return 'already-running';
  // A broker someone else runs (docker, a CI service) is used as it is.
  if (await kafkaMetadataOk(endpoint)) return 'external';
  await ensureKafkaJars(env);
  if (readdirSync(paths.libs).length === 0) {
    throw new StackError(
      'MACHI_ERR_FETCH_FAILED',
      `no jars in ${paths.libs}; delete ${paths.home} and retry.`,
    );
  }
  await assertPortFree(endpoint.host, endpoint.port, 'Kafka');
  await assertPortFree(endpoint.host, endpoint.port + 1, 'the Kafka controller');
  writeBrokerConfig(endpoint, env);
  formatStorage(env);
  const record = spawnDetached({
    command: 'java',
    args: [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${paths.log4j}`,
      '-cp',
      `${paths.libs}/*`,
      'kafka.Kafka',
      paths.config,
    ],
    logFile: paths.log,
    pidFile: paths.pid,
    marker: 'kafka.Kafka',
    env,
  });
  await waitUntil(`Kafka on ${endpoint.host}:${endpoint.port}`, () => kafkaMetadataOk(endpoint), {
    timeoutMs: 90_000,
    pid: record.pid,
    logFile: paths.log,
  });
  return 'started';
}

export function kafkaLogTail(env = process.env): string {
  return logTail(kafkaPaths(env).log);
}

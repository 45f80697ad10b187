// A private Kafka (the stack's own jars) that speaks to clients only SASL_SSL with SCRAM-SHA-512,
// on 127.0.0.1: a broker certificate for 127.0.0.1/localhost from a CA of its own, and SCRAM users
// written into the metadata by `kafka-storage format --add-scram`, so they exist from the first
// start. The controller listener is TLS with client certificates (KRaft cannot use SCRAM there,
// its credentials live in the metadata the controller serves).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars, kafkaPaths } from '../../src/stack/kafka.ts';
import { assertPortFree, spawnDetached, stopProcess, waitUntil } from '../../src/stack/processes.ts';
import { issue, type KeyPair, selfSigned } from './test-certs.ts';

export const SCRAM = 'SCRAM-SHA-512';

export interface SecureKafka {
  /** host:port of the SASL_SSL listener. */
  address: string;
  /** The CA that signed the broker's certificate, and one that did not. */
  ca: string;
  otherCa: string;
  /** machi's SCRAM login. */
  user: { name: string; password: string };
  /** The environment that points machi at this Kafka. */
  env: Record<string, string>;
  logTail(): string;
  dispose(): Promise<void>;
}

/** Kafka with SASL_SSL on `port` and its controller (TLS) on `port + 1`. */
export async function startSecureKafka(port: number): Promise<SecureKafka> {
  const host = '127.0.0.1';
  await assertPortFree(host, port, 'the SASL_SSL Kafka');
  await assertPortFree(host, port + 1, 'the SASL_SSL Kafka controller');
  await ensureKafkaJars();
  const dir = mkdtempSync(join(tmpdir(), 'machi-kafka-sasl-ssl-'));
  const ca = selfSigned(dir, 'ca', 'machi Kafka test CA');
  const otherCa = selfSigned(dir, 'other-ca', 'machi Kafka test CA');
  const broker = keystore(dir, issue(dir, ca, 'broker', host, `IP:${host},DNS:localhost`));
  const admin = { name: 'admin', password: randomBytes(12).toString('hex') };
  const user = { name: 'machi', password: randomBytes(12).toString('hex') };

  const config = join(dir, 'server.properties');
  const [log, pid] = [join(dir, 'kafka.log'), join(dir, 'kafka.pid')];
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${host}:${port + 1}`,
      `listeners=SASL_SSL://${host}:${port},CONTROLLER://${host}:${port + 1}`,
      `advertised.listeners=SASL_SSL://${host}:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL',
      'inter.broker.listener.name=SASL_SSL',
      `sasl.enabled.mechanisms=${SCRAM}`,
      `sasl.mechanism.inter.broker.protocol=${SCRAM}`,
      `listener.name.sasl_ssl.${SCRAM.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin.name}" password="${admin.password}";`,
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${broker}`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${ca.pem}`,
      'listener.name.controller.ssl.client.auth=required',
      `log.dirs=${join(dir, 'data')}`,
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
  const scram = (u: { name: string; password: string }) =>
    ['--add-scram', `${SCRAM}=[name=${u.name},password=${u.password}]`] as const;
  const libs = `${kafkaPaths().libs}/*`;
  // A KRaft cluster id: 16 random bytes, base64url without padding.
  const clusterId = randomBytes(16).toString('base64url');
  const format = spawnSync(
    'java',
    [
      '-cp',
      libs,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      config,
      ...scram(admin),
      ...scram(user),
    ],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) throw new Error(`kafka-storage format failed:\n${format.stdout}${format.stderr}`);

  const record = spawnDetached({
    command: 'java',
    args: ['-Xms128m', '-Xmx512m', '-Djava.awt.headless=true', '-cp', libs, 'kafka.Kafka', config],
    logFile: log,
    pidFile: pid,
    marker: config,
  });
  const address = `${host}:${port}`;
  const env = {
    KAFKA_BROKERS: address,
    KAFKA_SSL_CA: ca.pem,
    KAFKA_SASL_MECHANISM: SCRAM.toLowerCase(),
    KAFKA_SASL_USERNAME: user.name,
    KAFKA_SASL_PASSWORD: user.password,
  };
  const dispose = async () => {
    await stopProcess(pid, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(`SASL_SSL Kafka on ${address}`, () => answers(address, ca.pem, user), {
      timeoutMs: 90_000,
      pid: record.pid,
      logFile: log,
    });
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    address,
    ca: ca.pem,
    otherCa: otherCa.pem,
    user,
    env,
    logTail: () => readFileSync(log, 'utf8').split('\n').slice(-30).join('\n'),
    dispose,
  };
}

/** Kafka's PEM keystore reads the private key and the certificate chain from one file. */
function keystore(dir: string, pair: KeyPair): string {
  const file = join(dir, 'broker-keystore.pem');
  writeFileSync(file, readFileSync(pair.key, 'utf8') + readFileSync(pair.pem, 'utf8'));
  return file;
}

/**
 * Ready once a SCRAM login over verified TLS sees a broker and a controller, and a group
 * coordinator answers: the first group lookup makes Kafka create its offsets topic, which a test's
 * first consumer would otherwise wait out.
 */
async function answers(address: string, ca: string, user: { name: string; password: string }) {
  const admin = new Kafka({
    clientId: 'machi-sasl-ssl-probe',
    brokers: [address],
    ssl: { ca: [readFileSync(ca, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: user.name, password: user.password },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0 || cluster.controller === null) return false;
    await admin.describeGroups(['machi-probe']);
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// machi against a Kafka that speaks only SASL_SSL with SCRAM-SHA-512 (issue 21): its own client
// and the path `machi broker` → Kafka → `machi worker` → InfluxDB, witnessed by Kafka's Java
// client, kcat and openssl s_client. A wrong password, a CA that did not sign Kafka's certificate
// and clients without TLS or a login are refused, and machi stops at once naming what to fix.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/bus/admin.ts';
import { createKafka } from '../../src/bus/kafka.ts';
import { kafkaAccessError } from '../../src/bus/kafka-access.ts';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { kafkaPaths } from '../../src/stack/kafka.ts';
import { collectTopic, eventually, freePort, uniqueName } from '../support/helpers.ts';
import { type SecureKafka, startSecureKafka } from './kafka-sasl-ssl.ts';
import { countFlood, recentBase, uniqueSeqBase } from './worker-harness.ts';

const run = promisify(execFile);
const PORT = 19792;
const log = createLogger('silent');
let kafka: SecureKafka;
const children: ChildProcess[] = [];

beforeAll(async () => {
  kafka = await startSecureKafka(PORT);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await kafka?.dispose();
});

const envFor = (extra: Record<string, string> = {}) => ({
  ...kafka.env,
  KAFKA_TOPIC_PREFIX: uniqueName('sasl'),
  MACHI_LOG_LEVEL: 'warn',
  ...extra,
});

/** `machi <command>` in its own process, its output collected. */
function machi(command: string, env: Record<string, string>) {
  const child = spawn('node', ['bin/machi.js', command], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  /** Its exit code, or 'running' if it has not exited within `ms`. */
  const exitWithin = (ms: number) => Promise.race([exited, new Promise((r) => setTimeout(r, ms, 'running'))]);
  return { child, exitWithin, output: () => output };
}

/** Exit code and output of a foreign tool, failing or not. */
async function tool(command: string, args: string[], stdinEnd = false) {
  const started = run(command, args, { timeout: 45_000 });
  if (stdinEnd) started.child.stdin?.end();
  try {
    const { stdout, stderr } = await started;
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

const kcat = (...args: string[]) =>
  tool('kcat', ['-b', kafka.address, '-L', '-m', '5', '-X', 'socket.timeout.ms=3000', ...args]);

describe('machi over SASL_SSL', () => {
  it('creates its topics, produces and consumes with its own client (createKafka, loadConfig)', {
    timeout: 90_000,
  }, async () => {
    const config = loadConfig({ ...process.env, ...envFor() });
    expect(config.kafka.ssl).toEqual({ caPath: kafka.ca });
    expect(config.kafka.sasl?.mechanism).toBe('scram-sha-512');
    const client = createKafka(config, log, 'sasl-test');
    await ensureTopics(client, config);
    const topic = kafkaTopics(config.kafka.topicPrefix).alertAcks;
    const read = await collectTopic(client, topic);
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'over SASL_SSL' }] });
    await producer.disconnect();
    await eventually(async () => read.records.find((r) => r.value === 'over SASL_SSL'), 60_000);
    await read.stop();
  });

  it('hands an MQTT reading through `machi broker` and `machi worker`; Kafka’s Java client reads it', {
    timeout: 120_000,
  }, async () => {
    const [mqttPort, brokerHttp, workerHttp] = [await freePort(), await freePort(), await freePort()];
    const env = envFor({ MQTT_PORT: String(mqttPort), MACHI_WORKER_GROUP: uniqueName('sasl-writer') });
    const broker = machi('broker', { ...env, HTTP_PORT: String(brokerHttp) });
    await eventually(async () => {
      if (broker.child.exitCode !== null) throw new Error(`machi broker exited:\n${broker.output()}`);
      return (await fetch(`http://127.0.0.1:${brokerHttp}/readyz`)).ok || undefined;
    }, 60_000).catch((err) => {
      throw new Error(`${err}\n${broker.output()}`);
    });
    const worker = machi('worker', { ...env, HTTP_PORT: String(workerHttp) });

    const [base, seq] = [recentBase(), uniqueSeqBase()];
    const reading = JSON.stringify({ time: new Date(base).toISOString(), seq, wet: true, depthCm: 12 });
    const sent = await tool('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(mqttPort), '-u', 'fs-takeo-001', '-P', demoSecret('fs-takeo-001')],
      ...['-i', 'fs-takeo-001-sasl', '-q', '1', '-t', topics.floodReading('fs-takeo-001'), '-m', reading],
    ]);
    expect(sent).toEqual({ code: 0, output: '' });

    const witness = await tool('java', [
      ...['-cp', `${kafkaPaths().libs}/*`, join(import.meta.dirname, 'witness', 'ReadTopic.java')],
      ...[kafka.address, kafkaTopics(env.KAFKA_TOPIC_PREFIX).readings.flood, kafka.ca],
      ...[kafka.user.name, kafka.user.password, `"seq":${seq}`],
    ]);
    expect(witness.code, witness.output).toBe(0);
    expect(witness.output).toContain('"deviceId":"fs-takeo-001"');

    await eventually(
      async () => ((await countFlood(['fs-takeo-001'], base, 1, undefined, seq)) === 1 ? true : undefined),
      30_000,
    ).catch((err) => {
      throw new Error(`${err}\n${worker.output()}`);
    });
  });
});

describe('refused', () => {
  it('a wrong password: `machi broker` stops at once, naming the user and the settings', async () => {
    const broker = machi('broker', envFor({ KAFKA_SASL_PASSWORD: 'not-the-password', HTTP_PORT: '0' }));
    expect(await broker.exitWithin(20_000), broker.output()).toBe(1);
    expect(broker.output()).toMatch(
      /^machi: Kafka \(127\.0\.0\.1:19792\) refused the scram-sha-512 login of user "machi": check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD.*\[MACHI_ERR_KAFKA_AUTH\]$/m,
    );
    expect(broker.output()).not.toContain('not-the-password');
  });

  it('a CA that did not sign Kafka’s certificate: machi stops naming KAFKA_SSL_CA; s_client and kcat agree', async () => {
    const worker = machi('worker', envFor({ KAFKA_SSL_CA: kafka.otherCa, HTTP_PORT: '0', MQTT_PORT: '1' }));
    expect(await worker.exitWithin(30_000), worker.output()).toBe(1);
    expect(worker.output()).toMatch(
      /^machi: Kafka's certificate \(127\.0\.0\.1:19792\) did not verify: KAFKA_SSL_CA must be the CA that signed it.*\[MACHI_ERR_KAFKA_TLS\]$/m,
    );

    const handshake = (ca: string) =>
      tool(
        'openssl',
        [
          's_client',
          '-connect',
          kafka.address,
          '-CAfile',
          ca,
          '-verify_return_error',
          '-verify_ip',
          '127.0.0.1',
        ],
        true,
      );
    expect((await handshake(kafka.ca)).output).toContain('Verify return code: 0 (ok)');
    const other = await handshake(kafka.otherCa);
    expect(other.code).not.toBe(0);
    expect(other.output).toMatch(/verify error|unable to get local issuer certificate/);

    const sasl = ['-X', 'security.protocol=SASL_SSL', '-X', 'sasl.mechanisms=SCRAM-SHA-512'];
    const login = ['-X', `sasl.username=${kafka.user.name}`, '-X', `sasl.password=${kafka.user.password}`];
    const untrusted = await kcat(...sasl, ...login, '-X', `ssl.ca.location=${kafka.otherCa}`);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.output).toMatch(/certificate verify failed/);
  });

  it('clients without TLS or without a login: Kafka closes on them, and machi says which settings', async () => {
    const withoutTls = loadConfig({ ...process.env, ...envFor({ KAFKA_SSL_CA: '' }) });
    const withoutLogin = loadConfig({ ...process.env, ...envFor({ KAFKA_SASL_MECHANISM: '' }) });
    expect(withoutTls.kafka).toMatchObject({ ssl: undefined, sasl: { mechanism: 'scram-sha-512' } });
    expect(withoutLogin.kafka).toMatchObject({ ssl: { caPath: kafka.ca }, sasl: undefined });
    for (const config of [withoutTls, withoutLogin]) {
      const admin = createKafka(config, log, 'refused').admin();
      const err = await admin
        .connect()
        .then(() => admin.listTopics())
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await admin.disconnect();
      expect(kafkaAccessError(err, config.kafka)?.code, String(err)).toBe('MACHI_ERR_KAFKA_CLOSED');
    }

    const plaintext = await kcat('-X', 'security.protocol=plaintext');
    expect(plaintext.code).not.toBe(0);
    expect(plaintext.output).toMatch(/Broker transport failure|Disconnected|Receive failed/);
  });
});

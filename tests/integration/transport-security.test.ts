// Transport security (issue 21), witnessed by foreign tools: mosquitto_pub over TLS with a client
// certificate, openssl s_client on MQTTS and HTTPS, curl -I for the security headers. The broker
// runs TLS-only (MQTT_PLAINTEXT=false) with device client certificates (MQTT_TLS_CA) and HTTPS.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSecret } from '../../src/registry/secrets.ts';
import { brokerUrl, connectService } from '../../src/runtime/component.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { collectTopic, eventually, freePort, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';
import { issue, selfSigned } from './test-certs.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'machi-transport-'));
const file = (name: string) => join(dir, name);
const ca = selfSigned(dir, 'ca', 'machi test CA');
issue(dir, ca, 'server', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost');
issue(dir, ca, 'dev1', 'fs-takeo-001');
issue(dir, ca, 'dev2', 'fs-takeo-002');
selfSigned(dir, 'rogue', 'fs-takeo-001');

let h: BrokerHarness;
let plainPort: number;
const tlsPort = () => String(h.broker.ports.tls);
const httpPort = () => String((h.running.runtime.http.server.address() as { port: number }).port);

beforeAll(async () => {
  plainPort = await freePort();
  h = await startBroker(
    {
      MQTT_PORT: String(plainPort),
      MQTT_PLAINTEXT: 'false',
      MQTT_TLS_PORT: '0',
      MQTT_TLS_CERT: file('server.pem'),
      MQTT_TLS_KEY: file('server.key'),
      MQTT_TLS_CA: file('ca.pem'),
      MQTT_CA: file('ca.pem'),
      HTTP_TLS_CERT: file('server.pem'),
      HTTP_TLS_KEY: file('server.key'),
    },
    [webComponent],
  );
});
afterAll(async () => h?.stop());

/** mosquitto_pub of one reading of fs-takeo-001 over TLS; resolves to its exit code and output. */
async function publish(seq: number, args: string[]): Promise<{ code: number; output: string }> {
  const message = JSON.stringify({ time: new Date().toISOString(), seq, wet: false });
  try {
    const out = await run('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-u', 'fs-takeo-001', '-P', demoSecret('fs-takeo-001')],
      ...['-i', `fs-takeo-001-${seq}`, '-q', '1', '-t', topics.floodReading('fs-takeo-001'), '-m', message],
      ...args,
    ]);
    return { code: 0, output: out.stdout + out.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('MQTT over TLS with device client certificates', () => {
  const tls = () => ['-p', tlsPort(), '--cafile', file('ca.pem')];

  it('accepts mosquitto_pub with the device’s own certificate and hands its reading to Kafka', async () => {
    const readings = await collectTopic(testKafka(), h.topics.readings.flood);
    const sent = await publish(7001, [...tls(), '--cert', file('dev1.pem'), '--key', file('dev1.key')]);
    expect(sent).toEqual({ code: 0, output: '' });
    await eventually(
      async () =>
        readings.records.some((r) => ReadingRecord.parse(JSON.parse(r.value)).reading.seq === 7001) ||
        undefined,
    );
    await readings.stop();
  });

  it('refuses a certificate naming another device, and one the CA did not sign', async () => {
    const other = await publish(7002, [...tls(), '--cert', file('dev2.pem'), '--key', file('dev2.key')]);
    expect(other.code).not.toBe(0);
    expect(other.output).toMatch(/not authori[sz]ed/i);
    const rogue = await publish(7003, [...tls(), '--cert', file('rogue.pem'), '--key', file('rogue.key')]);
    expect(rogue.code).not.toBe(0);
    expect(rogue.output).toMatch(/not authori[sz]ed/i);
  });

  it('has no plaintext listener with MQTT_PLAINTEXT=false', async () => {
    expect(h.broker.ports.mqtt).toBeUndefined();
    const plain = await publish(7004, ['-p', String(plainPort)]);
    expect(plain.code).not.toBe(0);
    expect(plain.output).toMatch(/connection refused/i);
  });

  it('connects machi’s services over TLS, verifying the broker against MQTT_CA', async () => {
    const runtime = h.running.runtime;
    expect(brokerUrl(runtime)).toBe(`mqtts://127.0.0.1:${tlsPort()}`);
    const client = connectService(runtime, 'transport-test');
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.publishAsync('takeo/v1/alerts/transport-test/active', '', { qos: 1 });
    await client.endAsync();
  });
});

describe('openssl s_client', () => {
  const handshake = async (port: string) => {
    const client = run('openssl', [
      ...['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', file('ca.pem')],
      ...['-verify_return_error', '-verify_ip', '127.0.0.1'],
    ]);
    client.child.stdin?.end(); // EOF on stdin: s_client closes once the handshake is done
    return (await client).stdout;
  };

  it('completes a verified handshake on MQTTS, which asks for a client certificate from the CA', async () => {
    const out = await handshake(tlsPort());
    expect(out).toContain('Verify return code: 0 (ok)');
    expect(out).toMatch(/Acceptable client certificate CA names\n.*CN\s?=\s?machi test CA/);
  });

  it('completes a verified handshake on HTTPS', async () => {
    expect(await handshake(httpPort())).toContain('Verify return code: 0 (ok)');
  });
});

describe('curl -I', () => {
  const headersOf = async (url: string, ...args: string[]) =>
    (await run('curl', ['-sSI', ...args, url])).stdout.toLowerCase();
  const expectPageHeaders = (headers: string) => {
    expect(headers).toMatch(/^content-security-policy: .*default-src 'self'/m);
    expect(headers).toMatch(/^content-security-policy: .*frame-ancestors 'none'/m);
    expect(headers).toMatch(/^content-security-policy: .*script-src 'self'[;\r]/m);
    expect(headers).toMatch(/^x-content-type-options: nosniff/m);
    expect(headers).toMatch(/^referrer-policy: same-origin/m);
  };

  it('shows the security headers and HSTS on every HTTPS page', async () => {
    for (const path of ['/signage/takeo-onsen-station', '/office', '/office/config.json', '/no-such-page']) {
      const headers = await headersOf(`https://127.0.0.1:${httpPort()}${path}`, '--cacert', file('ca.pem'));
      expectPageHeaders(headers);
      expect(headers).toMatch(/^strict-transport-security: max-age=31536000/m);
    }
  });

  it('shows them over plain HTTP too, without HSTS', async () => {
    const plain = await startBroker({}, [webComponent]);
    try {
      const headers = await headersOf(`${plain.httpUrl}/office`);
      expectPageHeaders(headers);
      expect(headers).not.toMatch(/strict-transport-security/);
    } finally {
      await plain.stop();
    }
  });
});

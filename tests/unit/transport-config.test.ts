// Transport-security settings: halves that only work together are refused, naming the missing half;
// the CSP allows the office tile server and nothing else from outside.
import { expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../../src/config/config.ts';
import { securityHeaders } from '../../src/http/security-headers.ts';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ MACHI_MODE: 'demo', ...env });
  } catch (err) {
    return (err as ConfigError).problems;
  }
  return [];
};

it('refuses transport settings missing their other half', () => {
  expect(problems({ MQTT_PLAINTEXT: 'false' })).toEqual([
    expect.stringMatching(/^MQTT_PLAINTEXT: false needs/),
  ]);
  expect(problems({ MQTT_TLS_CA: '/ca.pem' })).toEqual([expect.stringMatching(/^MQTT_TLS_CA: needs/)]);
  expect(problems({ HTTP_TLS_KEY: '/key.pem' })).toEqual([expect.stringMatching(/^HTTP_TLS_CERT: /)]);
  expect(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'machi' })).toEqual([
    expect.stringMatching(/^KAFKA_SASL_MECHANISM: needs/),
  ]);
  expect(problems({ MQTT_URL: 'http://broker:1883' })).toEqual([
    expect.stringMatching(/^MQTT_URL(\[\d+\])?: expected/),
  ]);
});

it('refuses SASL PLAIN without TLS, which would send the Kafka password as it is', () => {
  const plain = { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'machi', KAFKA_SASL_PASSWORD: 'p' };
  expect(problems(plain)).toEqual([expect.stringMatching(/^KAFKA_SASL_MECHANISM: plain needs KAFKA_SSL/)]);
  expect(problems({ ...plain, KAFKA_SSL: 'true' })).toEqual([]);
  expect(problems({ ...plain, KAFKA_SSL_CA: '/ca.pem' })).toEqual([]);
  expect(problems({ ...plain, KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toEqual([]);
});

it('builds kafkajs TLS/SASL and the services’ broker settings from the variables', () => {
  const config = loadConfig({
    MACHI_MODE: 'demo',
    KAFKA_SSL_CA: '/ca.pem',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: 'machi',
    KAFKA_SASL_PASSWORD: 'a-long-scram-password',
    MQTT_URL: 'mqtts://broker.example:8883',
  });
  expect(config.kafka.ssl).toEqual({ caPath: '/ca.pem' });
  expect(config.kafka.sasl).toEqual({
    mechanism: 'scram-sha-512',
    username: 'machi',
    password: 'a-long-scram-password',
  });
  expect(config.mqtt.service.urls).toEqual(['mqtts://broker.example:8883']);
  expect(loadConfig({ MACHI_MODE: 'demo' }).kafka).toMatchObject({ ssl: undefined, sasl: undefined });
});

it('lets the office map load tiles from its configured server only', () => {
  const csp = (tileUrl?: string) =>
    securityHeaders(
      loadConfig({ MACHI_MODE: 'demo', ...(tileUrl ? { MACHI_OFFICE_TILE_URL: tileUrl } : {}) }),
    )['content-security-policy'];
  expect(csp()).toContain("img-src 'self' data:;");
  expect(csp('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png')).toContain(
    "img-src 'self' data: https://*.tile.openstreetmap.org;",
  );
});

import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../src/config/config.ts';

describe('config', () => {
  it('has defaults that work for the local stack', () => {
    const config = loadConfig({});
    expect(config.mqtt.port).toBe(1883);
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.influx).toMatchObject({ url: 'http://127.0.0.1:8086', org: 'takeo', bucket: 'machi' });
    expect(config.mqtt.tls).toBeUndefined();
  });

  it('reads and coerces environment variables', () => {
    const config = loadConfig({
      MQTT_PORT: '11883',
      KAFKA_BROKERS: 'a:1, b:2',
      MACHI_ALLOW_ANONYMOUS_PUBLIC: 'true',
    });
    expect(config.mqtt.port).toBe(11883);
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.mqtt.allowAnonymousPublic).toBe(true);
  });

  it('names every bad variable and what was expected', () => {
    let error: unknown;
    try {
      loadConfig({ MQTT_PORT: '70000', KAFKA_BROKERS: 'nohostport', MACHI_LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('MQTT_PORT: expected a port number 0-65535 (0 = any free port) (got "70000")');
    expect(message).toContain('KAFKA_BROKERS[0]: expected host:port');
    expect(message).toContain('MACHI_LOG_LEVEL');
  });

  it('never prints secrets, even when they are invalid', () => {
    const rows = new Map(describeConfig({ INFLUX_TOKEN: 'super-secret-token' }));
    expect(rows.get('INFLUX_TOKEN')).toBe('********');
    expect([...rows.values()].join(' ')).not.toContain('super-secret');
    expect(() => loadConfig({ MACHI_OFFICE_PASSWORD: 'short' })).toThrow(
      /MACHI_OFFICE_PASSWORD: .*\(got \(secret\)\)/,
    );
  });
});

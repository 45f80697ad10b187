// docker-compose.yml cannot run here (no Docker engine): check it parses and matches the native stack.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';
import { KAFKA_VERSION } from '../../src/stack/tools.ts';

interface Service {
  image?: string;
  entrypoint?: string[];
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const text = readFileSync('docker-compose.yml', 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };

/** `${NAME:?message}`: compose stops, naming NAME, when it is unset or empty. */
const required = (value: unknown) => /^\$\{([A-Z_]+):\?[^}]+\}$/.exec(String(value))?.[1];

/** machi's environment as compose hands it over: `${NAME:?…}` from `dotEnv`, `${NAME:-default}`. */
function machiEnvWith(dotEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(compose.services.machi?.environment ?? {})) {
    const text = String(value);
    const need = required(text);
    const fallback = /^\$\{([A-Z_]+):-(.*)\}$/.exec(text);
    if (need) env[name] = dotEnv[need] ?? `${need.toLowerCase()}-0123456789abcdef`;
    else if (fallback) env[name] = dotEnv[fallback[1] as string] || (fallback[2] as string);
    else env[name] = text;
  }
  return env;
}
const secrets = { MACHI_WEBHOOKS: '[]' };

describe('docker-compose.yml', () => {
  it('runs Kafka, InfluxDB 2.7, Grafana (with its token maker), Prometheus and machi', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'grafana',
      'grafana-token',
      'influxdb',
      'kafka',
      'machi',
      'prometheus',
    ]);
  });

  it('gives Prometheus its config and rules, and Grafana the geomap gazetteer', () => {
    expect(compose.services.prometheus?.volumes).toContain(
      './grafana/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
    expect(compose.services.prometheus?.volumes).toContain(
      './grafana/alert-rules.yml:/etc/prometheus/alert-rules.yml:ro',
    );
    expect(compose.services.grafana?.volumes).toContain(
      './grafana/gazetteer:/usr/share/grafana/public/gazetteer/machi:ro',
    );
  });

  it('uses the same Kafka version as the native stack', () => {
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
    expect(compose.services.influxdb?.image).toBe('influxdb:2.7');
  });

  it('runs machi on a Node 24 image and exposes MQTT and HTTP', () => {
    expect(compose.services.machi?.image).toMatch(/^node:24/);
    expect(compose.services.machi?.ports).toEqual(expect.arrayContaining(['1883:1883', '8080:8080']));
    expect(compose.services.grafana?.ports).toContain('3000:3000');
  });

  it('publishes only MQTT, HTTP and Grafana on the host’s interfaces, machi’s internal listener on loopback', () => {
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(published.filter((p) => !p.startsWith('127.0.0.1:')).sort()).toEqual([
      '1883:1883',
      '3000:3000',
      '8080:8080',
    ]);
    expect(published.filter((p) => p.startsWith('127.0.0.1:'))).toEqual(['127.0.0.1:9180:9180']);
  });

  it('has Prometheus scrape the internal listener, where production mode serves /metrics', () => {
    const internal = loadConfig(machiEnvWith(secrets)).http.internal;
    // Reachable from Prometheus's container, published on the host's loopback only (the office).
    expect(internal).toEqual({ host: '0.0.0.0', port: 9180 });
    expect(compose.services.machi?.ports).toContain(`127.0.0.1:${internal?.port}:${internal?.port}`);
    const scrape = parse(readFileSync('grafana/prometheus.yml', 'utf8')) as {
      scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: string[] }> }>;
    };
    expect(scrape.scrape_configs[0]?.metrics_path).toBe('/metrics');
    expect(scrape.scrape_configs[0]?.static_configs[0]?.targets).toEqual([`machi:${internal?.port}`]);
  });

  it('mounts the users file (office operators, sign tokens) from a folder the operator names', () => {
    const machi = compose.services.machi;
    expect(machi?.environment?.MACHI_USERS_FILE).toBe('/users/users.yaml');
    const users = machi?.volumes?.find((v) => v.endsWith(':/users'));
    expect(required(users?.split(':/')[0])).toBe('MACHI_USERS_DIR');
  });

  it('talks to its own Kafka in plaintext on compose’s network, or to one over TLS and SCRAM from .env', () => {
    expect(loadConfig(machiEnvWith(secrets)).kafka).toMatchObject({
      brokers: ['kafka:9092'],
      ssl: undefined,
      sasl: undefined,
    });
    const secure = loadConfig(
      machiEnvWith({
        ...secrets,
        KAFKA_BROKERS: 'kafka.takeo.example:9093',
        KAFKA_SSL_CA: '/app/tls/kafka-ca.pem',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'machi',
        KAFKA_SASL_PASSWORD: 'a-long-scram-password',
      }),
    ).kafka;
    expect(secure).toMatchObject({
      brokers: ['kafka.takeo.example:9093'],
      ssl: { caPath: '/app/tls/kafka-ca.pem' },
      sasl: { mechanism: 'scram-sha-512', username: 'machi', password: 'a-long-scram-password' },
    });
  });

  it('publishes Kafka, InfluxDB and Prometheus on no host interface, not even loopback', () => {
    for (const name of ['kafka', 'influxdb', 'prometheus']) {
      expect(compose.services[name]?.ports, name).toBeUndefined();
      expect((compose.services[name] as { expose?: unknown })?.expose, name).toBeUndefined();
    }
    expect(String(compose.services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS)).toBe(
      'PLAINTEXT://kafka:9092',
    );
    // Grafana reaches Prometheus on compose's network.
    const datasource = readFileSync('grafana/provisioning/datasources/prometheus.yaml', 'utf8');
    expect(datasource).toContain('url: http://prometheus:9090');
  });

  it('requires every secret, and ships none', () => {
    const machi = compose.services.machi?.environment ?? {};
    const influx = compose.services.influxdb?.environment ?? {};
    const secrets = [
      machi.MACHI_SIGNAGE_PASSWORD,
      machi.MACHI_OFFICE_PASSWORD,
      machi.MACHI_SERVICE_PASSWORD,
      machi.MACHI_RECORDER_PASSWORD,
      machi.MACHI_WEBHOOKS,
      machi.INFLUX_TOKEN,
      influx.DOCKER_INFLUXDB_INIT_PASSWORD,
      influx.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN,
      compose.services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD,
    ].map(required);
    expect(secrets).toEqual([
      'MACHI_SIGNAGE_PASSWORD',
      'MACHI_OFFICE_PASSWORD',
      'MACHI_SERVICE_PASSWORD',
      'MACHI_RECORDER_PASSWORD',
      'MACHI_WEBHOOKS',
      'INFLUX_ADMIN_TOKEN',
      'INFLUX_ADMIN_PASSWORD',
      'INFLUX_ADMIN_TOKEN',
      'GRAFANA_ADMIN_PASSWORD',
    ]);
    expect(machi.MACHI_WEBHOOK_SECRET).toBeUndefined();
    expect(text).not.toMatch(/dev-secret|dev-token|dev-password/);
  });

  it('runs machi in production mode on a registry of its own, never the demo one', () => {
    const machi = compose.services.machi;
    expect(machi?.environment?.MACHI_MODE).toBe('production');
    expect(machi?.environment?.MACHI_ALLOW_ANONYMOUS_PUBLIC).toBeUndefined();
    const registry = machi?.volumes?.find((v) => v.includes(`:${machi.environment?.MACHI_DEVICES_DIR}:`));
    expect(required(registry?.split(':/')[0])).toBe('MACHI_REGISTRY_DIR');
  });

  it('gives Grafana a login, no anonymous access and a read-only InfluxDB token', () => {
    const grafana = compose.services.grafana;
    expect(grafana?.environment?.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(grafana?.environment?.INFLUX_TOKEN).toBeUndefined();
    expect(grafana?.entrypoint?.join(' ')).toContain('cat /run/influx-token/grafana');
    expect(grafana?.volumes).toContain('grafana-influx-token:/run/influx-token:ro');
    expect(grafana?.depends_on?.['grafana-token']?.condition).toBe('service_completed_successfully');
    const maker = compose.services['grafana-token'];
    expect(maker?.volumes).toContain('grafana-influx-token:/token');
    const script = readFileSync('grafana/influxdb/grafana-read-token.sh', 'utf8');
    expect(script).toContain('influx auth create --read-buckets');
    expect(script).not.toMatch(/--write|--all-access|--operator/);
  });

  it('initialises InfluxDB with the org and bucket machi defaults to', () => {
    const env = compose.services.influxdb?.environment ?? {};
    expect(env.DOCKER_INFLUXDB_INIT_ORG).toBe('takeo');
    expect(env.DOCKER_INFLUXDB_INIT_BUCKET).toBe('machi');
    expect(compose.services.machi?.environment?.INFLUX_TOKEN).toBe(env.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    expect(compose.services['grafana-token']?.environment?.INFLUX_TOKEN).toBe(
      env.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN,
    );
  });

  it('mounts Grafana provisioning from grafana/', () => {
    expect(compose.services.grafana?.volumes).toEqual(
      expect.arrayContaining([
        './grafana/provisioning:/etc/grafana/provisioning:ro',
        './grafana/dashboards:/var/lib/grafana/dashboards:ro',
      ]),
    );
  });
});

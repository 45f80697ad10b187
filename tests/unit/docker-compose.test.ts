// docker-compose.yml cannot run here (no Docker engine): check it parses and matches the native stack.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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

  it('has Prometheus scrape machi and mounts the geomap gazetteer into Grafana', () => {
    expect(compose.services.prometheus?.volumes).toContain(
      './grafana/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
    expect(compose.services.prometheus?.volumes).toContain(
      './grafana/alert-rules.yml:/etc/prometheus/alert-rules.yml:ro',
    );
    const scrape = parse(readFileSync('grafana/prometheus.yml', 'utf8')) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    expect(scrape.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets))).toContain(
      'machi:8080',
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

  it('publishes Kafka and InfluxDB on no host interface, Prometheus on loopback only', () => {
    expect(compose.services.kafka?.ports).toBeUndefined();
    expect(compose.services.influxdb?.ports).toBeUndefined();
    expect(String(compose.services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS)).toBe(
      'PLAINTEXT://kafka:9092',
    );
    expect(compose.services.prometheus?.ports).toEqual(['127.0.0.1:9090:9090']);
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

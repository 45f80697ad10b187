// docker-compose.yml cannot run here (no Docker engine): check it parses and matches the native stack.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KAFKA_VERSION } from '../../src/stack/tools.ts';

interface Service {
  image?: string;
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

describe('docker-compose.yml', () => {
  it('runs Kafka, InfluxDB 2.7, Grafana, Prometheus and machi', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'grafana',
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
    expect(compose.services.influxdb?.ports).toContain('8086:8086');
    expect(compose.services.grafana?.ports).toContain('3000:3000');
  });

  it('initialises InfluxDB with the org and bucket machi defaults to', () => {
    const env = compose.services.influxdb?.environment ?? {};
    expect(env.DOCKER_INFLUXDB_INIT_ORG).toBe('takeo');
    expect(env.DOCKER_INFLUXDB_INIT_BUCKET).toBe('machi');
    expect(compose.services.machi?.environment?.INFLUX_TOKEN).toBe(env.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
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

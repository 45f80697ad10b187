// The stream workers' Prometheus metrics, on the process registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function workerMetrics(registry: Registry) {
  return {
    lag: new Gauge({
      name: 'machi_worker_consumer_lag',
      help: 'Records behind the end of each partition after the last processed batch',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'machi_worker_batch_size',
      help: 'Records per batch written to InfluxDB',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
      registers: [registry],
    }),
    writeSeconds: new Histogram({
      name: 'machi_worker_write_seconds',
      help: 'Latency of one accepted InfluxDB write',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'machi_worker_write_retries_total',
      help: 'InfluxDB writes that failed transiently and were retried',
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'machi_worker_dead_letters_total',
      help: 'Records the worker could never write, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    points: new Counter({
      name: 'machi_worker_points_written_total',
      help: 'Reading points accepted by InfluxDB (device_health points not included)',
      registers: [registry],
    }),
    clockSkewReadings: new Counter({
      name: 'machi_clock_skew_readings_total',
      help: 'Readings whose device time is further from broker time than MACHI_CLOCK_SKEW_S, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    statusRetries: new Counter({
      name: 'machi_worker_health_publish_retries_total',
      help: 'Device status sends to Kafka that failed and were retried',
      registers: [registry],
    }),
    healthTransitions: new Counter({
      name: 'machi_worker_health_transitions_total',
      help: 'Device status changes (state or flags) sent, by state',
      labelNames: ['state'],
      registers: [registry],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof workerMetrics>;

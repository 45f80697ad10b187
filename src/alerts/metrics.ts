// The alert service's metrics, defined once.
import { Counter, Gauge, type Registry } from 'prom-client';

export function alertMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: 'machi_alert_events_total',
      help: 'Alert transitions, by level and transition',
      labelNames: ['level', 'transition', 'drill'],
      registers: [registry],
    }),
    webhooks: new Counter({
      name: 'machi_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by result (ok, retry, refused)',
      labelNames: ['result'],
      registers: [registry],
    }),
    backlogSeconds: new Gauge({
      name: 'machi_alert_output_backlog_seconds',
      help: 'Age of the oldest alert event an output (webhook receiver, InfluxDB annotations) has not taken yet; 0 when caught up',
      labelNames: ['output'],
      registers: [registry],
    }),
    auditPending: new Gauge({
      name: 'machi_alert_audit_pending',
      help: 'Alert events, acknowledgements and dead letters waiting to be written to Kafka',
      registers: [registry],
    }),
    acks: new Counter({
      name: 'machi_alert_acks_total',
      help: 'Acknowledgements received, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'machi_alert_inputs_refused_total',
      help: 'Records and messages the alert service refused (dead-lettered or skipped), by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

export type AlertMetrics = ReturnType<typeof alertMetrics>;

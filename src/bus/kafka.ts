// One place that turns machi's config into a kafkajs client, with kafkajs logs routed to pino.
// TLS (KAFKA_SSL, KAFKA_SSL_CA) and SASL (KAFKA_SASL_*) only when configured: the local stack is
// plaintext on loopback (docs/security.md "Transport security").
import { readFileSync } from 'node:fs';
import { Kafka, logLevel as KafkaLogLevel, type logCreator, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

function pinoLogCreator(log: Logger): logCreator {
  return () =>
    ({ level, label, log: entry }) => {
      const { message, ...rest } = entry;
      log[LEVELS[level] ?? 'info']({ kafkajs: label, ...rest }, message);
    };
}

export function createKafka(config: Config, log: Logger, clientSuffix?: string): Kafka {
  const { ssl, sasl } = config.kafka;
  return new Kafka({
    clientId: clientSuffix ? `${config.kafka.clientId}-${clientSuffix}` : config.kafka.clientId,
    brokers: config.kafka.brokers,
    // The brokers' names are checked against their certificates (kafkajs passes these to tls.connect).
    ssl: ssl && (ssl.caPath ? { ca: [readFileSync(ssl.caPath, 'utf8')] } : true),
    // kafkajs types each mechanism apart; config allows exactly the three it accepts.
    sasl: sasl as SASLOptions | undefined,
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(log.child({ component: 'kafkajs' })),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // machi's own retry loop (src/lib/retry.ts) decides about longer outages.
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
  });
}

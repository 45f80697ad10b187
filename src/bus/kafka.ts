// One place that turns machi's config into a kafkajs client, with kafkajs logs routed to pino.
import { Kafka, logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
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
  return new Kafka({
    clientId: clientSuffix ? `${config.kafka.clientId}-${clientSuffix}` : config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(log.child({ component: 'kafkajs' })),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // machi's own retry loop (src/runtime/retry.ts) decides about longer outages.
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
  });
}

// Which write failures mean a newer process holds the alerts transactional id: those, and only
// those, make the alert service stop writing and exit instead of retrying.
import {
  Kafka,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { expect, it } from 'vitest';
import { Fenced, FencedProducer, isFencedError } from '../../src/bus/fenced-producer.ts';
import { LeaseUnsettled } from '../../src/bus/leadership.ts';

const protocolError = (type: string) => Object.assign(new KafkaJSProtocolError(type), { type });

it('knows Kafka’s fencing answers, however kafkajs wraps them', () => {
  expect(isFencedError(protocolError('INVALID_PRODUCER_EPOCH'))).toBe(true);
  expect(isFencedError(protocolError('PRODUCER_FENCED'))).toBe(true);
  expect(
    isFencedError(
      new KafkaJSNumberOfRetriesExceeded(protocolError('PRODUCER_FENCED'), {
        retryCount: 5,
        retryTime: 2000,
      }),
    ),
  ).toBe(true);
  expect(isFencedError(new Fenced('lease lost'))).toBe(true);
});

it('retries everything else', () => {
  expect(isFencedError(protocolError('NOT_LEADER_FOR_PARTITION'))).toBe(false);
  expect(isFencedError(new KafkaJSNonRetriableError('Connection error: ECONNREFUSED'))).toBe(false);
  expect(isFencedError(new Error('socket hang up'))).toBe(false);
  expect(isFencedError(undefined)).toBe(false);
});

it('writes nothing but is not fenced while the lease cannot be confirmed (a rebalance)', async () => {
  const producer = new FencedProducer({
    kafka: new Kafka({ brokers: ['127.0.0.1:1'] }),
    transactionalId: 'unused',
    stillHolds: () => Promise.reject(new LeaseUnsettled('lease group PreparingRebalance')),
  });
  const failure = await producer.write([]).catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(LeaseUnsettled);
  expect(isFencedError(failure)).toBe(false);
});

// Which write failures mean a newer process holds the alerts transactional id: those, and only
// those, make the alert service stop writing and exit instead of retrying.
import { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { expect, it } from 'vitest';
import { Fenced, isFencedError } from '../../src/bus/fenced-producer.ts';

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

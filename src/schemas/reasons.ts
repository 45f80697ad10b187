// The one catalogue of reject and dead-letter reasons. Codes are stable: logs, metrics labels,
// dead-letter records and tests match codes, never message text.
export const REASONS = {
  PAYLOAD_TOO_LARGE: 'payload is larger than the configured maximum',
  PAYLOAD_NOT_UTF8: 'payload is not valid UTF-8 for a text format',
  PAYLOAD_MALFORMED: 'payload could not be parsed in the device vendor format',
  SCHEMA_INVALID: 'a field is missing or has the wrong type',
  VALUE_OUT_OF_RANGE: 'a value is outside its allowed range',
  INTERVAL_INVALID: 'interval end is not after its start',
  TIME_IN_FUTURE: 'device time is more than 24 h ahead of broker time',
  TIME_TOO_OLD: 'device time is more than 7 days behind broker time',
  DEVICE_MISMATCH: 'device id in the payload differs from the topic',
  UNKNOWN_ADAPTER: 'the device registry names a vendor format machi has no adapter for',
  UNKNOWN_DEVICE: 'no such device in the registry',
  TOPIC_INVALID: 'topic is not part of the topic tree',
  NOT_AUTHORIZED: 'the client may not publish on this topic',
  RECORD_INVALID: 'a Kafka record does not match its schema',
  INFLUX_REJECTED: 'InfluxDB rejected the point as invalid',
  WEBHOOK_REFUSED: 'a webhook receiver refused the event as invalid (400, 410, 413 or 422)',
} as const;

export type ReasonCode = keyof typeof REASONS;
export const REASON_CODES = Object.keys(REASONS) as [ReasonCode, ...ReasonCode[]];

/** A validation failure with its reason code; thrown or returned, never crashes a process. */
export class Rejection extends Error {
  constructor(
    readonly reason: ReasonCode,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

// The one catalogue of machi's error and refusal codes: what each means and whether trying again
// can help. Codes are stable: logs, metrics labels, dead-letter records and tests match codes,
// never message text.

/** Input refused for good: dead-lettered with its code, never retried. */
const refusal = (what: string) => ({ what, retriable: false, refusal: true }) as const;

export const ERRORS = {
  PAYLOAD_TOO_LARGE: refusal('payload is larger than the configured maximum'),
  PAYLOAD_NOT_UTF8: refusal('payload is not valid UTF-8 for a text format'),
  PAYLOAD_MALFORMED: refusal('payload could not be parsed in the device vendor format'),
  SCHEMA_INVALID: refusal('a field is missing or has the wrong type'),
  VALUE_OUT_OF_RANGE: refusal('a value is outside its allowed range'),
  INTERVAL_INVALID: refusal('interval end is not after its start'),
  TIME_IN_FUTURE: refusal('device time is more than 24 h ahead of broker time'),
  TIME_TOO_OLD: refusal('device time is more than 7 days behind broker time'),
  DEVICE_MISMATCH: refusal('device id in the payload differs from the topic'),
  UNKNOWN_ADAPTER: refusal('the device registry names a vendor format machi has no adapter for'),
  UNKNOWN_DEVICE: refusal('no such device in the registry'),
  TOPIC_INVALID: refusal('topic is not part of the topic tree'),
  NOT_AUTHORIZED: refusal('the client may not publish on this topic'),
  RECORD_INVALID: refusal('a Kafka record does not match its schema'),
  SHARED_STATE_FULL: refusal(
    "a broker holds MACHI_BROKER_SHARED_RETAINED_BYTES of other brokers' retained state",
  ),
  INFLUX_REJECTED: refusal('InfluxDB rejected the point as invalid'),
  WEBHOOK_REFUSED: refusal('a webhook receiver refused the event as invalid (400, 410, 413 or 422)'),

  // A publish the broker does not acknowledge: the client is disconnected, and a device resends
  // the retriable ones after reconnecting.
  NOT_AUTHENTICATED: { what: 'publish before authentication', retriable: false },
  INFLIGHT_BUDGET: { what: 'no room in the in-flight budget in time', retriable: true },
  DEAD_LETTER_BUDGET: { what: 'the client refused too many publishes too fast', retriable: true },
  INTERNAL_ERROR: { what: 'a bug in machi, not the input', retriable: false },

  // Kafka, for every producer.
  KAFKA_UNAVAILABLE: { what: 'Kafka did not acknowledge in time', retriable: true },
  KAFKA_REFUSED: { what: 'Kafka refused the record for good (too large, invalid)', retriable: false },

  // HTTP answers: the JSON body's `code` is `MACHI_ERR_<code>`.
  BAD_REQUEST: { what: 'the HTTP request itself is malformed (target, encoding, framing)', retriable: false },
  INVALID_REQUEST: { what: "a query parameter or body does not match the route's schema", retriable: false },
  RANGE_TOO_LARGE: { what: "the time range asked for is longer than the route's limit", retriable: false },
  NOT_FOUND: { what: 'no such route, resource or open alert', retriable: false },
  METHOD_NOT_ALLOWED: { what: 'the route does not take this method', retriable: false },
  EXPECTATION_FAILED: { what: 'an Expect header machi does not support', retriable: false },
  REQUEST_TIMEOUT: { what: 'the request did not arrive in time', retriable: true },
  HEADERS_TOO_LARGE: { what: 'the request headers are too large', retriable: false },
  UNAUTHORIZED: { what: 'credentials are missing or wrong', retriable: false },
  FORBIDDEN: { what: 'the login may not do this, or the request came from another site', retriable: false },
  LOGIN_BANNED: { what: 'too many failed logins from this address or for this name', retriable: true },
  RATE_LIMITED: { what: 'too many requests from this address (see Retry-After)', retriable: true },
  BUSY: { what: 'too many requests at once', retriable: true },
  STARTING: { what: 'the state is still being restored after a start', retriable: true },
  UNAVAILABLE: { what: 'a data store did not answer', retriable: true },
  ALREADY_ACKNOWLEDGED: { what: 'the alert was acknowledged already', retriable: false },

  // Start-up and commands: the process says what to fix and exits.
  CONFIG: { what: 'a setting is invalid', retriable: false },
  PRODUCTION: { what: 'production mode refuses a default or demo secret', retriable: false },
  REGISTRY: { what: 'the device registry is invalid', retriable: false },
  REGISTRY_EDIT: { what: 'a registry change cannot be made', retriable: false },
  USERS: { what: 'the office users file is invalid', retriable: false },
  FILE_LOCKED: { what: 'another edit of the same credential file is running', retriable: true },
  KAFKA_AUTH: { what: 'Kafka refused the SASL login', retriable: false },
  KAFKA_TLS: { what: "Kafka's certificate is not trusted, or TLS failed", retriable: false },
  KAFKA_CLOSED: {
    what: 'Kafka closed the connection (a restart, or a listener of another kind)',
    retriable: true,
  },
  TOOL_MISSING: { what: 'Java, Maven or Go is not installed', retriable: false },
  FETCH_FAILED: { what: "Kafka's jars or InfluxDB's sources could not be fetched", retriable: true },
  BUILD_FAILED: { what: 'influxd could not be built', retriable: false },
  PORT_IN_USE: { what: 'a port the stack needs is taken', retriable: false },
  SPAWN: { what: 'a stack process could not be started', retriable: false },
  START_FAILED: { what: 'a stack process exited while starting', retriable: false },
  START_TIMEOUT: { what: 'a stack process did not become ready in time', retriable: true },
  START_INTERRUPTED: {
    what: 'Ctrl-C (or SIGTERM) during stack start-up: what it had spawned was stopped',
    retriable: true,
  },
} as const;

/** The code as it appears in answers, logs and exit messages. */
export const machiErr = (code: ErrorCode) => `MACHI_ERR_${code}` as const;

export type ErrorCode = keyof typeof ERRORS;
/** The codes of refused input: a dead letter's reason. */
export type ReasonCode = {
  [K in ErrorCode]: (typeof ERRORS)[K] extends { refusal: true } ? K : never;
}[ErrorCode];
export const REASON_CODES = (Object.keys(ERRORS) as ErrorCode[]).filter(
  (code): code is ReasonCode => 'refusal' in ERRORS[code],
) as [ReasonCode, ...ReasonCode[]];

/** An error with its catalogue code; `retriable` says whether the same request may succeed later. */
export class MachiError extends Error {
  readonly retriable: boolean;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.retriable = ERRORS[code].retriable;
  }
}

/** A validation failure with its reason code; thrown or returned, never crashes a process. */
export class Rejection extends MachiError {
  constructor(
    readonly reason: ReasonCode,
    readonly detail: string,
  ) {
    super(reason, `${reason}: ${detail}`);
  }
}

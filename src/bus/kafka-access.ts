// Kafka refusing machi's login or certificate is a setting to fix, not an outage to wait out: the
// start-up stops at once and names the settings, instead of retrying for a minute or more and
// ending on kafkajs's own words ("Closed connection").
import type { Config } from '../config/config.ts';

/** Node's codes for a server certificate that does not verify against the trusted CAs. */
const UNVERIFIED_CERT = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export class KafkaAccessError extends Error {
  constructor(
    readonly code: 'MACHI_ERR_KAFKA_AUTH' | 'MACHI_ERR_KAFKA_TLS' | 'MACHI_ERR_KAFKA_CLOSED',
    message: string,
    /** False when a retry may still succeed (a broker closing connections while it restarts). */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'KafkaAccessError';
  }
}

type KafkaSettings = Pick<Config['kafka'], 'brokers' | 'ssl' | 'sasl'>;

/** kafkajs wraps the error that counts (retries exceeded, non-retriable) in `cause`. */
function* causes(err: unknown): Generator<{ name?: string; code?: string; message?: string }> {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    yield e as { name?: string; code?: string; message?: string };
    e = e.cause as { cause?: unknown } | undefined;
  }
}

/** The explanation of a failure that is Kafka refusing access, or undefined for any other. */
export function kafkaAccessError(err: unknown, kafka: KafkaSettings): KafkaAccessError | undefined {
  const at = kafka.brokers.join(',');
  for (const e of causes(err)) {
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      const who = kafka.sasl
        ? `the ${kafka.sasl.mechanism} login of user "${kafka.sasl.username}"`
        : 'the login';
      return new KafkaAccessError(
        'MACHI_ERR_KAFKA_AUTH',
        `Kafka (${at}) refused ${who}: check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, and that ` +
          `Kafka holds this user's credentials for KAFKA_SASL_MECHANISM (${e.message})`,
        true,
      );
    }
    if (e.code && UNVERIFIED_CERT.has(e.code)) {
      return new KafkaAccessError(
        'MACHI_ERR_KAFKA_TLS',
        `Kafka's certificate (${at}) did not verify: KAFKA_SSL_CA must be the CA that signed it, and ` +
          `it must name the host in KAFKA_BROKERS (${e.code}: ${e.message})`,
        true,
      );
    }
    if (e.name === 'KafkaJSConnectionClosedError' && !(kafka.ssl && kafka.sasl)) {
      return new KafkaAccessError(
        'MACHI_ERR_KAFKA_CLOSED',
        `Kafka (${at}) closed the connection: a listener that expects TLS or a SASL login does so ` +
          'to a client without them (KAFKA_SSL, KAFKA_SSL_CA, KAFKA_SASL_*), as does a broker going down',
        false,
      );
    }
  }
  return undefined;
}

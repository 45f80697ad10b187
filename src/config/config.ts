// The one place machi reads settings. Every setting is an environment variable, validated by
// one zod schema; the nested Config type is inferred from the schema's output.
import { z } from 'zod';
import { maskUrl, WebhookTargets, WebhookUrl } from './webhooks.ts';

/** A port to listen on; 0 lets the OS pick a free one (tests). */
const listenPort = z.coerce
  .number({ error: 'expected a port number 0-65535 (0 = any free port)' })
  .int('expected a port number 0-65535 (0 = any free port)')
  .min(0, 'expected a port number 0-65535 (0 = any free port)')
  .max(65535, 'expected a port number 0-65535 (0 = any free port)');
const positiveInt = z.coerce.number({ error: 'expected a positive integer' }).int().positive();
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
const url = z.url({ protocol: /^https?$/ });

/** production refuses shipped secrets (src/config/production.ts); demo is the local demo and the tests. */
export const Mode = z.enum(['production', 'demo']);

/** Environment variables whose values are never printed. */
export const SECRET_VARIABLES = new Set([
  'INFLUX_TOKEN',
  'MACHI_SIGNAGE_PASSWORD',
  'MACHI_OFFICE_PASSWORD',
  'MACHI_SERVICE_PASSWORD',
  'MACHI_RECORDER_PASSWORD',
  'MACHI_WEBHOOK_SECRET',
  'MACHI_WEBHOOKS',
  'KAFKA_SASL_PASSWORD',
]);

/**
 * Every setting, with its default, what it accepts and (in `.describe()` or `.meta()`) what it does:
 * docs/configuration.md is generated from this schema (`npm run docs:config`, src/config/reference.ts).
 */
export const EnvSchema = z
  .object({
    MACHI_MODE: Mode.default('production').describe(
      '`production` refuses shipped, short or shared secrets, anonymous access and the demo registry ([security.md](security.md#production-mode)); `demo` is for the local demo and the tests',
    ),
    MACHI_LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('pino log level'),
    MACHI_DEVICES_DIR: z.string().min(1).default('devices').describe('folder of the device registry'),

    MQTT_HOST: z.string().min(1).default('127.0.0.1').describe('address the MQTT listeners bind to'),
    MQTT_PORT: listenPort.default(1883).describe('MQTT over TCP'),
    MQTT_TLS_PORT: listenPort
      .optional()
      .describe('MQTT over TLS; on when `MQTT_TLS_CERT` and `MQTT_TLS_KEY` are set too'),
    MQTT_TLS_CERT: z.string().min(1).optional().describe('certificate file (PEM) of the MQTT TLS listener'),
    MQTT_TLS_KEY: z.string().min(1).optional().describe('private key file (PEM) of the MQTT TLS listener'),
    HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('address the public HTTP listener binds to'),
    HTTP_PORT: listenPort
      .default(8080)
      .describe(
        "public HTTP: the signs, the visitors' pages, the open-data API, `/healthz`, MQTT over WebSocket at `/mqtt`",
      ),
    // Identities and internal endpoints (issue 21); docs/security.md "Identities and credentials".
    MACHI_INTERNAL_HTTP_HOST: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe(
        'address of the internal listener: `/metrics`, `/readyz`, the office console and the ack API',
      ),
    MACHI_INTERNAL_HTTP_PORT: listenPort.optional().meta({
      description: 'port of the internal listener ([security.md](security.md#identities-and-credentials))',
      unset: '9180 in production; demo: the public port',
    }),
    // Failure budgets for the office's HTTP logins, as MACHI_MQTT_BAN_* for MQTT (docs/security.md).
    MACHI_HTTP_BAN_IP_FAILURES: positiveInt
      .default(20)
      .describe(
        'bad office logins (HTTP Basic) from one address within the window before that address is banned',
      ),
    MACHI_HTTP_BAN_USER_FAILURES: positiveInt
      .default(10)
      .describe(
        'bad office logins for one existing user name within the window before that name is banned (except from its last good address)',
      ),
    MACHI_HTTP_BAN_WINDOW_S: positiveInt
      .default(60)
      .describe('window of the office login failure budgets, seconds'),
    MACHI_HTTP_BAN_S: positiveInt.default(600).describe('length of an office login ban, seconds'),
    MACHI_USERS_FILE: z
      .string()
      .min(1)
      .default('users/users.yaml')
      .describe('office accounts (`machi users`): scrypt hashes, role `viewer` or `operator`'),
    // Transport security (issue 21, docs/security.md "Transport security").
    MQTT_PLAINTEXT: bool
      .default(true)
      .describe('`false`: no plaintext MQTT/TCP listener at all (needs the TLS listener)'),
    MQTT_TLS_CA: z
      .string()
      .min(1)
      .optional()
      .describe(
        'CA that signs device client certificates; the TLS listener then asks for one, which must name the device ([security.md](security.md#transport-security))',
      ),
    MQTT_URL: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.url({ protocol: /^mqtts?$/, error: 'expected an mqtt:// or mqtts:// URL' })).min(1))
      .optional()
      .meta({
        description:
          "where machi's own services connect (`mqtt://` or `mqtts://`); a comma-separated list of several brokers is tried in turn, so a service moves to the next when its broker dies",
        unset: 'the local broker',
      }),
    MQTT_CA: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "CA the services trust for the broker's certificate", unset: "the system's CAs" }),
    HTTP_TLS_CERT: z
      .string()
      .min(1)
      .optional()
      .describe('with `HTTP_TLS_KEY`: the HTTP listeners speak HTTPS/WSS only, with HSTS'),
    HTTP_TLS_KEY: z.string().min(1).optional().describe('private key file (PEM) for `HTTP_TLS_CERT`'),
    KAFKA_SSL: bool.default(false).describe('Kafka over TLS'),
    KAFKA_SSL_CA: z.string().min(1).optional().meta({
      description: "CA of the Kafka brokers' certificates; implies `KAFKA_SSL`",
      unset: "the system's CAs",
    }),
    KAFKA_SASL_MECHANISM: z
      .enum(['scram-sha-256', 'scram-sha-512', 'plain'])
      .optional()
      .describe('Kafka SASL login (`plain` only over TLS)'),
    KAFKA_SASL_USERNAME: z.string().min(1).optional().describe('Kafka SASL user'),
    KAFKA_SASL_PASSWORD: z.string().min(1).optional().describe('Kafka SASL password'),
    MACHI_ALLOW_ANONYMOUS_PUBLIC: bool
      .default(false)
      .describe(
        'anonymous subscribe-only MQTT access to the public topics (demo only: production refuses it)',
      ),
    MACHI_SIGNAGE_PASSWORD: z
      .string()
      .min(8)
      .default('signage-dev-secret')
      .describe('shared sign login (demo only; production signs get their own: `machi signs add`)'),
    MACHI_OFFICE_PASSWORD: z
      .string()
      .min(8)
      .default('office-dev-secret')
      .describe('shared office login (demo only; production staff are named accounts in `MACHI_USERS_FILE`)'),
    MACHI_SERVICE_PASSWORD: z
      .string()
      .min(8)
      .default('service-dev-secret')
      .describe("MQTT password of machi's own services (production: its own, 16+ characters)"),
    MACHI_RECORDER_PASSWORD: z
      .string()
      .min(8)
      .default('recorder-dev-secret')
      .describe('MQTT password of `machi record` (production: its own, 16+ characters)'),
    MACHI_HANDOFF_BATCH_SIZE: positiveInt
      .default(5000)
      .describe('broker → Kafka: at most this many records per produce request'),
    MACHI_HANDOFF_BATCH_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(5)
      .describe('broker → Kafka: a batch is sent at the latest this long after its first record, ms'),
    MACHI_HANDOFF_HOLD_MS: positiveInt
      .default(15000)
      .describe(
        'how long a QoS 1 message may wait for Kafka before its client is disconnected unacknowledged, ms',
      ),
    MACHI_INFLIGHT_PER_CLIENT: positiveInt
      .default(100)
      .describe('unacknowledged QoS 1 readings held per client before backpressure'),
    MACHI_INFLIGHT_TOTAL: positiveInt
      .default(20000)
      .describe('unacknowledged QoS 1 readings held overall before backpressure'),
    MACHI_MAX_PAYLOAD_BYTES: positiveInt.default(8192).describe('larger MQTT payloads are refused'),
    // Limits at the broker's doors (issue 21); README "Broker" says what each does.
    MACHI_MQTT_AUTH_CONCURRENCY: positiveInt
      .default(2)
      .describe('device password checks (scrypt) running at once'),
    MACHI_MQTT_AUTH_QUEUE: positiveInt.default(1000).describe('password checks waiting; beyond, CONNACK 3'),
    MACHI_MQTT_BAN_IP_FAILURES: positiveInt
      .default(30)
      .describe('refused MQTT logins from one address within the window before that address is banned'),
    MACHI_MQTT_BAN_USER_FAILURES: positiveInt
      .default(10)
      .describe(
        'refused MQTT logins for one user name within the window before that name is banned (except from its last good address)',
      ),
    MACHI_MQTT_BAN_WINDOW_S: positiveInt
      .default(60)
      .describe('window of the MQTT login failure budgets, seconds'),
    MACHI_MQTT_BAN_S: positiveInt.default(600).describe('length of an MQTT login ban, seconds'),
    MACHI_MQTT_MAX_CONNECTIONS_PER_IP: positiveInt
      .default(2000)
      .describe('MQTT connections one address may hold'),
    MACHI_MQTT_CONNECT_RATE: positiveInt
      .default(500)
      .describe('CONNECTs a second overall; beyond, CONNACK 3'),
    MACHI_MQTT_CONNECT_BURST: positiveInt
      .default(2000)
      .describe('burst allowed above `MACHI_MQTT_CONNECT_RATE`'),
    MACHI_MQTT_CONNECT_TIMEOUT_S: positiveInt
      .default(10)
      .describe('a socket without CONNECT is closed after this many seconds'),
    MACHI_MQTT_MAX_KEEPALIVE_S: positiveInt
      .max(65535)
      .default(900)
      .describe('a keepalive of 0 or above this is held to it, seconds'),
    MACHI_MQTT_QUEUE_PER_CLIENT: positiveInt
      .default(1000)
      .describe('QoS 1 messages a session queues at most'),
    MACHI_MQTT_SESSIONS_PER_DEVICE: positiveInt
      .default(4)
      .describe('persistent sessions one device may hold under different client ids'),
    MACHI_MQTT_WS_ORIGINS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      )
      .describe("comma-separated extra browser origins allowed on `/mqtt` (the page's own origin always is)"),
    MACHI_DEAD_LETTERS_PER_CLIENT_S: positiveInt
      .default(20)
      .describe('dead-lettered publishes a second per client (burst 5×); beyond, the client is disconnected'),
    MACHI_DEAD_LETTERS_TOTAL_S: positiveInt
      .default(500)
      .describe('dead-lettered publishes a second overall (burst 2×)'),
    MACHI_HANDOFF_BATCH_BYTES: positiveInt
      .default(900 * 1024)
      .describe("bytes (keys + values) of a produce batch, below Kafka's 1 MiB"),
    // Several brokers sharing their retained state and events through Kafka (docs/broker.md
    // "Several brokers"): on with MACHI_BROKER_SHARED_STATE=true or once MACHI_BROKER_ID is set.
    MACHI_BROKER_ID: z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,64}$/, 'expected up to 64 letters, digits, dot, dash or underscore')
      .optional()
      .meta({
        description:
          'names this broker among several sharing retained state and events through Kafka ([broker.md](broker.md#several-brokers)); setting it turns the sharing on',
        unset: 'the host name, when sharing is on',
      }),
    MACHI_BROKER_SHARED_STATE: bool.optional().meta({
      description: 'share retained state and events with other brokers through Kafka',
      unset: 'on when `MACHI_BROKER_ID` is set',
    }),
    MACHI_BROKER_SHARED_RETAINED_BYTES: positiveInt
      .default(64 * 1024 * 1024)
      .describe("payload bytes of other brokers' retained messages a broker holds at most"),

    KAFKA_BROKERS: z
      .string()
      .default('127.0.0.1:9092')
      .transform((s) => s.split(',').map((b) => b.trim()))
      .pipe(z.array(hostPort).min(1))
      .describe('comma-separated `host:port` list'),
    KAFKA_CLIENT_ID: z.string().min(1).default('machi').describe('Kafka client id'),
    KAFKA_TOPIC_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9._-]*$/, 'expected letters, digits, dot, dash or underscore')
      .default('machi')
      .describe('prefix of every topic machi creates'),
    KAFKA_PARTITIONS: positiveInt
      .min(6)
      .default(6)
      .describe('partitions of the topics machi creates (at least 6)'),
    KAFKA_REPLICATION_FACTOR: positiveInt.optional().meta({
      description:
        'copies of the topics machi creates; with 3 also `min.insync.replicas=2` ([operations.md](operations.md#a-three-node-kafka))',
      unset: 'as many as brokers, up to 3',
    }),

    INFLUX_URL: url.default('http://127.0.0.1:8086').describe('InfluxDB (v2 API)'),
    INFLUX_TOKEN: z
      .string()
      .default('machi:machi')
      .describe("InfluxDB API token (the native stack's InfluxDB 1.8 ignores it: auth is off on loopback)"),
    INFLUX_ORG: z.string().min(1).default('takeo').describe('InfluxDB organisation'),
    INFLUX_BUCKET: z.string().min(1).default('machi').describe('InfluxDB bucket'),

    MACHI_WORKER_BATCH_SIZE: positiveInt
      .default(2000)
      .describe('Kafka → InfluxDB writer: records per write at most'),
    MACHI_WORKER_BATCH_MS: positiveInt
      .default(200)
      .describe(
        'Kafka → InfluxDB writer: a batch is written at the latest this long after its first record, ms',
      ),
    MACHI_WORKER_GROUP: z
      .string()
      .min(1)
      .default('machi-writer')
      .describe('Kafka consumer group of the writers'),
    MACHI_WORKER_SESSION_S: positiveInt
      .min(6)
      .max(300)
      .default(10)
      .describe(
        "how long Kafka waits for a silent worker (its session) before another takes its partitions, seconds; at least Kafka's group.min.session.timeout.ms (6 s)",
      ),
    MACHI_LOW_BATTERY_V: z.coerce
      .number({ error: 'expected volts, e.g. 2.5' })
      .positive()
      .default(2.5)
      .describe('battery voltage below which a device is reported low'),
    MACHI_HEALTH_TICK_MS: positiveInt.default(5000).describe('how often device silence is judged, ms'),

    MACHI_ALERT_DEBOUNCE_S: z.coerce
      .number({ error: 'expected seconds' })
      .min(0)
      .default(60)
      .describe('how long wet must hold before a sensor counts, seconds'),
    MACHI_ALERT_CLEAR_S: z.coerce
      .number({ error: 'expected seconds' })
      .min(0)
      .default(600)
      .describe('how long dry must hold before an alert clears, seconds'),
    MACHI_ALERT_K: positiveInt
      .default(2)
      .describe('corroboration: wet sensors within the radius needed for an alert'),
    MACHI_ALERT_RADIUS_M: positiveInt.default(1500).describe('corroboration radius, metres'),
    MACHI_ALERT_RISE_CM_PER_MIN: z.coerce
      .number({ error: 'expected cm per minute' })
      .positive()
      .default(1)
      .describe('a rate of rise that corroborates alone, cm per minute'),
    MACHI_ALERT_RENOTIFY_S: positiveInt
      .default(300)
      .describe('unacknowledged alerts are notified again this often, seconds'),
    MACHI_CLOCK_SKEW_S: positiveInt
      .default(300)
      .describe('a device clock further than this from broker time is flagged `CLOCK_SKEW`, seconds'),
    MACHI_WEBHOOK_BACKLOG_ALERT_S: positiveInt
      .default(300)
      .describe(
        'an alert output (webhook receiver, InfluxDB annotations) this far behind is logged as an error, seconds',
      ),
    MACHI_ALERT_REPUBLISH_S: positiveInt
      .default(60)
      .describe(
        'how often the retained alert state, sign notices and device status are published again (also on every reconnect), seconds',
      ),
    MACHI_ALERT_REPLAY_S: z.coerce
      .number({ error: 'expected seconds' })
      .min(0)
      .default(3600)
      .describe('history replayed to rebuild the alert state on start, seconds'),
    MACHI_WEBHOOK_URLS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
      )
      .pipe(z.array(WebhookUrl))
      .describe(
        'demo only (production refuses it): comma-separated webhook URLs all signed with `MACHI_WEBHOOK_SECRET`, key id `shared`',
      ),
    MACHI_WEBHOOK_SECRET: z
      .string()
      .min(8)
      .default('webhook-dev-secret')
      .describe('demo only: the one HMAC key of `MACHI_WEBHOOK_URLS`'),
    MACHI_WEBHOOKS: WebhookTargets.default([]).describe(
      'webhook receivers as JSON, `[{"url":"https://…","keyId":"2026-08","secret":"…"}]`: each its own HMAC key, named in `X-Machi-Key-Id`; https only, plain http only to localhost, 127.0.0.0/8 or ::1',
    ),

    MACHI_FORECAST_CRON: z
      .string()
      .min(9, 'expected a cron expression like */5 * * * *')
      .default('*/5 * * * *')
      .describe('schedule of `machi forecast serve` (cron)'),
    MACHI_FORECAST_STALE_S: positiveInt
      .default(1800)
      .describe('age after which a kept forecast is marked stale, seconds'),
    MACHI_FORECAST_HISTORY_DAYS: positiveInt.default(70).describe('history read per forecast run, days'),

    MACHI_SIGNAGE_ROTATE_S: positiveInt.default(8).describe('sign language rotation, seconds'),
    MACHI_SIGNAGE_STALE_S: positiveInt
      .default(2700)
      .describe('age after which congestion is shown as not current, seconds'),
    MACHI_SIGNAGE_HEARTBEAT_S: positiveInt.default(30).describe('sign heartbeat interval, seconds'),
    MACHI_OFFICE_TILE_URL: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'tile URL template for the office map', unset: 'plain coordinate view' }),
    // The open-data API (/api/v1, /ngsi-ld/v1): requests a minute per client address, and the
    // public origin its catalogue links use (else the request's own Host).
    MACHI_API_RATE_PER_MIN: positiveInt
      .default(300)
      .describe(
        'open-data API and NGSI-LD: requests a minute per client address ([open-data.md](open-data.md))',
      ),
    MACHI_PUBLIC_URL: url.optional().meta({
      description:
        'public origin for links in the OpenAPI document, the catalogue and the NGSI-LD `@context` (needed to push to a context broker on another host)',
      unset: "the request's own Host",
    }),
    // NGSI-LD push: each flood reading's FloodMonitoring entity and each public alert transition's
    // Alert entity are upserted to this context broker (its base URL), in batches of at most
    // MACHI_NGSI_LD_UPSERT_BATCH entities.
    MACHI_NGSI_LD_UPSERT_URL: url
      .optional()
      .describe(
        "push every real flood reading's FloodMonitoring entity and every public transition of a real alert to this NGSI-LD context broker (its base URL) ([open-data.md](open-data.md#push-to-a-context-broker))",
      ),
    MACHI_NGSI_LD_UPSERT_BATCH: positiveInt.default(100).describe('entities per NGSI-LD upsert at most'),
  })
  .superRefine((e, ctx) => {
    // Settings that only work together: name the missing half rather than ignore the other.
    const need = (missing: boolean, path: string, message: string) => {
      if (missing) ctx.addIssue({ code: 'custom', path: [path], message });
    };
    const mqttTls = e.MQTT_TLS_PORT !== undefined && Boolean(e.MQTT_TLS_CERT && e.MQTT_TLS_KEY);
    need(
      !e.MQTT_PLAINTEXT && !mqttTls,
      'MQTT_PLAINTEXT',
      'false needs MQTT_TLS_PORT, MQTT_TLS_CERT and MQTT_TLS_KEY',
    );
    need(
      Boolean(e.MQTT_TLS_CA) && !mqttTls,
      'MQTT_TLS_CA',
      'needs MQTT_TLS_PORT, MQTT_TLS_CERT and MQTT_TLS_KEY',
    );
    need(!e.HTTP_TLS_CERT !== !e.HTTP_TLS_KEY, 'HTTP_TLS_CERT', 'HTTP_TLS_CERT and HTTP_TLS_KEY go together');
    need(
      e.KAFKA_SASL_MECHANISM !== undefined && !(e.KAFKA_SASL_USERNAME && e.KAFKA_SASL_PASSWORD),
      'KAFKA_SASL_MECHANISM',
      'needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    );
    need(
      e.KAFKA_SASL_MECHANISM === 'plain' && !e.KAFKA_SSL && e.KAFKA_SSL_CA === undefined,
      'KAFKA_SASL_MECHANISM',
      'plain needs KAFKA_SSL=true or KAFKA_SSL_CA: it sends the password as it is',
    );
  });

/**
 * Settings read outside loadConfig, documented beside the others: where the native stack keeps its
 * downloads and state (src/stack/tools.ts) and the seed of the demo registry's secrets
 * (src/registry/secrets.ts).
 */
export const ToolEnvSchema = z.object({
  MACHI_CACHE_DIR: z.string().optional().meta({
    description:
      "Kafka's jars and the `influxd` binary (`machi stack`), shared by every clone on the machine",
    unset: '`$XDG_CACHE_HOME/machi`, else `~/.cache/machi`',
  }),
  MACHI_STACK_DIR: z.string().optional().meta({
    description: 'data, logs and PID files of the native stack (`machi stack`)',
    unset: '`$TMPDIR/machi-stack`',
  }),
  MACHI_DEMO_SEED: z.string().default('takeo-demo').describe("seed of the demo registry's device secrets"),
});

export const ConfigSchema = EnvSchema.transform((e) => ({
  mode: e.MACHI_MODE,
  logLevel: e.MACHI_LOG_LEVEL,
  devicesDir: e.MACHI_DEVICES_DIR,
  mqtt: {
    host: e.MQTT_HOST,
    port: e.MQTT_PORT,
    plaintext: e.MQTT_PLAINTEXT,
    tls:
      e.MQTT_TLS_PORT !== undefined && e.MQTT_TLS_CERT && e.MQTT_TLS_KEY
        ? {
            port: e.MQTT_TLS_PORT,
            certPath: e.MQTT_TLS_CERT,
            keyPath: e.MQTT_TLS_KEY,
            clientCaPath: e.MQTT_TLS_CA,
          }
        : undefined,
    /** How machi's own services reach the broker (src/runtime/component.ts). */
    service: { urls: e.MQTT_URL, caPath: e.MQTT_CA },
    allowAnonymousPublic: e.MACHI_ALLOW_ANONYMOUS_PUBLIC,
    maxPayloadBytes: e.MACHI_MAX_PAYLOAD_BYTES,
    roles: {
      signage: e.MACHI_SIGNAGE_PASSWORD,
      office: e.MACHI_OFFICE_PASSWORD,
      service: e.MACHI_SERVICE_PASSWORD,
      recorder: e.MACHI_RECORDER_PASSWORD,
    },
    handoff: {
      batchSize: e.MACHI_HANDOFF_BATCH_SIZE,
      batchMs: e.MACHI_HANDOFF_BATCH_MS,
      holdMs: e.MACHI_HANDOFF_HOLD_MS,
    },
    inflight: { perClient: e.MACHI_INFLIGHT_PER_CLIENT, total: e.MACHI_INFLIGHT_TOTAL },
    limits: {
      authConcurrency: e.MACHI_MQTT_AUTH_CONCURRENCY,
      authQueue: e.MACHI_MQTT_AUTH_QUEUE,
      bans: {
        ipFailures: e.MACHI_MQTT_BAN_IP_FAILURES,
        userFailures: e.MACHI_MQTT_BAN_USER_FAILURES,
        windowMs: e.MACHI_MQTT_BAN_WINDOW_S * 1000,
        banMs: e.MACHI_MQTT_BAN_S * 1000,
      },
      connectionsPerIp: e.MACHI_MQTT_MAX_CONNECTIONS_PER_IP,
      connectRate: e.MACHI_MQTT_CONNECT_RATE,
      connectBurst: e.MACHI_MQTT_CONNECT_BURST,
      connectTimeoutMs: e.MACHI_MQTT_CONNECT_TIMEOUT_S * 1000,
      maxKeepaliveS: e.MACHI_MQTT_MAX_KEEPALIVE_S,
      queuePerClient: e.MACHI_MQTT_QUEUE_PER_CLIENT,
      /** Persistent sessions one device may hold under different client ids (session-limit.ts). */
      sessionsPerDevice: e.MACHI_MQTT_SESSIONS_PER_DEVICE,
      wsOrigins: e.MACHI_MQTT_WS_ORIGINS,
      /** Dead-lettered publishes a second, per client (burst 5×) and overall (burst 2×). */
      deadLettersPerClientS: e.MACHI_DEAD_LETTERS_PER_CLIENT_S,
      deadLettersTotalS: e.MACHI_DEAD_LETTERS_TOTAL_S,
      /** A produce batch's bytes (keys + values), below Kafka's message.max.bytes (1 MiB). */
      batchBytes: e.MACHI_HANDOFF_BATCH_BYTES,
    },
    /** Retained state and events shared with other brokers through Kafka (broker/shared-state.ts). */
    shared: {
      enabled: e.MACHI_BROKER_SHARED_STATE ?? e.MACHI_BROKER_ID !== undefined,
      /** Names this broker in the records it writes and in its logs; default: the host name. */
      brokerId: e.MACHI_BROKER_ID,
      /** Payload bytes of other brokers' retained messages held at most. */
      retainedBytes: e.MACHI_BROKER_SHARED_RETAINED_BYTES,
    },
  },
  http: {
    host: e.HTTP_HOST,
    port: e.HTTP_PORT,
    tls:
      e.HTTP_TLS_CERT && e.HTTP_TLS_KEY ? { certPath: e.HTTP_TLS_CERT, keyPath: e.HTTP_TLS_KEY } : undefined,
    /** /metrics, /readyz, the office and the ack API; undefined: on the public port (demo only). */
    internal:
      e.MACHI_INTERNAL_HTTP_PORT !== undefined || e.MACHI_MODE === 'production'
        ? { host: e.MACHI_INTERNAL_HTTP_HOST, port: e.MACHI_INTERNAL_HTTP_PORT ?? 9180 }
        : undefined,
    /** Bad office logins (Basic) before a temporary ban, per source address and per user name. */
    bans: {
      ipFailures: e.MACHI_HTTP_BAN_IP_FAILURES,
      userFailures: e.MACHI_HTTP_BAN_USER_FAILURES,
      windowMs: e.MACHI_HTTP_BAN_WINDOW_S * 1000,
      banMs: e.MACHI_HTTP_BAN_S * 1000,
    },
  },
  usersFile: e.MACHI_USERS_FILE,
  kafka: {
    brokers: e.KAFKA_BROKERS,
    clientId: e.KAFKA_CLIENT_ID,
    topicPrefix: e.KAFKA_TOPIC_PREFIX,
    partitions: e.KAFKA_PARTITIONS,
    replicationFactor: e.KAFKA_REPLICATION_FACTOR,
    ssl: e.KAFKA_SSL || e.KAFKA_SSL_CA !== undefined ? { caPath: e.KAFKA_SSL_CA } : undefined,
    sasl:
      e.KAFKA_SASL_MECHANISM && e.KAFKA_SASL_USERNAME && e.KAFKA_SASL_PASSWORD
        ? {
            mechanism: e.KAFKA_SASL_MECHANISM,
            username: e.KAFKA_SASL_USERNAME,
            password: e.KAFKA_SASL_PASSWORD,
          }
        : undefined,
  },
  influx: { url: e.INFLUX_URL, token: e.INFLUX_TOKEN, org: e.INFLUX_ORG, bucket: e.INFLUX_BUCKET },
  /** A reading whose device time is further than this from broker time is flagged CLOCK_SKEW. */
  clockSkewMs: e.MACHI_CLOCK_SKEW_S * 1000,
  worker: {
    batchSize: e.MACHI_WORKER_BATCH_SIZE,
    batchMs: e.MACHI_WORKER_BATCH_MS,
    group: e.MACHI_WORKER_GROUP,
    sessionMs: e.MACHI_WORKER_SESSION_S * 1000,
    lowBatteryV: e.MACHI_LOW_BATTERY_V,
    healthTickMs: e.MACHI_HEALTH_TICK_MS,
  },
  alerts: {
    rules: {
      debounceMs: e.MACHI_ALERT_DEBOUNCE_S * 1000,
      clearMs: e.MACHI_ALERT_CLEAR_S * 1000,
      k: e.MACHI_ALERT_K,
      radiusM: e.MACHI_ALERT_RADIUS_M,
      riseCmPerMin: e.MACHI_ALERT_RISE_CM_PER_MIN,
      renotifyMs: e.MACHI_ALERT_RENOTIFY_S * 1000,
    },
    replayMs: e.MACHI_ALERT_REPLAY_S * 1000,
    /** Retained alert state and sign notices are re-published this often (and on every reconnect). */
    republishMs: e.MACHI_ALERT_REPUBLISH_S * 1000,
    webhooks: {
      receivers: e.MACHI_WEBHOOKS,
      shared: { urls: e.MACHI_WEBHOOK_URLS, secret: e.MACHI_WEBHOOK_SECRET },
      backlogAlertMs: e.MACHI_WEBHOOK_BACKLOG_ALERT_S * 1000,
    },
  },
  forecast: {
    cron: e.MACHI_FORECAST_CRON,
    staleMs: e.MACHI_FORECAST_STALE_S * 1000,
    historyDays: e.MACHI_FORECAST_HISTORY_DAYS,
  },
  signage: {
    rotateS: e.MACHI_SIGNAGE_ROTATE_S,
    staleS: e.MACHI_SIGNAGE_STALE_S,
    heartbeatS: e.MACHI_SIGNAGE_HEARTBEAT_S,
  },
  office: { tileUrl: e.MACHI_OFFICE_TILE_URL },
  api: { ratePerMinute: e.MACHI_API_RATE_PER_MIN, publicUrl: e.MACHI_PUBLIC_URL },
  ngsiLdPush: e.MACHI_NGSI_LD_UPSERT_URL
    ? { url: e.MACHI_NGSI_LD_UPSERT_URL, batch: e.MACHI_NGSI_LD_UPSERT_BATCH }
    : undefined,
}));

export type Config = z.output<typeof ConfigSchema>;
type EnvName = keyof z.input<typeof EnvSchema>;

export class ConfigError extends Error {
  readonly code = 'MACHI_ERR_CONFIG';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const envNames = Object.keys(EnvSchema.shape) as EnvName[];

/** Picks machi's variables from the environment; empty strings count as unset. */
function knownVariables(env: NodeJS.ProcessEnv): Partial<Record<EnvName, string>> {
  const picked: Partial<Record<EnvName, string>> = {};
  for (const name of envNames) {
    const value = env[name];
    if (value !== undefined && value !== '') picked[name] = value;
  }
  return picked;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const vars = knownVariables(env);
  const result = ConfigSchema.safeParse(vars);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const [head, ...rest] = issue.path;
    const name = String(head ?? '(environment)') as EnvName;
    // MACHI_WEBHOOKS[1].url, MACHI_WEBHOOK_URLS[0]: which entry of a list.
    const where = rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const raw = vars[name];
    const got = SECRET_VARIABLES.has(name)
      ? '(secret)'
      : JSON.stringify(name === 'MACHI_WEBHOOK_URLS' ? raw?.split(',').map(maskUrl).join(',') : raw);
    return `${name}${where}: ${issue.message} (got ${got})`;
  });
  throw new ConfigError(problems);
}

/** The effective value of every variable, secrets and webhook paths masked; for `machi config`. */
export function describeConfig(env: NodeJS.ProcessEnv = process.env): Array<[string, string]> {
  loadConfig(env);
  const parsed = EnvSchema.parse(knownVariables(env));
  const shown: { [N in EnvName]?: string } = {
    MACHI_WEBHOOK_URLS: parsed.MACHI_WEBHOOK_URLS.map(maskUrl).join(','),
    MACHI_WEBHOOKS: parsed.MACHI_WEBHOOKS.map((r) => `${maskUrl(r.url)} (key ${r.keyId})`).join(', '),
  };
  return envNames.map((name) => {
    const value = parsed[name];
    if (shown[name] !== undefined) return [name, shown[name]];
    if (value === undefined) return [name, '(unset)'];
    if (SECRET_VARIABLES.has(name) && value) return [name, '********'];
    return [name, Array.isArray(value) ? value.join(',') : String(value)];
  });
}

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

export const EnvSchema = z
  .object({
    MACHI_MODE: Mode.default('production'),
    MACHI_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MACHI_DEVICES_DIR: z.string().min(1).default('devices'),

    MQTT_HOST: z.string().min(1).default('127.0.0.1'),
    MQTT_PORT: listenPort.default(1883),
    MQTT_TLS_PORT: listenPort.optional(),
    MQTT_TLS_CERT: z.string().min(1).optional(),
    MQTT_TLS_KEY: z.string().min(1).optional(),
    HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    HTTP_PORT: listenPort.default(8080),
    // Identities and internal endpoints (issue 21); docs/security.md "Identities and credentials".
    MACHI_INTERNAL_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    MACHI_INTERNAL_HTTP_PORT: listenPort.optional(),
    // Failure budgets for the office's HTTP logins, as MACHI_MQTT_BAN_* for MQTT (docs/security.md).
    MACHI_HTTP_BAN_IP_FAILURES: positiveInt.default(20),
    MACHI_HTTP_BAN_USER_FAILURES: positiveInt.default(10),
    MACHI_HTTP_BAN_WINDOW_S: positiveInt.default(60),
    MACHI_HTTP_BAN_S: positiveInt.default(600),
    MACHI_USERS_FILE: z.string().min(1).default('users/users.yaml'),
    // Transport security (issue 21, docs/security.md "Transport security").
    /** false: no plaintext MQTT/TCP listener at all (needs the TLS listener). */
    MQTT_PLAINTEXT: bool.default(true),
    /** CA that signs device client certificates; the TLS listener then asks for one. */
    MQTT_TLS_CA: z.string().min(1).optional(),
    /** Where machi's own services connect (e.g. mqtts://broker.example:8883); default: the local broker. */
    MQTT_URL: z.url({ protocol: /^mqtts?$/, error: 'expected an mqtt:// or mqtts:// URL' }).optional(),
    /** CA the services trust for the broker's certificate (default: the system's). */
    MQTT_CA: z.string().min(1).optional(),
    /** Both set: the HTTP port (pages, /mqtt WebSocket) speaks HTTPS/WSS only, with HSTS. */
    HTTP_TLS_CERT: z.string().min(1).optional(),
    HTTP_TLS_KEY: z.string().min(1).optional(),
    KAFKA_SSL: bool.default(false),
    /** CA for the Kafka brokers' certificates (default: the system's); implies KAFKA_SSL. */
    KAFKA_SSL_CA: z.string().min(1).optional(),
    KAFKA_SASL_MECHANISM: z.enum(['scram-sha-256', 'scram-sha-512', 'plain']).optional(),
    KAFKA_SASL_USERNAME: z.string().min(1).optional(),
    KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
    MACHI_ALLOW_ANONYMOUS_PUBLIC: bool.default(false),
    MACHI_SIGNAGE_PASSWORD: z.string().min(8).default('signage-dev-secret'),
    MACHI_OFFICE_PASSWORD: z.string().min(8).default('office-dev-secret'),
    MACHI_SERVICE_PASSWORD: z.string().min(8).default('service-dev-secret'),
    MACHI_RECORDER_PASSWORD: z.string().min(8).default('recorder-dev-secret'),
    MACHI_HANDOFF_BATCH_SIZE: positiveInt.default(5000),
    MACHI_HANDOFF_BATCH_MS: z.coerce.number().int().min(0).default(5),
    MACHI_HANDOFF_HOLD_MS: positiveInt.default(15000),
    MACHI_INFLIGHT_PER_CLIENT: positiveInt.default(100),
    MACHI_INFLIGHT_TOTAL: positiveInt.default(20000),
    MACHI_MAX_PAYLOAD_BYTES: positiveInt.default(8192),
    // Limits at the broker's doors (issue 21); README "Broker" says what each does.
    MACHI_MQTT_AUTH_CONCURRENCY: positiveInt.default(2),
    MACHI_MQTT_AUTH_QUEUE: positiveInt.default(1000),
    MACHI_MQTT_BAN_IP_FAILURES: positiveInt.default(30),
    MACHI_MQTT_BAN_USER_FAILURES: positiveInt.default(10),
    MACHI_MQTT_BAN_WINDOW_S: positiveInt.default(60),
    MACHI_MQTT_BAN_S: positiveInt.default(600),
    MACHI_MQTT_MAX_CONNECTIONS_PER_IP: positiveInt.default(2000),
    MACHI_MQTT_CONNECT_RATE: positiveInt.default(500),
    MACHI_MQTT_CONNECT_BURST: positiveInt.default(2000),
    MACHI_MQTT_CONNECT_TIMEOUT_S: positiveInt.default(10),
    MACHI_MQTT_MAX_KEEPALIVE_S: positiveInt.max(65535).default(900),
    MACHI_MQTT_QUEUE_PER_CLIENT: positiveInt.default(1000),
    MACHI_MQTT_SESSIONS_PER_DEVICE: positiveInt.default(4),
    MACHI_MQTT_WS_ORIGINS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    MACHI_DEAD_LETTERS_PER_CLIENT_S: positiveInt.default(20),
    MACHI_DEAD_LETTERS_TOTAL_S: positiveInt.default(500),
    MACHI_HANDOFF_BATCH_BYTES: positiveInt.default(900 * 1024),
    // Several brokers sharing their retained state and events through Kafka (docs/broker.md
    // "Several brokers"): on with MACHI_BROKER_SHARED_STATE=true or once MACHI_BROKER_ID is set.
    MACHI_BROKER_ID: z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,64}$/, 'expected up to 64 letters, digits, dot, dash or underscore')
      .optional(),
    MACHI_BROKER_SHARED_STATE: bool.optional(),
    MACHI_BROKER_SHARED_RETAINED_BYTES: positiveInt.default(64 * 1024 * 1024),

    KAFKA_BROKERS: z
      .string()
      .default('127.0.0.1:9092')
      .transform((s) => s.split(',').map((b) => b.trim()))
      .pipe(z.array(hostPort).min(1)),
    KAFKA_CLIENT_ID: z.string().min(1).default('machi'),
    KAFKA_TOPIC_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9._-]*$/, 'expected letters, digits, dot, dash or underscore')
      .default('machi'),
    KAFKA_PARTITIONS: positiveInt.min(6).default(6),
    /** Default: as many copies as brokers, up to 3 (src/bus/replication.ts). */
    KAFKA_REPLICATION_FACTOR: positiveInt.optional(),

    INFLUX_URL: url.default('http://127.0.0.1:8086'),
    INFLUX_TOKEN: z.string().default('machi:machi'),
    INFLUX_ORG: z.string().min(1).default('takeo'),
    INFLUX_BUCKET: z.string().min(1).default('machi'),

    MACHI_WORKER_BATCH_SIZE: positiveInt.default(2000),
    MACHI_WORKER_BATCH_MS: positiveInt.default(200),
    MACHI_WORKER_GROUP: z.string().min(1).default('machi-writer'),
    MACHI_LOW_BATTERY_V: z.coerce.number({ error: 'expected volts, e.g. 2.5' }).positive().default(2.5),
    MACHI_HEALTH_TICK_MS: positiveInt.default(5000),

    MACHI_ALERT_DEBOUNCE_S: z.coerce.number({ error: 'expected seconds' }).min(0).default(60),
    MACHI_ALERT_CLEAR_S: z.coerce.number({ error: 'expected seconds' }).min(0).default(600),
    MACHI_ALERT_K: positiveInt.default(2),
    MACHI_ALERT_RADIUS_M: positiveInt.default(1500),
    MACHI_ALERT_RISE_CM_PER_MIN: z.coerce.number({ error: 'expected cm per minute' }).positive().default(1),
    MACHI_ALERT_RENOTIFY_S: positiveInt.default(300),
    MACHI_CLOCK_SKEW_S: positiveInt.default(300),
    MACHI_WEBHOOK_BACKLOG_ALERT_S: positiveInt.default(300),
    MACHI_ALERT_REPUBLISH_S: positiveInt.default(60),
    MACHI_ALERT_REPLAY_S: z.coerce.number({ error: 'expected seconds' }).min(0).default(3600),
    MACHI_WEBHOOK_URLS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
      )
      .pipe(z.array(WebhookUrl)),
    MACHI_WEBHOOK_SECRET: z.string().min(8).default('webhook-dev-secret'),
    MACHI_WEBHOOKS: WebhookTargets.default([]),

    MACHI_FORECAST_CRON: z
      .string()
      .min(9, 'expected a cron expression like */5 * * * *')
      .default('*/5 * * * *'),
    MACHI_FORECAST_STALE_S: positiveInt.default(1800),
    MACHI_FORECAST_HISTORY_DAYS: positiveInt.default(70),

    MACHI_SIGNAGE_ROTATE_S: positiveInt.default(8),
    MACHI_SIGNAGE_STALE_S: positiveInt.default(2700),
    MACHI_SIGNAGE_HEARTBEAT_S: positiveInt.default(30),
    MACHI_OFFICE_TILE_URL: z.string().min(1).optional(),
    // The open-data API (/api/v1, /ngsi-ld/v1): requests a minute per client address, and the
    // public origin its catalogue links use (else the request's own Host).
    MACHI_API_RATE_PER_MIN: positiveInt.default(300),
    MACHI_PUBLIC_URL: url.optional(),
    // NGSI-LD push: each flood reading's FloodMonitoring entity is upserted to this context broker
    // (its base URL), in batches of at most MACHI_NGSI_LD_UPSERT_BATCH entities.
    MACHI_NGSI_LD_UPSERT_URL: url.optional(),
    MACHI_NGSI_LD_UPSERT_BATCH: positiveInt.default(100),
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
    service: { url: e.MQTT_URL, caPath: e.MQTT_CA },
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

// What production mode (MACHI_MODE=production, the default) refuses at start-up: a secret anyone
// who has read this repository knows, a weak or shared one, anonymous access, the demo registry and
// devices still on their demo secrets. Every broken rule is a problem of its own, all named at once.
import { CappedQueue } from '../lib/capped-queue.ts';
import { loadRegistry } from '../registry/load.ts';
import type { Device, Registry } from '../registry/schema.ts';
import { demoSecret, isFastVerifier, verifySecret, verifySecretAsync } from '../registry/secrets.ts';
import { loadUsers } from '../users/load.ts';
import { type Config, EnvSchema, SECRET_VARIABLES } from './config.ts';
import { maskUrl } from './webhooks.ts';

export type ProblemCode =
  | 'DEFAULT_SECRET'
  | 'SHORT_SECRET'
  | 'SHARED_SECRET'
  | 'SHARED_WEBHOOK_SECRET'
  | 'ANONYMOUS_ACCESS'
  | 'DEMO_REGISTRY'
  | 'DEMO_DEVICE_SECRET'
  | 'NO_OFFICE_OPERATOR';

export interface ProductionProblem {
  code: ProblemCode;
  /** The variable(s) or file(s) to change. */
  subject: string;
  message: string;
}

export const MIN_SECRET_LENGTH = 16;

/**
 * scrypt checks of demo secrets at once, on the niced worker threads every password check uses
 * (lib/idle-scrypt.ts). Every device is checked (docs/security.md "Production mode"):
 * a generated secret's HMAC verifier in microseconds, an scrypt hash in ~26 ms of a core.
 */
const DEMO_SECRET_CONCURRENCY = 2;

const envDefaults = EnvSchema.parse({});
/** Public values: the schema's secret defaults, and what docker-compose.yml set before it required secrets. */
const SHIPPED = new Set<unknown>([
  ...[...SECRET_VARIABLES].map((name) => envDefaults[name as keyof typeof envDefaults]),
  'machi-dev-token',
  'machi-dev-password',
]);

/** Every secret this process uses, by the variable that sets it. */
function secretsInUse(config: Config): Array<[string, string]> {
  const { roles } = config.mqtt;
  const { receivers, shared } = config.alerts.webhooks;
  return [
    ['MACHI_SIGNAGE_PASSWORD', roles.signage],
    ['MACHI_OFFICE_PASSWORD', roles.office],
    ['MACHI_SERVICE_PASSWORD', roles.service],
    ['MACHI_RECORDER_PASSWORD', roles.recorder],
    ['INFLUX_TOKEN', config.influx.token],
    ...(shared.urls.length > 0 ? [['MACHI_WEBHOOK_SECRET', shared.secret] as [string, string]] : []),
    ...receivers.map(
      (r, i) => [`MACHI_WEBHOOKS[${i}] (${maskUrl(r.url)}, key ${r.keyId})`, r.secret] as [string, string],
    ),
  ];
}

/** The rules that need only the configuration. */
export function configProblems(config: Config): ProductionProblem[] {
  const problems: ProductionProblem[] = [];
  const byValue = new Map<string, string[]>();
  for (const [subject, secret] of secretsInUse(config)) {
    if (SHIPPED.has(secret))
      problems.push({
        code: 'DEFAULT_SECRET',
        subject,
        message: `is a default shipped in this repository: set a secret of your own (${MIN_SECRET_LENGTH}+ characters)`,
      });
    else if (secret.length < MIN_SECRET_LENGTH)
      problems.push({
        code: 'SHORT_SECRET',
        subject,
        message: `is shorter than ${MIN_SECRET_LENGTH} characters`,
      });
    byValue.set(secret, [...(byValue.get(secret) ?? []), subject]);
  }
  for (const subjects of byValue.values())
    if (subjects.length > 1)
      problems.push({
        code: 'SHARED_SECRET',
        subject: subjects.join(', '),
        message: 'share one value: whoever holds one can act as the others; give each its own',
      });
  if (config.alerts.webhooks.shared.urls.length > 0)
    problems.push({
      code: 'SHARED_WEBHOOK_SECRET',
      subject: 'MACHI_WEBHOOK_URLS',
      message:
        'signs for every receiver with one MACHI_WEBHOOK_SECRET (the demo form): list receivers in MACHI_WEBHOOKS, each with its own keyId and secret',
    });
  if (config.mqtt.allowAnonymousPublic)
    problems.push({
      code: 'ANONYMOUS_ACCESS',
      subject: 'MACHI_ALLOW_ANONYMOUS_PUBLIC',
      message: 'lets anyone connect without credentials: for the local demo only',
    });
  return problems;
}

/** The devices whose hash verifies against their demo secret, every one checked, scrypt off the event loop. */
async function onDemoSecret(devices: Device[]): Promise<Device[]> {
  const scrypt = new CappedQueue(DEMO_SECRET_CONCURRENCY, Number.POSITIVE_INFINITY);
  const found = await Promise.all(
    devices.map((d) =>
      isFastVerifier(d.secretHash)
        ? verifySecret(demoSecret(d.id), d.secretHash)
        : scrypt.run(
            () => verifySecretAsync(demoSecret(d.id), d.secretHash),
            () => true,
          ),
    ),
  );
  return devices.filter((_, i) => found[i] === true);
}

/** The rules on the device registry: the demo marker, and devices whose hash verifies against `demoSecret`. */
export async function registryProblems(registry: Registry): Promise<ProductionProblem[]> {
  const problems: ProductionProblem[] = [];
  const demoFiles = registry.demoFiles ?? [];
  if (demoFiles.length > 0)
    problems.push({
      code: 'DEMO_REGISTRY',
      subject: demoFiles.join(', '),
      message:
        'marked `demo: true`: the shipped demo registry, whose device secrets anyone can derive; point MACHI_DEVICES_DIR at your own registry',
    });
  const ids = (await onDemoSecret([...registry.devices.values()])).map((d) => d.id);
  if (ids.length > 0) {
    const shown =
      ids.length > 10 ? `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more` : ids.join(', ');
    problems.push({
      code: 'DEMO_DEVICE_SECRET',
      subject: `devices ${shown}`,
      message:
        'still log in with their demo secret: give each its own with `machi devices rotate-secret <id>`',
    });
  }
  return problems;
}

/**
 * Production has no shared office login (the broker refuses user `office` outside the demo): with no
 * enabled operator in the users file, nobody could acknowledge an alert.
 */
export function usersProblems(config: Config): ProductionProblem[] {
  const operators = [...loadUsers(config.usersFile).users.values()].filter(
    (u) => u.role === 'operator' && !u.disabled,
  );
  if (operators.length > 0) return [];
  return [
    {
      code: 'NO_OFFICE_OPERATOR',
      subject: config.usersFile,
      message:
        'has no enabled operator and the shared office login is for the demo only: add one with `machi users add <name> --role operator`',
    },
  ];
}

export class ProductionError extends Error {
  readonly code = 'MACHI_ERR_PRODUCTION';
  constructor(readonly problems: ProductionProblem[]) {
    super(
      `refusing to start in production mode (MACHI_MODE=demo is only for the local demo and tests):\n${problems
        .map((p) => `  - ${p.subject}: ${p.message} [${p.code}]`)
        .join('\n')}`,
    );
  }
}

/** The one check before machi's services start (src/cli/main.ts); demo mode skips it. */
export async function assertProductionReady(config: Config): Promise<void> {
  if (config.mode !== 'production') return;
  const problems = [
    ...configProblems(config),
    ...usersProblems(config),
    ...(await registryProblems(loadRegistry(config.devicesDir))),
  ];
  if (problems.length > 0) throw new ProductionError(problems);
}

// Production mode (the default) refuses every shipped or weak secret, anonymous access, the demo
// registry and demo device secrets, naming them all at once; demo mode starts with the defaults.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';
import {
  assertProductionReady,
  configProblems,
  ProductionError,
  registryProblems,
  usersProblems,
} from '../../src/config/production.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { demoSecret, generateSecret, hashGeneratedSecret, hashSecret } from '../../src/registry/secrets.ts';

/** Every secret its own, 16+ characters: the configuration production accepts. */
const STRONG = {
  MACHI_MODE: 'production',
  MACHI_SIGNAGE_PASSWORD: 'signage-7f3k2m9q4x',
  MACHI_OFFICE_PASSWORD: 'office-8d1v6n2w5z',
  MACHI_SERVICE_PASSWORD: 'service-3h9p4t7r1c',
  MACHI_RECORDER_PASSWORD: 'recorder-5j2l8s3y6b',
  INFLUX_TOKEN: 'influx-9g4e1u7i2o5a',
  MACHI_WEBHOOKS: JSON.stringify([
    { url: 'https://hooks.example.org/machi', keyId: '2026-08', secret: 'hook-4k8m2p6r9t3w' },
  ]),
};
const problemsWith = (env: Record<string, string>) =>
  configProblems(loadConfig({ ...STRONG, ...env })).map((p) => `${p.code} ${p.subject}`);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A registry holding these devices (cheap scrypt hashes unless `hash` says), without the demo marker unless `demo`. */
function registryOf(
  devices: Array<{ id: string; secret: string }>,
  hash: (secret: string) => string = (secret) => hashSecret(secret, 1024),
  demo = false,
) {
  const dir = mkdtempSync(join(tmpdir(), 'machi-production-'));
  dirs.push(dir);
  for (const f of ['areas.yaml', 'sites.yaml']) copyFileSync(join('devices', f), join(dir, f));
  const entries = devices.map(({ id, secret }) => ({
    id,
    kind: 'flood-sensor',
    vendor: 'machi-json',
    family: 'contact',
    area: 'takeo-town',
    lat: 33.19,
    lon: 130.01,
    heartbeatS: 60,
    secretHash: hash(secret),
  }));
  writeFileSync(
    join(dir, 'devices.yaml'),
    stringify(demo ? { demo, devices: entries } : { devices: entries }),
  );
  return loadRegistry(dir);
}

/** The users file with these accounts, and the problems usersProblems finds in it. */
function usersProblemsWith(users: Array<{ name: string; role: 'viewer' | 'operator'; disabled?: boolean }>) {
  const dir = mkdtempSync(join(tmpdir(), 'machi-production-users-'));
  dirs.push(dir);
  const file = join(dir, 'users.yaml');
  const entries = users.map((u) => ({ ...u, secretHash: hashSecret(generateSecret(), 1024) }));
  writeFileSync(file, stringify({ users: entries, signs: [] }));
  return usersProblems(loadConfig({ ...STRONG, MACHI_USERS_FILE: file })).map(
    (p) => `${p.code} ${p.subject}`,
  );
}

describe('production mode', () => {
  it('is the default, and accepts a configuration whose secrets are all its own', () => {
    expect(loadConfig({}).mode).toBe('production');
    expect(problemsWith({})).toEqual([]);
  });

  it.each([
    'MACHI_SIGNAGE_PASSWORD',
    'MACHI_OFFICE_PASSWORD',
    'MACHI_SERVICE_PASSWORD',
    'MACHI_RECORDER_PASSWORD',
    'INFLUX_TOKEN',
  ])('refuses the shipped default of %s', (name) => {
    const env: Record<string, string> = { ...STRONG };
    delete env[name];
    expect(configProblems(loadConfig(env)).map((p) => `${p.code} ${p.subject}`)).toEqual([
      `DEFAULT_SECRET ${name}`,
    ]);
  });

  it("refuses the shipped webhook secret, as a receiver's own or the demo's shared one", () => {
    expect(
      problemsWith({
        MACHI_WEBHOOKS: JSON.stringify([
          { url: 'https://hooks.example.org/machi', keyId: 'k1', secret: 'webhook-dev-secret' },
        ]),
      }),
    ).toEqual(['DEFAULT_SECRET MACHI_WEBHOOKS[0] (https://hooks.example.org, key k1)']);
    expect(problemsWith({ MACHI_WEBHOOK_URLS: 'https://hooks.example.org/machi' })).toEqual([
      'DEFAULT_SECRET MACHI_WEBHOOK_SECRET',
      'SHARED_WEBHOOK_SECRET MACHI_WEBHOOK_URLS',
    ]);
  });

  it('refuses a secret shorter than 16 characters', () => {
    expect(problemsWith({ MACHI_OFFICE_PASSWORD: 'fifteen-chars15' })).toEqual([
      'SHORT_SECRET MACHI_OFFICE_PASSWORD',
    ]);
  });

  it('refuses one secret shared by two roles, or by a role and a webhook receiver', () => {
    expect(problemsWith({ MACHI_SERVICE_PASSWORD: STRONG.MACHI_OFFICE_PASSWORD })).toEqual([
      'SHARED_SECRET MACHI_OFFICE_PASSWORD, MACHI_SERVICE_PASSWORD',
    ]);
    const hook = [{ url: 'https://hooks.example.org/', keyId: 'k1', secret: STRONG.INFLUX_TOKEN }];
    expect(problemsWith({ MACHI_WEBHOOKS: JSON.stringify(hook) })).toEqual([
      'SHARED_SECRET INFLUX_TOKEN, MACHI_WEBHOOKS[0] (https://hooks.example.org, key k1)',
    ]);
  });

  it('refuses anonymous access', () => {
    expect(problemsWith({ MACHI_ALLOW_ANONYMOUS_PUBLIC: 'true' })).toEqual([
      'ANONYMOUS_ACCESS MACHI_ALLOW_ANONYMOUS_PUBLIC',
    ]);
  });

  it('refuses the shipped registry: marked demo, every device on its demo secret', {
    timeout: 30_000,
  }, async () => {
    const problems = await registryProblems(loadRegistry('devices'));
    expect(problems.map((p) => p.code)).toEqual(['DEMO_REGISTRY', 'DEMO_DEVICE_SECRET']);
    expect(problems[0]?.subject).toBe('devices/cameras.yaml, devices/flood-sensors.yaml');
    expect(problems[1]?.subject).toMatch(/^devices pc-takeo-onsen-station-1, .* and 39 more$/);
  });

  it('refuses a registry marked `demo: true`, even when no device is on its demo secret', async () => {
    const registry = registryOf([{ id: 'fs-real-001', secret: generateSecret() }], hashGeneratedSecret, true);
    const problems = await registryProblems(registry);
    expect(problems.map((p) => p.code)).toEqual(['DEMO_REGISTRY']);
    expect(problems[0]?.subject).toMatch(/devices\.yaml$/);
  });

  it('refuses a users file with no enabled operator, and accepts one with an enabled operator', () => {
    const missing = join(tmpdir(), 'machi-no-such-dir', 'users.yaml');
    expect(usersProblems(loadConfig({ ...STRONG, MACHI_USERS_FILE: missing })).map((p) => p.code)).toEqual([
      'NO_OFFICE_OPERATOR',
    ]);
    for (const users of [
      [],
      [{ name: 'suzuki', role: 'viewer' as const }],
      [{ name: 'tanaka', role: 'operator' as const, disabled: true }],
    ])
      expect(usersProblemsWith(users)).toEqual([expect.stringMatching(/^NO_OFFICE_OPERATOR .*users\.yaml$/)]);
    expect(
      usersProblemsWith([
        { name: 'suzuki', role: 'viewer' },
        { name: 'tanaka', role: 'operator', disabled: true },
        { name: 'sato', role: 'operator' },
      ]),
    ).toEqual([]);
  });

  it('refuses a device still on its demo secret in a registry of its own', async () => {
    const registry = registryOf([
      { id: 'fs-real-001', secret: generateSecret() },
      { id: 'fs-real-002', secret: demoSecret('fs-real-002') },
    ]);
    expect(await registryProblems(registry)).toEqual([
      expect.objectContaining({ code: 'DEMO_DEVICE_SECRET', subject: 'devices fs-real-002' }),
    ]);
    expect(await registryProblems(registryOf([{ id: 'fs-real-001', secret: generateSecret() }]))).toEqual([]);
  });

  /** `n` devices of which those at `demoAt` are still on their demo secret. */
  const fleet = (n: number, demoAt: number[]) =>
    Array.from({ length: n }, (_, i) => {
      const id = `fs-real-${String(i).padStart(5, '0')}`;
      return { id, secret: demoAt.includes(i) ? demoSecret(id) : generateSecret() };
    });

  it('checks every device of a large registry of generated secrets, not a sample', {
    timeout: 30_000,
  }, async () => {
    // Before: 256 random devices of a larger registry were checked; these 12 were all caught about
    // once in 10^15 starts.
    const demoAt = [3, 400, 777, 1200, 1999, 2500, 2501, 3100, 3333, 4000, 4500, 4999];
    const problems = await registryProblems(registryOf(fleet(5000, demoAt), hashGeneratedSecret));
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'DEMO_DEVICE_SECRET',
        subject: `devices ${demoAt
          .slice(0, 10)
          .map((i) => `fs-real-${String(i).padStart(5, '0')}`)
          .join(', ')} and 2 more`,
      }),
    ]);
  });

  it('checks every scrypt hash of a large registry too', { timeout: 60_000 }, async () => {
    const demoAt = [0, 150, 299, 450, 600, 750, 899];
    const problems = await registryProblems(registryOf(fleet(900, demoAt), (s) => hashSecret(s, 256)));
    expect(problems.map((p) => p.subject)).toEqual([
      `devices ${demoAt.map((i) => `fs-real-${String(i).padStart(5, '0')}`).join(', ')}`,
    ]);
  });

  it('names every problem at once; demo mode checks nothing', { timeout: 30_000 }, async () => {
    const defaults = loadConfig({ MACHI_ALLOW_ANONYMOUS_PUBLIC: 'true' });
    const error = await assertProductionReady(defaults).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProductionError);
    expect((error as ProductionError).problems.map((p) => p.code)).toEqual([
      ...Array(5).fill('DEFAULT_SECRET'),
      'ANONYMOUS_ACCESS',
      'NO_OFFICE_OPERATOR',
      'DEMO_REGISTRY',
      'DEMO_DEVICE_SECRET',
    ]);
    await expect(
      assertProductionReady(loadConfig({ MACHI_MODE: 'demo', MACHI_ALLOW_ANONYMOUS_PUBLIC: 'true' })),
    ).resolves.toBeUndefined();
  });
});

// Concurrent: each spawn is a second of one core, loading the sources through tsx.
describe.concurrent('machi with no environment', { timeout: 60_000 }, () => {
  const bare = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  const machi = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        'node',
        ['bin/machi.js', ...args],
        { env: { ...bare, ...env }, encoding: 'utf8', timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      ),
    );

  it('refuses to start the broker, exit code 1, naming every problem', async () => {
    const run = await machi(['broker']);
    expect(run.status).toBe(1);
    for (const line of [
      'refusing to start in production mode',
      'MACHI_SIGNAGE_PASSWORD: is a default shipped in this repository',
      'MACHI_OFFICE_PASSWORD: is a default',
      'MACHI_SERVICE_PASSWORD: is a default',
      'MACHI_RECORDER_PASSWORD: is a default',
      'INFLUX_TOKEN: is a default',
      'devices/cameras.yaml, devices/flood-sensors.yaml: marked `demo: true`',
      'and 39 more: still log in with their demo secret',
      '[MACHI_ERR_PRODUCTION]',
    ])
      expect(run.stderr).toContain(line);
  });

  it('shows the mode in machi config', async () => {
    const [production, demo] = await Promise.all([
      machi(['config']),
      machi(['config'], { MACHI_MODE: 'demo' }),
    ]);
    expect(production.stdout).toMatch(/^MACHI_MODE +production$/m);
    expect(demo.stdout).toMatch(/^MACHI_MODE +demo$/m);
  });
});

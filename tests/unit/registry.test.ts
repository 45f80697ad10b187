import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry, RegistryError } from '../../src/registry/load.ts';
import { SecretHash } from '../../src/registry/schema.ts';
import {
  demoSecret,
  FAST_VERIFIER_MIN_BITS,
  generateSecret,
  hashGeneratedSecret,
  hashSecret,
  isFastVerifier,
  verifySecret,
  verifySecretAsync,
} from '../../src/registry/secrets.ts';

describe("Takeo's shipped registry", () => {
  const registry = loadRegistry('devices');
  const devices = [...registry.devices.values()];

  it('has at least 40 flood sensors across at least 4 areas and cameras at 6 or more sites', () => {
    const flood = devices.filter((d) => d.kind === 'flood-sensor');
    const cameras = devices.filter((d) => d.kind === 'people-counter');
    expect(flood.length).toBeGreaterThanOrEqual(40);
    expect(new Set(flood.map((d) => (d.kind === 'flood-sensor' ? d.area : ''))).size).toBeGreaterThanOrEqual(
      4,
    );
    expect(
      new Set(cameras.map((d) => (d.kind === 'people-counter' ? d.site : ''))).size,
    ).toBeGreaterThanOrEqual(6);
    expect(flood.some((d) => d.kind === 'flood-sensor' && d.family === 'radio')).toBe(true);
    expect(new Set(devices.map((d) => d.vendor))).toEqual(new Set(['machi-json', 'lpwa-hex', 'gateway-csv']));
  });

  it('has signage at the station, the tourism hall and City Hall', () => {
    const signs = [...registry.sites.values()].filter((s) => s.signage).map((s) => s.id);
    expect(signs.sort()).toEqual(['city-hall', 'takeo-onsen-station', 'tourism-hall']);
  });

  it('stores only hashes, which the demo secrets verify', () => {
    const device = registry.devices.get('fs-takeo-001');
    expect(device?.secretHash).toMatch(/^scrypt\$/);
    expect(verifySecret(demoSecret('fs-takeo-001'), device?.secretHash ?? '')).toBe(true);
    expect(verifySecret(demoSecret('fs-takeo-002'), device?.secretHash ?? '')).toBe(false);
  });
});

describe('registry errors', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'machi-registry-'));
  const hash = hashSecret('x-secret-123');

  it('name the file, the device and the field', () => {
    const d = dir();
    writeFileSync(
      join(d, 'areas.yaml'),
      'areas:\n  - { id: town, name: { ja: 町, en: Town }, lat: 33.19, lon: 130.02 }\n',
    );
    writeFileSync(
      join(d, 'sensors.yaml'),
      `devices:\n  - { id: fs-bad-1, kind: flood-sensor, vendor: machi-json, family: contact, area: town, lat: 33.1, lon: 130, heartbeatS: 60, stagesCm: [20, 10], secretHash: "${hash}" }\n  - { id: fs-bad-2, kind: flood-sensor, vendor: machi-json, family: wet, area: town, lat: 33.1, lon: 130, heartbeatS: 60, secretHash: "${hash}" }\n`,
    );
    const error = (() => {
      try {
        loadRegistry(d);
      } catch (err) {
        return err as RegistryError;
      }
    })();
    expect(error).toBeInstanceOf(RegistryError);
    expect(error?.problems.join('\n')).toContain(
      `${join(d, 'sensors.yaml')}: device fs-bad-1: stagesCm: stagesCm must be ascending`,
    );
    expect(error?.problems.join('\n')).toContain(`${join(d, 'sensors.yaml')}: device fs-bad-2: family:`);
  });

  it('report unknown areas and duplicate ids across files', () => {
    const d = dir();
    const sensor = `{ id: fs-1, kind: flood-sensor, vendor: lpwa-hex, family: radio, area: nowhere, lat: 33.1, lon: 130, heartbeatS: 60, secretHash: "${hash}" }`;
    writeFileSync(join(d, 'a.yaml'), `devices:\n  - ${sensor}\n`);
    writeFileSync(join(d, 'b.yaml'), `devices:\n  - ${sensor}\n`);
    expect(() => loadRegistry(d)).toThrow(/devices id fs-1 is also defined in .*a\.yaml/);
    expect(() => loadRegistry(d)).toThrow(/device fs-1: area: unknown area "nowhere"/);
  });
});

describe('secrets', () => {
  it('hash with a fresh salt each time and verify only the right secret', () => {
    const secret = generateSecret();
    const [a, b] = [hashSecret(secret), hashSecret(secret)];
    expect(a).not.toBe(b);
    expect(verifySecret(secret, a)).toBe(true);
    expect(verifySecret(`${secret}x`, a)).toBe(false);
    expect(verifySecret(secret, 'scrypt$1$1$1$$')).toBe(false);
    expect(verifySecret(secret, 'plain-text')).toBe(false);
  });

  it('store a generated secret of 128+ random bits with the fast verifier, salted, checked both ways', async () => {
    const secret = generateSecret();
    const [a, b] = [hashGeneratedSecret(secret), hashGeneratedSecret(secret)];
    expect(a).toMatch(/^hmac-sha256\$/);
    expect(a).not.toBe(b);
    expect(SecretHash.safeParse(a).success).toBe(true);
    expect(isFastVerifier(a)).toBe(true);
    expect(verifySecret(secret, a)).toBe(true);
    expect(await verifySecretAsync(secret, a)).toBe(true);
    expect(verifySecret(`${secret}x`, a)).toBe(false);
    expect(await verifySecretAsync(secret.slice(1), a)).toBe(false);
    // Truncated or empty fields never verify (nor throw).
    expect(verifySecret(secret, a.slice(0, -8))).toBe(false);
    expect(verifySecret(secret, 'hmac-sha256$$')).toBe(false);
  });

  it('keep scrypt for a secret of fewer random bits, and read the scrypt format as before', async () => {
    const weak = hashGeneratedSecret('short-pin-1234', FAST_VERIFIER_MIN_BITS - 1);
    expect(weak).toMatch(/^scrypt\$16384\$/);
    expect(isFastVerifier(weak)).toBe(false);
    expect(await verifySecretAsync('short-pin-1234', weak)).toBe(true);
    const old = hashSecret('x-secret-123', 1024);
    expect(SecretHash.safeParse(old).success).toBe(true);
    expect(await verifySecretAsync('x-secret-123', old)).toBe(true);
    expect(await verifySecretAsync('x-secret-124', old)).toBe(false);
  });
});

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addDevice, RegistryEditError, rotateSecret } from '../../src/registry/edit.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { demoSecret, verifySecret } from '../../src/registry/secrets.ts';

const copy = () => {
  const dir = mkdtempSync(join(tmpdir(), 'machi-devices-'));
  cpSync('devices', dir, { recursive: true });
  return dir;
};
const sensor = {
  id: 'fs-asahi-100',
  kind: 'flood-sensor',
  vendor: 'lpwa-hex',
  family: 'radio',
  area: 'asahi',
  lat: 33.17,
  lon: 130.05,
  heartbeatS: 300,
  stagesCm: [10, 40],
};

describe('machi devices (registry edits)', () => {
  it('adds a device with a fresh secret, keeping comments and other entries', () => {
    const dir = copy();
    const { secret, file } = addDevice(dir, sensor);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# Takeo City flood sensors')).toBe(true);
    expect(text).not.toContain(secret);
    const registry = loadRegistry(dir);
    expect(registry.devices.size).toBe(loadRegistry('devices').devices.size + 1);
    const hash = registry.devices.get('fs-asahi-100')?.secretHash ?? '';
    expect(verifySecret(secret, hash)).toBe(true);
    // A generated secret (144 random bits) gets the fast verifier: no scrypt at each login.
    expect(hash).toMatch(/^hmac-sha256\$/);
  });

  it('refuses duplicates, unknown areas and invalid fields', () => {
    const dir = copy();
    expect(() => addDevice(dir, { ...sensor, id: 'fs-takeo-001' })).toThrow(RegistryEditError);
    expect(() => addDevice(dir, { ...sensor, area: 'atlantis' })).toThrow(/unknown area "atlantis"/);
    expect(() => addDevice(dir, { ...sensor, family: 'wet' })).toThrow(/family/);
  });

  it('rotates a secret: the old one stops working, the new one works', () => {
    const dir = copy();
    const { secret } = rotateSecret(dir, 'fs-takeo-001');
    const hash = loadRegistry(dir).devices.get('fs-takeo-001')?.secretHash ?? '';
    expect(verifySecret(secret, hash)).toBe(true);
    expect(verifySecret(demoSecret('fs-takeo-001'), hash)).toBe(false);
    expect(hash).toMatch(/^hmac-sha256\$/);
  });

  // Two CLI processes, each compiling TypeScript at start: seconds on a busy 2-core machine.
  it('prints the secret once from the CLI', { timeout: 30_000 }, () => {
    const dir = copy();
    const out = spawnSync(
      'node',
      ['bin/machi.js', 'devices', 'rotate-secret', 'pc-library-1', '--dir', dir],
      { encoding: 'utf8' },
    );
    expect(out.status).toBe(0);
    const secret = out.stdout.trim().split(' ').at(-1) ?? '';
    expect(verifySecret(secret, loadRegistry(dir).devices.get('pc-library-1')?.secretHash ?? '')).toBe(true);
    const list = spawnSync('node', ['bin/machi.js', 'devices', 'list', '--dir', dir], { encoding: 'utf8' });
    expect(list.stdout).toContain('pc-library-1\tpeople-counter\tmachi-json\t-\tlibrary\t600');
    expect(list.stdout).not.toContain(secret);
  });
});

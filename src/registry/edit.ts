// Writes to the registry files with yaml's Document API, so comments and other entries survive;
// atomically, since a running broker reloads them as they change, and under one lock for the
// folder, since an edit reads the whole registry (ids are unique across its files).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { writeFileAtomic } from '../lib/atomic-write.ts';
import { withFileLock } from '../lib/file-lock.ts';
import { loadRegistry } from './load.ts';
import { Device } from './schema.ts';
import { generateSecret, hashGeneratedSecret } from './secrets.ts';

export class RegistryEditError extends Error {
  readonly code = 'MACHI_ERR_REGISTRY_EDIT';
}

/** Not a registry file (the loader reads only *.yaml and *.json). */
const lockOf = (dir: string) => join(dir, '.machi-edit.lock');

function deviceEntries(file: string) {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const seq = doc.get('devices');
  return { doc, items: isSeq(seq) ? (seq.items.filter(isMap) as YAMLMap[]) : [] };
}

/** Validates the new device against the schema and the rest of the registry; returns its secret once. */
export function addDevice(
  dir: string,
  fields: Record<string, unknown>,
  fileName?: string,
): { secret: string; file: string } {
  return withFileLock(lockOf(dir), () => addDeviceLocked(dir, fields, fileName));
}

function addDeviceLocked(
  dir: string,
  fields: Record<string, unknown>,
  fileName: string | undefined,
): { secret: string; file: string } {
  const registry = loadRegistry(dir);
  const secret = generateSecret();
  const parsed = Device.safeParse({ ...fields, secretHash: hashGeneratedSecret(secret) });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(device)'}: ${i.message}`);
    throw new RegistryEditError(`device ${String(fields.id)} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
  const device = parsed.data;
  if (registry.devices.has(device.id)) throw new RegistryEditError(`device ${device.id} already exists`);
  if (device.kind === 'flood-sensor' && !registry.areas.has(device.area)) {
    throw new RegistryEditError(`device ${device.id}: unknown area "${device.area}"`);
  }
  if (device.kind === 'people-counter' && !registry.sites.has(device.site)) {
    throw new RegistryEditError(`device ${device.id}: unknown site "${device.site}"`);
  }
  const file = join(
    dir,
    fileName ?? (device.kind === 'flood-sensor' ? 'flood-sensors.yaml' : 'cameras.yaml'),
  );
  const { doc } = deviceEntries(file);
  if (!isSeq(doc.get('devices'))) doc.set('devices', doc.createNode([]));
  doc.addIn(['devices'], doc.createNode(device));
  writeFileAtomic(file, doc.toString());
  return { secret, file };
}

/** Changes the entry of `deviceId` in whichever registry file holds it; returns that file. */
function editDevice(dir: string, deviceId: string, change: (entry: YAMLMap) => void): string {
  return withFileLock(lockOf(dir), () => {
    for (const name of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
      const file = join(dir, name);
      const { doc, items } = deviceEntries(file);
      const entry = items.find((item) => item.get('id') === deviceId);
      if (!entry) continue;
      change(entry);
      writeFileAtomic(file, doc.toString());
      return file;
    }
    throw new RegistryEditError(`no device "${deviceId}" in ${dir}`);
  });
}

export function rotateSecret(dir: string, deviceId: string): { secret: string; file: string } {
  const secret = generateSecret();
  const file = editDevice(dir, deviceId, (entry) => entry.set('secretHash', hashGeneratedSecret(secret)));
  return { secret, file };
}

export function setDeviceDisabled(dir: string, deviceId: string, disabled: boolean): string {
  return editDevice(dir, deviceId, (entry) =>
    disabled ? entry.set('disabled', true) : entry.delete('disabled'),
  );
}

// Changes to the users file, each validated and written atomically (a watching broker reloads it).
// A new secret is returned once; only its hash is stored.
import { stringify } from 'yaml';
import { writeFileAtomic } from '../lib/atomic-write.ts';
import { generateSecret, hashGeneratedSecret, hashSecret } from '../registry/secrets.ts';
import { readUsersFile, UsersError } from './load.ts';
import { type OfficeRole, UserEntry, UsersFile } from './schema.ts';

function save(file: string, data: UsersFile): void {
  writeFileAtomic(
    file,
    `# machi users and signs: password and token verifiers only (machi users / machi signs)\n${stringify(UsersFile.parse(data))}`,
  );
}

function findUser(data: UsersFile, name: string): UserEntry {
  const user = data.users.find((u) => u.name === name);
  if (!user) throw new UsersError(`no user "${name}"`);
  return user;
}

/** `secret` given (read from stdin) or generated; returned so a generated one is shown once. */
export function addUser(file: string, name: string, role: OfficeRole, secret = generateSecret()): string {
  const data = readUsersFile(file);
  if (data.users.some((u) => u.name === name)) throw new UsersError(`user "${name}" already exists`);
  const parsed = UserEntry.safeParse({ name, role, secretHash: hashSecret(secret) });
  if (!parsed.success)
    throw new UsersError(`user ${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  data.users.push(parsed.data);
  save(file, data);
  return secret;
}

export function setUserDisabled(file: string, name: string, disabled: boolean): void {
  const data = readUsersFile(file);
  findUser(data, name).disabled = disabled;
  save(file, data);
}

export function setUserSecret(file: string, name: string, secret = generateSecret()): string {
  const data = readUsersFile(file);
  findUser(data, name).secretHash = hashSecret(secret);
  save(file, data);
  return secret;
}

/** A new token for the sign at `site`, replacing any it had (the old one stops working). */
export function provisionSign(file: string, site: string): string {
  const data = readUsersFile(file);
  const token = generateSecret();
  data.signs = [
    ...data.signs.filter((s) => s.site !== site),
    { site, secretHash: hashGeneratedSecret(token) },
  ];
  save(file, data);
  return token;
}

export function revokeSign(file: string, site: string): void {
  const data = readUsersFile(file);
  if (!data.signs.some((s) => s.site === site)) throw new UsersError(`no credential for sign "${site}"`);
  data.signs = data.signs.filter((s) => s.site !== site);
  save(file, data);
}

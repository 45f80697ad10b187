// Changes to the users file, each validated and written atomically (a watching broker reloads it),
// under a lock so that two edits at once both land. A new secret is returned once; only its hash
// is stored.
import { stringify } from 'yaml';
import { writeFileAtomic } from '../lib/atomic-write.ts';
import { withFileLock } from '../lib/file-lock.ts';
import { generateSecret, hashGeneratedSecret, hashSecret } from '../registry/secrets.ts';
import { readUsersFile, UsersError } from './load.ts';
import { type OfficeRole, UserEntry, UsersFile } from './schema.ts';

/** Reads the file, applies `change` and writes the result, with no other edit in between. */
function update<T>(file: string, change: (data: UsersFile) => T): T {
  return withFileLock(`${file}.lock`, () => {
    const data = readUsersFile(file);
    const result = change(data);
    writeFileAtomic(
      file,
      `# machi users and signs: password and token verifiers only (machi users / machi signs)\n${stringify(UsersFile.parse(data))}`,
    );
    return result;
  });
}

function findUser(data: UsersFile, name: string): UserEntry {
  const user = data.users.find((u) => u.name === name);
  if (!user) throw new UsersError(`no user "${name}"`);
  return user;
}

/** `secret` given (read from stdin) or generated; returned so a generated one is shown once. */
export function addUser(file: string, name: string, role: OfficeRole, secret = generateSecret()): string {
  // scrypt before the lock: other edits need not wait for it.
  const parsed = UserEntry.safeParse({ name, role, secretHash: hashSecret(secret) });
  if (!parsed.success)
    throw new UsersError(`user ${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  update(file, (data) => {
    if (data.users.some((u) => u.name === name)) throw new UsersError(`user "${name}" already exists`);
    data.users.push(parsed.data);
  });
  return secret;
}

export function setUserDisabled(file: string, name: string, disabled: boolean): void {
  update(file, (data) => {
    findUser(data, name).disabled = disabled;
  });
}

export function setUserSecret(file: string, name: string, secret = generateSecret()): string {
  const secretHash = hashSecret(secret);
  update(file, (data) => {
    findUser(data, name).secretHash = secretHash;
  });
  return secret;
}

/** A new token for the sign at `site`, replacing any it had (the old one stops working). */
export function provisionSign(file: string, site: string): string {
  const token = generateSecret();
  update(file, (data) => {
    data.signs = [
      ...data.signs.filter((s) => s.site !== site),
      { site, secretHash: hashGeneratedSecret(token) },
    ];
  });
  return token;
}

export function revokeSign(file: string, site: string): void {
  update(file, (data) => {
    if (!data.signs.some((s) => s.site === site)) throw new UsersError(`no credential for sign "${site}"`);
    data.signs = data.signs.filter((s) => s.site !== site);
  });
}

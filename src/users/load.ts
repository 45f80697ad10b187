// Reads the users file. A missing file is an empty one (no accounts yet); an invalid one is refused
// whole, naming each problem, so a broken edit never half-applies.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type Users, UsersFile } from './schema.ts';

export class UsersError extends Error {
  readonly code = 'MACHI_ERR_USERS';
}

export function readUsersFile(file: string): UsersFile {
  if (!existsSync(file)) return { users: [], signs: [] };
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsersError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = UsersFile.safeParse(raw ?? {});
  if (!parsed.success)
    throw new UsersError(
      `invalid users file:\n${parsed.error.issues.map((i) => `  - ${file}: ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  return parsed.data;
}

export function loadUsers(file: string): Users {
  const data = readUsersFile(file);
  return {
    users: new Map(data.users.map((u) => [u.name, u])),
    signs: new Map(data.signs.map((s) => [s.site, s])),
  };
}

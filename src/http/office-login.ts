// Who is calling the office's HTTP routes (the console's API and the ack API): a named user from
// the users file by HTTP Basic, or in demo mode the shared `office` login. And the CSRF guard: a
// browser remembers Basic credentials, so a state-changing request must be one that a page on
// another site cannot make without a CORS preflight (which machi never grants).
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/config.ts';
import { sameSecret, verifySecretAsync } from '../registry/secrets.ts';
import { ROLE_USERS } from '../schemas/topics.ts';
import { loadUsers } from '../users/load.ts';
import type { OfficeRole } from '../users/schema.ts';
import { basicCredentials } from './basic-auth.ts';

export interface OfficeUser {
  name: string;
  role: OfficeRole;
}

/** The authenticated office user, or undefined. Reads the users file each time: always current. */
export async function officeLogin(req: IncomingMessage, config: Config): Promise<OfficeUser | undefined> {
  const auth = basicCredentials(req);
  if (!auth) return undefined;
  if (auth.user === ROLE_USERS.office)
    return config.mode === 'demo' && sameSecret(auth.password, config.mqtt.roles.office)
      ? { name: ROLE_USERS.office, role: 'operator' }
      : undefined;
  const user = loadUsers(config.usersFile).users.get(auth.user);
  if (!user || user.disabled || !(await verifySecretAsync(auth.password, user.secretHash))) return undefined;
  return { name: user.name, role: user.role };
}

/**
 * Why a state-changing request is refused as possibly cross-site, or undefined: it must be JSON
 * (a form cannot send that content type) and, when the browser names an origin, the same host.
 */
export function crossSiteRefusal(req: IncomingMessage): string | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return 'content-type: application/json is required';
  if (req.headers['sec-fetch-site'] === 'cross-site') return 'cross-site request';
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  try {
    if (new URL(origin).host === req.headers.host) return undefined;
  } catch {}
  return `origin ${origin} is not this site`;
}

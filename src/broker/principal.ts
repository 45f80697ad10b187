// Who is on the other end of an MQTT connection, decided once at CONNECT by auth.ts.
import type { Client } from 'aedes';
import type { Device } from '../registry/schema.ts';
import type { OfficeRole } from '../users/schema.ts';

/**
 * `credential` is the stored hash a sign or office user logged in against (undefined: the demo's
 * shared role password), so a reload can tell a rotated, revoked or disabled login (auth.ts).
 */
export type Principal =
  | { role: 'device'; device: Device }
  | { role: 'signage'; siteId: string | undefined; credential?: string }
  | { role: 'office'; user: string; officeRole: OfficeRole; credential?: string }
  | { role: 'service' | 'recorder' | 'anonymous' };

export type Role = Principal['role'];

const principals = new WeakMap<Client, Principal>();

export function setPrincipal(client: Client, principal: Principal): void {
  principals.set(client, principal);
}

export function principalOf(client: Client | null | undefined): Principal | undefined {
  return client ? principals.get(client) : undefined;
}

// Who is on the other end of an MQTT connection, decided once at CONNECT by auth.ts.
import type { Client } from 'aedes';
import type { Device } from '../registry/schema.ts';

export type Principal =
  | { role: 'device'; device: Device }
  | { role: 'signage'; siteId: string | undefined }
  | { role: 'office' | 'service' | 'recorder' | 'anonymous' };

export type Role = Principal['role'];

const principals = new WeakMap<Client, Principal>();

export function setPrincipal(client: Client, principal: Principal): void {
  principals.set(client, principal);
}

export function principalOf(client: Client | null | undefined): Principal | undefined {
  return client ? principals.get(client) : undefined;
}

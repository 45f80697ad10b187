// Client ids bound to identities. A client id names a session: MQTT lets a CONNECT with the same id
// take over the connection and its queued messages. So an id that names a registry device belongs
// to that device, always (no memory that could be filled up and evicted): the device's own id, or
// its id followed by a separator and anything (`fs-takeo-001-x`, `fs-takeo-001@ex`), optionally
// behind one short tool prefix (`drill-<id>@<exercise>`, `sim-<id>`, `load-<id>`). When several
// devices could match, the id without a prefix and then the longest device id wins, so each client
// id has exactly one owning device. Devices may use only client ids they own; other principals only
// ids no device owns, first come first served among them (that memory is bounded). Such an id is
// owned by the person or sign (`office:<user>`, `signage:<site>`), never by a whole role, so one
// office user cannot take over another's console.
import type { Registry } from '../registry/schema.ts';
import type { Principal } from './principal.ts';

const SEPARATORS = new Set(['-', '_', '.', '@', ':', '/']);
/** One tool prefix before a device id: lowercase letters and digits, then a dash. */
const TOOL_PREFIX = /^[a-z][a-z0-9]{0,15}-/;
/** Non-device owners remembered; the oldest are forgotten beyond this. */
const MAX_REMEMBERED = 100_000;

/** The longest registry device id that `s` is, or starts with followed by a separator. */
function deviceAt(s: string, registry: Registry): string | undefined {
  if (registry.devices.has(s)) return s;
  for (let i = s.length - 1; i > 0; i--) {
    if (SEPARATORS.has(s[i] as string) && registry.devices.has(s.slice(0, i))) return s.slice(0, i);
  }
  return undefined;
}

/** The registry device a client id belongs to, if any. */
export function deviceOwningClientId(clientId: string, registry: Registry): string | undefined {
  const own = deviceAt(clientId, registry);
  if (own !== undefined) return own;
  const prefix = TOOL_PREFIX.exec(clientId)?.[0];
  return prefix ? deviceAt(clientId.slice(prefix.length), registry) : undefined;
}

function ownerOf(p: Principal): string {
  if (p.role === 'signage') return `signage:${p.siteId ?? ''}`;
  if (p.role === 'office') return `office:${p.user}`;
  return p.role;
}

export function clientIdBinding(registry: Registry) {
  const others = new Map<string, string>();
  return {
    /** May `principal` connect with `clientId`? Remembers non-device owners (anonymous: checked only). */
    claim(clientId: string, principal: Principal): boolean {
      const device = deviceOwningClientId(clientId, registry);
      if (principal.role === 'device') return device === principal.device.id;
      if (device !== undefined) return false;
      const owner = others.get(clientId);
      if (owner !== undefined) return owner === ownerOf(principal);
      if (principal.role !== 'anonymous') {
        if (others.size >= MAX_REMEMBERED) others.delete(others.keys().next().value as string);
        others.set(clientId, ownerOf(principal));
      }
      return true;
    },
  };
}

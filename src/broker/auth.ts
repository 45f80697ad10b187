// The authenticate hook: devices by id + secret against the registry, other roles by the
// passwords in config. Refusals are logged with a reason code, never with the secret.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthenticateError, Client } from 'aedes';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/schema.ts';
import { sameSecret, verifySecret } from '../registry/secrets.ts';
import { type Principal, setPrincipal } from './principal.ts';

export type AuthFailure =
  | 'BAD_CREDENTIALS'
  | 'UNKNOWN_USER'
  | 'ANONYMOUS_REFUSED'
  | 'UNKNOWN_SIGN'
  | 'CLIENT_ID_TAKEN';

/** MQTT 3.1.1 CONNACK codes: 2 identifier rejected, 4 bad user name or password, 5 not authorized. */
const RETURN_CODE: Record<AuthFailure, number> = {
  BAD_CREDENTIALS: 4,
  UNKNOWN_USER: 4,
  ANONYMOUS_REFUSED: 5,
  UNKNOWN_SIGN: 5,
  CLIENT_ID_TAKEN: 2,
};

/** Client ids remembered with their owner; the oldest are forgotten beyond this. */
const MAX_REMEMBERED_CLIENT_IDS = 100_000;

const ownerOf = (p: Principal) =>
  p.role === 'device' ? `device:${p.device.id}` : p.role === 'signage' ? `signage:${p.siteId ?? ''}` : p.role;

export const ROLE_USERS = {
  office: 'office',
  service: 'machi-service',
  recorder: 'recorder',
  signage: 'signage',
} as const;

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface Authenticator {
  authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: AuthenticateError | null, ok: boolean | null) => void,
  ): void;
}

export function createAuthenticator(
  config: Config,
  registry: Registry,
  log: Logger,
  onFailure: (reason: AuthFailure) => void,
): Authenticator {
  // scrypt costs ~50 ms; a device that reconnects with the secret it used before skips it.
  const verified = new Map<string, Buffer>();
  // A client id names a session: MQTT lets a CONNECT with the same id take over the connection and
  // its queued messages. Only the principal that first used an id may use it again, so one device
  // cannot kick another off or receive its queued config. Anonymous clients are checked, not remembered.
  const clientIdOwners = new Map<string, string>();

  function claimClientId(clientId: string, principal: Principal): boolean {
    const owner = clientIdOwners.get(clientId);
    if (owner !== undefined && owner !== ownerOf(principal)) return false;
    if (owner === undefined && principal.role !== 'anonymous') {
      if (clientIdOwners.size >= MAX_REMEMBERED_CLIENT_IDS)
        clientIdOwners.delete(clientIdOwners.keys().next().value as string);
      clientIdOwners.set(clientId, ownerOf(principal));
    }
    return true;
  }

  function identify(username: string | undefined, secret: string): Principal | AuthFailure {
    if (username === undefined)
      return config.mqtt.allowAnonymousPublic ? { role: 'anonymous' } : 'ANONYMOUS_REFUSED';
    const roles = config.mqtt.roles;
    if (username === ROLE_USERS.office)
      return sameSecret(secret, roles.office) ? { role: 'office' } : 'BAD_CREDENTIALS';
    if (username === ROLE_USERS.service)
      return sameSecret(secret, roles.service) ? { role: 'service' } : 'BAD_CREDENTIALS';
    if (username === ROLE_USERS.recorder)
      return sameSecret(secret, roles.recorder) ? { role: 'recorder' } : 'BAD_CREDENTIALS';
    if (username === ROLE_USERS.signage || username.startsWith(`${ROLE_USERS.signage}/`)) {
      if (!sameSecret(secret, roles.signage)) return 'BAD_CREDENTIALS';
      const siteId = username.split('/')[1];
      if (siteId !== undefined && !registry.sites.get(siteId)?.signage) return 'UNKNOWN_SIGN';
      return { role: 'signage', siteId };
    }
    const device = registry.devices.get(username);
    if (!device) return 'UNKNOWN_USER';
    const known = verified.get(device.id);
    if (known && timingSafeEqual(known, digest(secret))) return { role: 'device', device };
    if (!verifySecret(secret, device.secretHash)) return 'BAD_CREDENTIALS';
    verified.set(device.id, digest(secret));
    return { role: 'device', device };
  }

  return {
    authenticate(client, username, password, done) {
      const identified = identify(username, password?.toString('utf8') ?? '');
      const result =
        typeof identified === 'string' || claimClientId(client.id, identified)
          ? identified
          : 'CLIENT_ID_TAKEN';
      if (typeof result === 'string') {
        onFailure(result);
        log.warn({ clientId: client.id, username, reason: result }, 'connection refused');
        const err = new Error(`connection refused: ${result}`) as AuthenticateError;
        err.returnCode = RETURN_CODE[result];
        done(err, null);
        return;
      }
      setPrincipal(client, result);
      done(null, true);
    },
  };
}

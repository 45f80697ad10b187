// The authenticate hook: devices by id + secret against the registry, other roles by the
// passwords in config. Refusals are logged with a reason code, never with the secret.
//
// The doors (issue 21): a connect-rate cap; bans from failure budgets (bans.ts) checked before any
// password; scrypt on libuv's threadpool, a few at a time, with a bounded queue (full: CONNACK 3);
// client ids bound to identities (client-ids.ts); persistent sessions only for devices and services.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthenticateError, Client } from 'aedes';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/schema.ts';
import { sameSecret, verifySecretAsync } from '../registry/secrets.ts';
import { type BanScope, Bans } from './bans.ts';
import { clientIdBinding } from './client-ids.ts';
import { CappedQueue, TokenBucket } from './door-limits.ts';
import { type Principal, setPrincipal } from './principal.ts';

export type AuthFailure =
  | 'BAD_CREDENTIALS'
  | 'UNKNOWN_USER'
  | 'ANONYMOUS_REFUSED'
  | 'UNKNOWN_SIGN'
  | 'CLIENT_ID_TAKEN'
  | 'BANNED'
  | 'SERVER_BUSY'
  | 'PERSISTENT_SESSION_REFUSED';

/**
 * MQTT 3.1.1 CONNACK codes: 2 identifier rejected, 3 server unavailable, 4 bad user name or
 * password, 5 not authorized.
 */
const RETURN_CODE: Record<AuthFailure, number> = {
  BAD_CREDENTIALS: 4,
  UNKNOWN_USER: 4,
  ANONYMOUS_REFUSED: 5,
  UNKNOWN_SIGN: 5,
  CLIENT_ID_TAKEN: 2,
  BANNED: 5,
  SERVER_BUSY: 3,
  PERSISTENT_SESSION_REFUSED: 2,
};

/** Failures that spend the source address's budget (guessing, scanning). */
const COUNTS_FOR_ADDRESS = new Set<AuthFailure>(['BAD_CREDENTIALS', 'UNKNOWN_USER', 'ANONYMOUS_REFUSED']);
/** Roles whose sessions are always clean: their queues would grow for nobody. */
const CLEAN_ONLY = new Set<Principal['role']>(['signage', 'office', 'anonymous']);

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

export interface AuthEvents {
  onFailure(reason: AuthFailure): void;
  /** A login refused because of a ban in force. */
  onBanned(scope: BanScope): void;
  /** A ban started. */
  onBan(scope: BanScope): void;
}

export function createAuthenticator(
  config: Config,
  registry: Registry,
  log: Logger,
  events: AuthEvents,
  /** The client's source address (as the listener saw it). */
  addressOf: (client: Client) => string,
): Authenticator {
  const doors = config.mqtt.limits;
  // A device that reconnects with the secret it used before skips scrypt (bounded by the registry).
  const verified = new Map<string, Buffer>();
  const clientIds = clientIdBinding(registry);
  const bans = new Bans(doors.bans);
  const connectRate = new TokenBucket(doors.connectRate, doors.connectBurst);
  const checks = new CappedQueue(doors.authConcurrency, doors.authQueue);

  type Identified = Principal | AuthFailure;

  function identifyRole(username: string, secret: string): Identified | undefined {
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
    return undefined;
  }

  /** Synchronous answer, or a promise when scrypt must run (undefined: the queue is full). */
  function identify(
    client: Client,
    ip: string,
    username: string | undefined,
    secret: string,
  ): Identified | Promise<Identified> {
    if (username === undefined)
      return config.mqtt.allowAnonymousPublic ? { role: 'anonymous' } : 'ANONYMOUS_REFUSED';
    const role = identifyRole(username, secret);
    if (role !== undefined) return role;
    const device = registry.devices.get(username);
    if (!device) return 'UNKNOWN_USER';
    const presented = digest(secret);
    const known = verified.get(device.id);
    if (known && timingSafeEqual(known, presented)) return { role: 'device', device };
    const check = checks.run(
      () => verifySecretAsync(secret, device.secretHash),
      // Skipped once its turn comes if the client left or a ban started meanwhile.
      () => !client.closed && bans.banned(ip, username) === undefined,
    );
    if (!check) return 'SERVER_BUSY';
    return check.then((ok): Identified => {
      if (ok === 'skipped') return client.closed ? 'SERVER_BUSY' : 'BANNED';
      if (!ok) return 'BAD_CREDENTIALS';
      verified.set(device.id, presented);
      return { role: 'device', device };
    });
  }

  function finish(
    client: Client,
    ip: string,
    username: string | undefined,
    identified: Identified,
    done: (err: AuthenticateError | null, ok: boolean | null) => void,
  ) {
    let result = identified;
    if (typeof result !== 'string') {
      if (CLEAN_ONLY.has(result.role) && client.clean === false) result = 'PERSISTENT_SESSION_REFUSED';
      else if (!clientIds.claim(client.id, result)) result = 'CLIENT_ID_TAKEN';
    }
    if (typeof result === 'string') {
      if (result === 'BANNED') events.onBanned(bans.banned(ip, username) ?? 'ip');
      if (COUNTS_FOR_ADDRESS.has(result)) {
        for (const scope of bans.fail(ip, username, result === 'BAD_CREDENTIALS')) {
          events.onBan(scope);
          log.warn({ ip, username: scope === 'user' ? username : undefined, scope }, 'login ban started');
        }
      }
      events.onFailure(result);
      log[result === 'BANNED' ? 'debug' : 'warn'](
        { clientId: client.id, username, ip, reason: result },
        'connection refused',
      );
      const err = new Error(`connection refused: ${result}`) as AuthenticateError;
      err.returnCode = RETURN_CODE[result];
      done(err, null);
      return;
    }
    bans.succeed(ip, username);
    setPrincipal(client, result);
    done(null, true);
  }

  return {
    authenticate(client, username, password, done) {
      const ip = addressOf(client);
      // A banned address costs no token: its refusals must not crowd out others' logins.
      const early: Identified | undefined = bans.banned(ip, username)
        ? 'BANNED'
        : !connectRate.take()
          ? 'SERVER_BUSY'
          : undefined;
      const identified = early ?? identify(client, ip, username, password?.toString('utf8') ?? '');
      if (!(identified instanceof Promise)) return finish(client, ip, username, identified, done);
      identified.then(
        (r) => finish(client, ip, username, r, done),
        (err) => {
          log.error({ err, clientId: client.id }, 'password check failed');
          finish(client, ip, username, 'SERVER_BUSY', done);
        },
      );
    },
  };
}

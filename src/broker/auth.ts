// The authenticate hook: devices by id + secret against the registry; office staff (`office/<name>`)
// and signs (`signage/<site>`) against the users file; services by the passwords in config (and,
// in demo mode only, the shared `office` and `signage` passwords). Refusals are logged with a
// reason code, never with the secret.
//
// The doors (issue 21): a connect-rate cap; bans from failure budgets (lib/failure-budget.ts) checked before any
// password; scrypt on niced worker threads (lib/idle-scrypt.ts), a few at a time, with a bounded queue (full: CONNACK 3);
// the fast verifier of a generated secret (registry/secrets.ts) checked at once, with no queue;
// client ids bound to identities (client-ids.ts); persistent sessions only for devices and services.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthenticateError, Client } from 'aedes';
import type { Config } from '../config/config.ts';
import { CappedQueue } from '../lib/capped-queue.ts';
import { type BanScope, Bans } from '../lib/failure-budget.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/schema.ts';
import { isFastVerifier, sameSecret, verifySecret, verifySecretAsync } from '../registry/secrets.ts';
import { ROLE_USERS } from '../schemas/topics.ts';
import type { Users } from '../users/schema.ts';
import { clientIdBinding } from './client-ids.ts';
import { TokenBucket } from './door-limits.ts';
import { type Principal, setPrincipal } from './principal.ts';

export type AuthFailure =
  | 'BAD_CREDENTIALS'
  | 'UNKNOWN_USER'
  | 'ANONYMOUS_REFUSED'
  | 'UNKNOWN_SIGN'
  | 'CLIENT_ID_TAKEN'
  | 'BANNED'
  | 'SERVER_BUSY'
  | 'PERSISTENT_SESSION_REFUSED'
  | 'SHARED_LOGIN_REFUSED';

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
  SHARED_LOGIN_REFUSED: 5,
};

/** Failures that spend the source address's budget (guessing, scanning). */
const COUNTS_FOR_ADDRESS = new Set<AuthFailure>(['BAD_CREDENTIALS', 'UNKNOWN_USER', 'ANONYMOUS_REFUSED']);
/** Roles whose sessions are always clean: their queues would grow for nobody. */
const CLEAN_ONLY = new Set<Principal['role']>(['signage', 'office', 'anonymous']);

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
  /** The users file as last loaded (it is reloaded while the broker runs). */
  accounts: { users: () => Users },
  log: Logger,
  events: AuthEvents,
  /** The client's source address (as the listener saw it). */
  addressOf: (client: Client) => string,
): Authenticator & {
  /** After a reload: false when this login's credential was rotated, revoked or disabled. */
  stillValid(principal: Principal): boolean;
} {
  const doors = config.mqtt.limits;
  // A login that reconnects with the secret it used before skips scrypt (one entry per device, user
  // or sign; tied to the hash it passed against, so a rotation forgets it).
  const verified = new Map<string, { hash: string; digest: Buffer }>();
  const clientIds = clientIdBinding(registry);
  const bans = new Bans(doors.bans);
  const connectRate = new TokenBucket(doors.connectRate, doors.connectBurst);
  const checks = new CappedQueue(doors.authConcurrency, doors.authQueue);

  type Identified = Principal | AuthFailure;
  const demo = config.mode === 'demo';

  /** The demo's shared role logins; production has only named offices and per-sign tokens. */
  function identifyRole(username: string, secret: string): Identified | undefined {
    const roles = config.mqtt.roles;
    if (username === ROLE_USERS.office) {
      if (!demo) return 'SHARED_LOGIN_REFUSED';
      return sameSecret(secret, roles.office)
        ? { role: 'office', user: ROLE_USERS.office, officeRole: 'operator' }
        : 'BAD_CREDENTIALS';
    }
    if (username === ROLE_USERS.service)
      return sameSecret(secret, roles.service) ? { role: 'service' } : 'BAD_CREDENTIALS';
    if (username === ROLE_USERS.recorder)
      return sameSecret(secret, roles.recorder) ? { role: 'recorder' } : 'BAD_CREDENTIALS';
    if (username === ROLE_USERS.signage) {
      if (!demo) return 'SHARED_LOGIN_REFUSED';
      return sameSecret(secret, roles.signage) ? { role: 'signage', siteId: undefined } : 'BAD_CREDENTIALS';
    }
    return undefined;
  }

  /**
   * Checks `secret` against a stored hash, skipping scrypt for the secret that last passed against
   * that same hash (so a rotated hash never matches a remembered secret).
   */
  function checkHash(
    client: Client,
    ip: string,
    username: string,
    key: string,
    hash: string,
    secret: string,
    principal: Principal,
  ): Identified | Promise<Identified> {
    // One HMAC (microseconds): a reconnect storm of generated secrets never waits behind scrypt.
    if (isFastVerifier(hash)) return verifySecret(secret, hash) ? principal : 'BAD_CREDENTIALS';
    const presented = digest(secret);
    const known = verified.get(key);
    if (known?.hash === hash && timingSafeEqual(known.digest, presented)) return principal;
    const check = checks.run(
      () => verifySecretAsync(secret, hash),
      // Skipped once its turn comes if the client left or a ban started meanwhile.
      () => !client.closed && bans.banned(ip, username) === undefined,
    );
    if (!check) return 'SERVER_BUSY';
    return check.then((ok): Identified => {
      if (ok === 'skipped') return client.closed ? 'SERVER_BUSY' : 'BANNED';
      if (!ok) return 'BAD_CREDENTIALS';
      verified.set(key, { hash, digest: presented });
      return principal;
    });
  }

  /** Synchronous answer, or a promise when scrypt must run. */
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
    const [prefix, name, extra] = username.split('/');
    if (prefix === ROLE_USERS.office && name !== undefined && extra === undefined) {
      const user = accounts.users().users.get(name);
      if (!user || user.disabled) return 'UNKNOWN_USER';
      const principal: Principal = {
        role: 'office',
        user: name,
        officeRole: user.role,
        credential: user.secretHash,
      };
      return checkHash(client, ip, username, `office:${name}`, user.secretHash, secret, principal);
    }
    if (prefix === ROLE_USERS.signage && name !== undefined && extra === undefined) {
      if (!registry.sites.get(name)?.signage) return 'UNKNOWN_SIGN';
      // The demo's signs may still share one password; a provisioned sign has its own token.
      if (demo && sameSecret(secret, config.mqtt.roles.signage)) return { role: 'signage', siteId: name };
      const sign = accounts.users().signs.get(name);
      if (!sign) return 'UNKNOWN_SIGN';
      const principal: Principal = { role: 'signage', siteId: name, credential: sign.secretHash };
      return checkHash(client, ip, username, `sign:${name}`, sign.secretHash, secret, principal);
    }
    const device = registry.devices.get(username);
    if (!device || device.disabled) return 'UNKNOWN_USER';
    return checkHash(client, ip, username, `device:${device.id}`, device.secretHash, secret, {
      role: 'device',
      device,
    });
  }

  /** Would this login still be accepted with the credentials as they are now (after a reload)? */
  function stillValid(p: Principal): boolean {
    if (p.role === 'device') {
      const now = registry.devices.get(p.device.id);
      return now !== undefined && !now.disabled && now.secretHash === p.device.secretHash;
    }
    if (p.role !== 'office' && p.role !== 'signage') return true;
    if (p.credential === undefined) return true; // the demo's shared logins
    if (p.role === 'office') {
      const now = accounts.users().users.get(p.user);
      return (
        now !== undefined && !now.disabled && now.role === p.officeRole && now.secretHash === p.credential
      );
    }
    return p.siteId !== undefined && accounts.users().signs.get(p.siteId)?.secretHash === p.credential;
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
      if (result === 'BANNED') events.onBanned(bans.banned(ip, username)?.scope ?? 'ip');
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
    stillValid,
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

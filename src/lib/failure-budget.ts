// Failure budgets and temporary bans for logins, MQTT and HTTP alike. N refused logins from one
// source address within a window ban that address for a while; N refused logins for one user name
// ban that name, except from addresses it last logged in from successfully, so an attacker
// elsewhere cannot lock the real user out. A ban never touches other addresses. The caller refuses
// a banned login at once, before any password check.

export interface BanOptions {
  ipFailures: number;
  userFailures: number;
  windowMs: number;
  banMs: number;
}

/** Keys remembered per budget (the oldest are forgotten first; a ban in force outlives eviction rarely). */
const MAX_KEYS = 100_000;
/** Addresses remembered per user name as ones it logged in from. */
const TRUSTED_PER_USER = 4;

interface Entry {
  failures: number;
  windowStart: number;
  bannedUntil: number;
}

/** Counts failures per key in fixed windows; `max` failures in one window bans the key. */
export class FailureBudget {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly banMs: number,
  ) {}

  bannedUntil(key: string, now = Date.now()): number | undefined {
    const e = this.entries.get(key);
    return e && e.bannedUntil > now ? e.bannedUntil : undefined;
  }

  /** Records a failure; true when it starts a ban. */
  fail(key: string, now = Date.now()): boolean {
    const e = this.entries.get(key) ?? { failures: 0, windowStart: now, bannedUntil: 0 };
    if (now - e.windowStart >= this.windowMs) {
      e.failures = 0;
      e.windowStart = now;
    }
    this.entries.delete(key); // re-inserted last: the map's order is least recently failed first
    if (this.entries.size >= MAX_KEYS) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, e);
    e.failures++;
    if (e.failures >= this.max && e.bannedUntil <= now) {
      e.bannedUntil = now + this.banMs;
      e.failures = 0;
      return true;
    }
    return false;
  }
}

export type BanScope = 'ip' | 'user';

/** A ban in force: which budget, and until when (epoch ms; HTTP's Retry-After). */
export interface Ban {
  scope: BanScope;
  until: number;
}

export class Bans {
  private readonly ips: FailureBudget;
  private readonly users: FailureBudget;
  private readonly trusted = new Map<string, string[]>();

  constructor(opts: BanOptions) {
    this.ips = new FailureBudget(opts.ipFailures, opts.windowMs, opts.banMs);
    this.users = new FailureBudget(opts.userFailures, opts.windowMs, opts.banMs);
  }

  /** Which ban refuses a login of `user` from `ip` right now, if any. */
  banned(ip: string, user: string | undefined, now = Date.now()): Ban | undefined {
    const ipUntil = this.ips.bannedUntil(ip, now);
    if (ipUntil !== undefined) return { scope: 'ip', until: ipUntil };
    if (user === undefined || this.trusted.get(user)?.includes(ip)) return undefined;
    const userUntil = this.users.bannedUntil(user, now);
    return userUntil === undefined ? undefined : { scope: 'user', until: userUntil };
  }

  /**
   * A refused login. `knownUser`: the name exists (a device, a role, an office user), so its own
   * budget counts. Returns the scopes whose ban this failure started.
   */
  fail(ip: string, user: string | undefined, knownUser: boolean, now = Date.now()): BanScope[] {
    const started: BanScope[] = [];
    if (this.ips.fail(ip, now)) started.push('ip');
    if (knownUser && user !== undefined && this.users.fail(user, now)) started.push('user');
    return started;
  }

  /** A successful login: this address stays usable for this name during a ban of the name. */
  succeed(ip: string, user: string | undefined): void {
    if (user === undefined) return;
    const list = this.trusted.get(user) ?? [];
    if (list[list.length - 1] === ip) return;
    const next = [...list.filter((a) => a !== ip), ip].slice(-TRUSTED_PER_USER);
    this.trusted.delete(user);
    if (this.trusted.size >= MAX_KEYS) this.trusted.delete(this.trusted.keys().next().value as string);
    this.trusted.set(user, next);
  }
}

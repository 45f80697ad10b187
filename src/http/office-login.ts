// Who is calling the office's HTTP routes (the console's API and the ack API): a named user from
// the users file by HTTP Basic, or in demo mode the shared `office` login. Bad logins spend failure
// budgets per source address and per user name (lib/failure-budget.ts, as for MQTT); a banned login
// gets 429 with Retry-After at once, before any password check. And the CSRF guard: a browser
// remembers Basic credentials, so a state-changing request must be one that a page on another site
// cannot make without a CORS preflight (which machi never grants).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, type Registry as MetricsRegistry } from 'prom-client';
import type { Config } from '../config/config.ts';
import { plainAddress } from '../lib/address.ts';
import { CappedQueue } from '../lib/capped-queue.ts';
import { Bans } from '../lib/failure-budget.ts';
import type { Logger } from '../observability/logger.ts';
import { sameSecret, verifySecretAsync } from '../registry/secrets.ts';
import { ROLE_USERS } from '../schemas/topics.ts';
import { loadUsers } from '../users/load.ts';
import type { OfficeRole } from '../users/schema.ts';
import { sendJson } from './app.ts';
import { basicCredentials } from './basic-auth.ts';

export interface OfficeUser {
  name: string;
  role: OfficeRole;
}

export interface OfficeLogin {
  /** The request's office user; undefined once a refusal (401, 429 or 503) has been sent. */
  authenticate(req: IncomingMessage, res: ServerResponse): Promise<OfficeUser | undefined>;
}

/** Password checks at once, and waiting (an office has few staff; a flood waits here, not in scrypt). */
const CHECKS_AT_ONCE = 2;
const CHECKS_QUEUED = 64;

/** A guess spends the user's budget too ('bad': the name exists); 'refused' spends none (as MQTT). */
type Outcome = OfficeUser | 'bad' | 'unknown' | 'refused' | 'busy' | 'banned';

/** One per process: its budgets cover every office route (runtime.officeLogin). */
export function createOfficeLogin(config: Config, log: Logger, metrics: MetricsRegistry): OfficeLogin {
  const bans = new Bans(config.http.bans);
  const checks = new CappedQueue(CHECKS_AT_ONCE, CHECKS_QUEUED);
  const banned = new Counter({
    name: 'machi_http_login_banned_total',
    help: 'Office HTTP logins refused (429, no password check) because a ban was in force, by scope',
    labelNames: ['scope'],
    registers: [metrics],
  });
  const started = new Counter({
    name: 'machi_http_login_bans_total',
    help: 'Temporary office HTTP login bans started after a failure budget was spent, by scope',
    labelNames: ['scope'],
    registers: [metrics],
  });

  async function check(req: IncomingMessage, ip: string, name: string, password: string): Promise<Outcome> {
    if (name === ROLE_USERS.office) {
      // The demo's shared login; production refuses it whatever the password.
      if (config.mode !== 'demo') return 'refused';
      return sameSecret(password, config.mqtt.roles.office) ? { name, role: 'operator' } : 'bad';
    }
    // Read each time: always current.
    const user = loadUsers(config.usersFile).users.get(name);
    if (!user || user.disabled) return 'unknown';
    const ok = checks.run(
      () => verifySecretAsync(password, user.secretHash),
      // Skipped once its turn comes if the caller left or a ban started meanwhile.
      () => !req.socket.destroyed && bans.banned(ip, name) === undefined,
    );
    if (!ok) return 'busy';
    const result = await ok;
    if (result === 'skipped') return bans.banned(ip, name) ? 'banned' : 'busy';
    return result ? { name: user.name, role: user.role } : 'bad';
  }

  return {
    async authenticate(req, res) {
      const auth = basicCredentials(req);
      const ip = plainAddress(req.socket.remoteAddress);
      const outcome: Outcome = !auth
        ? 'refused'
        : bans.banned(ip, auth.user)
          ? 'banned'
          : await check(req, ip, auth.user, auth.password);
      if (typeof outcome === 'object') {
        bans.succeed(ip, outcome.name);
        return outcome;
      }
      if (outcome === 'bad' || outcome === 'unknown') {
        for (const scope of bans.fail(ip, auth?.user, outcome === 'bad')) {
          started.inc({ scope });
          log.warn(
            { ip, user: scope === 'user' ? auth?.user : undefined, scope },
            'office login ban started',
          );
        }
      }
      const ban = outcome === 'banned' ? bans.banned(ip, auth?.user) : undefined;
      if (ban) {
        banned.inc({ scope: ban.scope });
        res.setHeader('retry-after', String(Math.max(1, Math.ceil((ban.until - Date.now()) / 1000))));
        sendJson(res, 429, { error: 'too many failed logins, try later', code: 'MACHI_ERR_LOGIN_BANNED' });
      } else if (outcome === 'busy' || outcome === 'banned') {
        res.setHeader('retry-after', '1');
        sendJson(res, 503, { error: 'too many logins at once, retry shortly', code: 'MACHI_ERR_BUSY' });
      } else {
        res.setHeader('www-authenticate', 'Basic realm="machi office"');
        sendJson(res, 401, { error: 'office credentials required', code: 'MACHI_ERR_UNAUTHORIZED' });
      }
      return undefined;
    },
  };
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

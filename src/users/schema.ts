// The users file (MACHI_USERS_FILE): the office's named accounts and each sign's own credential,
// stored only as verifiers (scrypt for passwords, HMAC for generated sign tokens: registry/secrets.ts).
// Written by `machi users` and `machi signs`, read by the broker (MQTT logins) and the HTTP routes
// of the office and the ack API.
import { z } from 'zod';
import { SecretHash } from '../registry/schema.ts';
import { SiteId } from '../schemas/common.ts';

/** viewer: watches everything. operator: also acknowledges alerts. */
export const OfficeRole = z.enum(['viewer', 'operator']);
export type OfficeRole = z.infer<typeof OfficeRole>;

/** A person's login name: it is what the audit trail records as who acknowledged. */
export const UserName = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,31}$/, 'expected 1-32 of a-z, 0-9, . _ - starting with a letter');

export const UserEntry = z.object({
  name: UserName,
  role: OfficeRole,
  secretHash: SecretHash,
  disabled: z.boolean().default(false),
});
export type UserEntry = z.infer<typeof UserEntry>;

/** One sign's credential; revoking a sign removes its entry. */
export const SignEntry = z.object({ site: SiteId, secretHash: SecretHash });
export type SignEntry = z.infer<typeof SignEntry>;

/** Refuses a second entry with the same key (a name or a site). */
const unique =
  <T>(key: (entry: T) => string) =>
  (entries: T[], ctx: z.RefinementCtx<T[]>) => {
    const seen = new Set<string>();
    entries.forEach((e, i) => {
      if (seen.has(key(e))) ctx.addIssue({ code: 'custom', path: [i], message: `${key(e)} is listed twice` });
      seen.add(key(e));
    });
  };

export const UsersFile = z.object({
  users: z
    .array(UserEntry)
    .superRefine(unique((u) => u.name))
    .default([]),
  signs: z
    .array(SignEntry)
    .superRefine(unique((s) => s.site))
    .default([]),
});
export type UsersFile = z.infer<typeof UsersFile>;

export interface Users {
  users: Map<string, UserEntry>;
  signs: Map<string, SignEntry>;
}

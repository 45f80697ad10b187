// Webhook receivers as configured. Each has its own secret and a key id that names it, so one
// leaked secret forges for one receiver only and a receiver can accept two keys while one is
// rotated. A signed alert never crosses a network in plain http; a URL is shown by scheme and host.
import { z } from 'zod';

/** Scheme and host: all logs and `machi config` show of a webhook URL (its path or query may hold a token). */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(not a URL)';
  }
}

/** https, or http to this machine: localhost, 127.0.0.0/8 or ::1 (URL parsing normalises 127.1 and friends). */
function httpsOrLoopback(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return true; // not a URL: the url check says so
  }
  return (
    u.protocol === 'https:' ||
    u.hostname === 'localhost' ||
    u.hostname === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(u.hostname)
  );
}

export const WebhookUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .refine(httpsOrLoopback, {
    error: (issue) =>
      `${maskUrl(String(issue.input))}: a webhook must use https (plain http only to localhost, 127.0.0.0/8 or ::1)`,
  });

export const WebhookTarget = z.strictObject({
  url: WebhookUrl,
  keyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 letters, digits, dot, dash or underscore'),
  secret: z.string().min(8, 'expected at least 8 characters'),
});
export type WebhookTarget = z.infer<typeof WebhookTarget>;

/** `MACHI_WEBHOOKS`: `[{"url":"https://…","keyId":"k1","secret":"…"}, …]`. */
export const WebhookTargets = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON array of {"url","keyId","secret"}' });
      return z.NEVER;
    }
  })
  .pipe(z.array(WebhookTarget));

/** The key id receivers of the demo's one shared secret (`MACHI_WEBHOOK_URLS`) see. */
export const SHARED_KEY_ID = 'shared';

export interface WebhooksConfig {
  /** From `MACHI_WEBHOOKS`, each with its own secret. */
  receivers: WebhookTarget[];
  /** The demo's form: every URL in `MACHI_WEBHOOK_URLS` signed with `MACHI_WEBHOOK_SECRET`. */
  shared: { urls: string[]; secret: string };
}

/** Every receiver machi posts to, whichever form configured it. */
export function webhookTargets(w: WebhooksConfig): WebhookTarget[] {
  return [
    ...w.receivers,
    ...w.shared.urls.map((url) => ({ url, keyId: SHARED_KEY_ID, secret: w.shared.secret })),
  ];
}

// Webhook receivers: one secret and key id each, https only except to this machine, URLs masked in
// errors, `machi config` and logs, and a redirect never followed.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KEY_ID_HEADER,
  SIGNATURE_HEADER,
  signature,
  TIMESTAMP_HEADER,
  WebhookReceiver,
} from '../../src/alerts/webhooks.ts';
import { ConfigError, describeConfig, loadConfig } from '../../src/config/config.ts';
import { SHARED_KEY_ID, webhookTargets } from '../../src/config/webhooks.ts';

const TOKEN_PATH = '/hooks/t0ps3cret-path?token=q5ecret';
const hooks = (...receivers: Array<{ url: string; keyId?: string; secret?: string }>) =>
  JSON.stringify(receivers.map((r) => ({ keyId: 'k1', secret: 'receiver-secret-1', ...r })));

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('webhook configuration', () => {
  it('reads receivers with their own key id and secret, and keeps the demo form beside them', () => {
    const config = loadConfig({
      MACHI_WEBHOOKS: hooks({
        url: `https://a.example.org${TOKEN_PATH}`,
        keyId: '2026-08',
        secret: 'a'.repeat(20),
      }),
      MACHI_WEBHOOK_URLS: 'https://b.example.org/hook',
      MACHI_WEBHOOK_SECRET: 'shared-secret-123',
    });
    expect(webhookTargets(config.alerts.webhooks)).toEqual([
      { url: `https://a.example.org${TOKEN_PATH}`, keyId: '2026-08', secret: 'a'.repeat(20) },
      { url: 'https://b.example.org/hook', keyId: SHARED_KEY_ID, secret: 'shared-secret-123' },
    ]);
  });

  it('refuses plain http to another machine, naming only scheme and host', () => {
    const message = configError({
      MACHI_WEBHOOKS: hooks({ url: `http://hooks.example.org${TOKEN_PATH}` }),
      MACHI_WEBHOOK_URLS: `https://ok.example.org/x,http://10.0.0.7:8080${TOKEN_PATH}`,
    });
    expect(message).toContain(
      'MACHI_WEBHOOKS[0].url: http://hooks.example.org: a webhook must use https (plain http only to localhost, 127.0.0.0/8 or ::1)',
    );
    expect(message).toContain('MACHI_WEBHOOK_URLS[1]: http://10.0.0.7:8080: a webhook must use https');
    expect(message).not.toMatch(/t0ps3cret|q5ecret|receiver-secret/);
  });

  it.each([
    'http://127.0.0.1:9000/hook',
    'http://127.8.9.10/hook',
    'http://localhost:9000/hook',
    'http://[::1]:9000/hook',
  ])('allows plain http to this machine: %s', (url) => {
    expect(loadConfig({ MACHI_WEBHOOKS: hooks({ url }) }).alerts.webhooks.receivers[0]?.url).toBe(url);
  });

  it('says what is wrong with a receiver list', () => {
    expect(configError({ MACHI_WEBHOOKS: '{nope' })).toContain(
      'MACHI_WEBHOOKS: expected a JSON array of {"url","keyId","secret"} (got (secret))',
    );
    const message = configError({
      MACHI_WEBHOOKS: JSON.stringify([{ url: 'https://a.example.org', keyId: 'a b' }]),
    });
    expect(message).toContain(
      'MACHI_WEBHOOKS[0].keyId: expected 1-64 letters, digits, dot, dash or underscore',
    );
    expect(message).toContain('MACHI_WEBHOOKS[0].secret:');
  });

  it('shows receivers in machi config by scheme, host and key id only', () => {
    const rows = new Map(
      describeConfig({
        MACHI_WEBHOOKS: hooks({ url: `https://a.example.org${TOKEN_PATH}`, keyId: '2026-08' }),
        MACHI_WEBHOOK_URLS: `https://b.example.org:8443${TOKEN_PATH}`,
      }),
    );
    expect(rows.get('MACHI_WEBHOOKS')).toBe('https://a.example.org (key 2026-08)');
    expect(rows.get('MACHI_WEBHOOK_URLS')).toBe('https://b.example.org:8443');
    expect([...rows.values()].join(' ')).not.toMatch(/t0ps3cret|q5ecret|receiver-secret/);
  });
});

describe('webhook delivery', () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  /** A loopback receiver answering `status` (with `location` for a redirect); records what it got. */
  async function receiver(status: number, location?: string) {
    const got: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(status, location ? { location } : {}).end();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { got, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  function webhook(url: string) {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const deliveries = new Counter({
      name: 'deliveries',
      help: 'h',
      labelNames: ['result'],
      registers: [new Registry()],
    });
    const target = { url, keyId: '2026-08', secret: 'receiver-secret-1' };
    return { lines, hook: new WebhookReceiver(target, deliveries, pino({ level: 'info' }, sink), 2000) };
  }

  const record = (body: string) => ({ value: Buffer.from(body), deliveryId: 'd-1' }) as never;

  it("signs with the receiver's own secret and names it by key id", async () => {
    const rx = await receiver(204);
    const { hook } = webhook(`${rx.base}${TOKEN_PATH}`);
    await hook.deliver(record('{"v":1}'));
    const [post] = rx.got;
    expect(post?.headers[KEY_ID_HEADER]).toBe('2026-08');
    const ts = String(post?.headers[TIMESTAMP_HEADER]);
    expect(post?.headers[SIGNATURE_HEADER]).toBe(signature('receiver-secret-1', ts, '{"v":1}'));
  });

  it('does not follow a redirect, and logs the receiver by scheme and host only', async () => {
    const elsewhere = await receiver(204);
    const rx = await receiver(302, `${elsewhere.base}/stolen`);
    const { hook, lines } = webhook(`${rx.base}${TOKEN_PATH}`);
    await expect(hook.deliver(record('{"v":1}'))).rejects.toThrow('receiver answered 302');
    expect(rx.got).toHaveLength(1);
    expect(elsewhere.got).toHaveLength(0);
    expect(lines.join('')).toContain(rx.base);
    expect(lines.join('')).not.toMatch(/t0ps3cret|q5ecret|receiver-secret/);
  });
});

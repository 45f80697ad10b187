// The public origin of the open-data links (NGSI-LD @context Link header, OpenAPI server): a client
// elsewhere must be able to follow them, so MACHI_PUBLIC_URL when set, else the request's Host over
// https when machi's listener has TLS, never a hard-coded http://.
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.ts';
import { HttpApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { apiPlugin } from '../../src/web/api/plugin.ts';
import { publicGate } from '../../src/web/api/public-http.ts';
import type { OpenDataSource } from '../../src/web/api/source.ts';
import { NGSI_PREFIX, ngsiLdPlugin } from '../../src/web/ngsi-ld/plugin.ts';
import { config } from '../support/helpers.ts';

let app: HttpApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** machi's NGSI-LD and /api/v1 routes on a loopback port, with `over` in the config. */
async function serve(over: { publicUrl?: string; tls?: boolean }): Promise<string> {
  const log = createLogger('silent');
  const cfg: Config = {
    ...config,
    api: { ...config.api, publicUrl: over.publicUrl },
    // Only the setting is read here: the listener itself stays plain HTTP for the test.
    http: { ...config.http, tls: over.tls ? { certPath: 'cert.pem', keyPath: 'key.pem' } : undefined },
  };
  app = new HttpApp(log);
  const gate = publicGate(app, [NGSI_PREFIX, '/api/v1/'], 1000);
  // A type machi does not serve and the OpenAPI document read no data: no source is consulted.
  const source = {} as OpenDataSource;
  app.register(ngsiLdPlugin, { config: cfg, gate, source, log });
  app.register(apiPlugin, { config: cfg, gate, source, log, more: [] });
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${app.port}`;
}

async function links(base: string): Promise<{ context: string | undefined; server: string }> {
  const res = await fetch(`${base}/ngsi-ld/v1/entities?type=Unicorn`);
  const context = /^<([^>]+)>/.exec(res.headers.get('link') ?? '')?.[1];
  const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as {
    servers: Array<{ url: string }>;
  };
  return { context, server: doc.servers[0]?.url ?? '' };
}

describe('open-data links', () => {
  it('name MACHI_PUBLIC_URL when it is set', async () => {
    const base = await serve({ publicUrl: 'https://data.takeo.example/' });
    expect(await links(base)).toEqual({
      context: 'https://data.takeo.example/ngsi-ld/v1/context.jsonld',
      server: 'https://data.takeo.example',
    });
  });

  it("name the request's Host over https when the listener has TLS", async () => {
    const base = await serve({ tls: true });
    const host = new URL(base).host;
    expect(await links(base)).toEqual({
      context: `https://${host}/ngsi-ld/v1/context.jsonld`,
      server: `https://${host}`,
    });
  });

  it("name the request's Host over http otherwise", async () => {
    const base = await serve({});
    expect((await links(base)).context).toBe(`${base}/ngsi-ld/v1/context.jsonld`);
  });
});

// The fuzzer's HTTP families: seeded bad requests at every route machi serves (health, metrics,
// signage, office, static files, the office's ack route, the MQTT WebSocket upgrade), each with
// the answer it must get, from a model of the routes as machi registers them (src/web/*.ts,
// src/alerts/component.ts). A refusal is a 4xx with a JSON body naming a MACHI_ERR_ code (the
// WebSocket library answers a bad handshake on /mqtt with a text reason); never a 5xx, never silence.
// Pure: the site's files, signs and password come in, bytes and expectations go out.
import type { Rng } from '../../src/simulators/prng.ts';
import { type RawRequest, requestHead } from './fuzz-http-wire.ts';
import { int, pick, randomBytes, slug } from './fuzz-random.ts';

/** What the model knows of the site: files per static prefix, signs, areas, the office password. */
export interface HttpSite {
  staticFiles: Readonly<Record<StaticPrefix, ReadonlySet<string>>>;
  signs: readonly string[];
  areas: readonly string[];
  officePassword: string;
}

/** Static directories, in the order machi registers them (src/web/static.ts, signage, office). */
export const STATIC_PREFIXES = [
  '/assets/',
  '/vendor/leaflet/images/',
  '/vendor/leaflet/',
  '/signage/assets/',
  '/signage/messages/',
  '/office/assets/',
] as const;
export type StaticPrefix = (typeof STATIC_PREFIXES)[number];

export interface HttpExpect {
  kind: 'http';
  statuses: readonly number[];
  /** A refusal's JSON `code`; `text`: the WebSocket library's plain-text reason instead. */
  code?: string;
  text?: boolean;
  /** After a 101: the garbage sent on the new connection must get it closed. */
  closeAfterUpgrade?: boolean;
  /**
   * A broken body after a head the route answers at once: Node may close the connection on the
   * parse error before the answer is out (the route has already refused or served the request).
   */
  mayCloseUnanswered?: boolean;
}

export interface HttpInput {
  family: string;
  request: RawRequest;
  expect: HttpExpect;
  /** Method and target as sent, cut short, for reports. */
  summary: string;
}

// ---- the model ----

const answer = (status: number, code?: string): HttpExpect => ({ kind: 'http', statuses: [status], code });
const OK = answer(200);
const NOT_FOUND = answer(404, 'MACHI_ERR_NOT_FOUND');
const BAD_REQUEST = answer(400, 'MACHI_ERR_BAD_REQUEST');
const METHOD_NOT_ALLOWED = answer(405, 'MACHI_ERR_METHOD_NOT_ALLOWED');
const UNAUTHORIZED = answer(401, 'MACHI_ERR_UNAUTHORIZED');
const FORBIDDEN = answer(403, 'MACHI_ERR_FORBIDDEN');
const TOO_LARGE = answer(431, 'MACHI_ERR_HEADERS_TOO_LARGE');
const wsRefused = (status: number): HttpExpect => ({ kind: 'http', statuses: [status], text: true });

export interface ModelRequest {
  method: string;
  target: string;
  /** The Authorization header's value as Node hands it over (trimmed). */
  authorization?: string;
  /** The request's Content-Type: the ack route takes JSON only (a form post from another site is not). */
  contentType?: string;
}

/** What src/alerts/acks.ts's basicCredentials makes of the header, and whether it is the office. */
export function isOffice(authorization: string | undefined, password: string): boolean {
  const header = authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && decoded.slice(0, colon) === 'office' && decoded.slice(colon + 1) === password;
}

interface ModelRoute {
  method: 'GET' | 'POST';
  path: string;
  outcome: (pathname: string, req: ModelRequest) => HttpExpect;
}

function routes(site: HttpSite): ModelRoute[] {
  const files = (prefix: StaticPrefix): ModelRoute => ({
    method: 'GET',
    path: `${prefix}*`,
    outcome: (pathname) => {
      let name: string;
      try {
        name = decodeURIComponent(pathname.slice(prefix.length));
      } catch {
        return BAD_REQUEST;
      }
      return site.staticFiles[prefix].has(name) ? OK : NOT_FOUND;
    },
  });
  const get = (path: string): ModelRoute => ({ method: 'GET', path, outcome: () => OK });
  return [
    // The office's ack route: JSON only (CSRF), then the login; no alert the fuzzer names is open,
    // so the office gets a 404.
    {
      method: 'POST',
      path: '/api/alerts/*',
      outcome: (_p, req) => {
        if (req.contentType?.split(';')[0]?.trim().toLowerCase() !== 'application/json') return FORBIDDEN;
        return isOffice(req.authorization, site.officePassword) ? NOT_FOUND : UNAUTHORIZED;
      },
    },
    files('/assets/'),
    get('/vendor/mqtt.min.js'),
    files('/vendor/leaflet/images/'),
    files('/vendor/leaflet/'),
    files('/signage/assets/'),
    files('/signage/messages/'),
    {
      method: 'GET',
      path: '/signage/*',
      outcome: (pathname) => {
        const [siteId, file, extra] = pathname.slice('/signage/'.length).split('/');
        if (!siteId || !site.signs.includes(siteId) || extra !== undefined) return NOT_FOUND;
        return file === undefined || file === '' || file === 'config.json' ? OK : NOT_FOUND;
      },
    },
    files('/office/assets/'),
    get('/office'),
    get('/office/config.json'),
    get('/healthz'),
    get('/readyz'),
    get('/metrics'),
  ];
}

/** The answer machi's router gives a request that Node's parser let through (src/http/app.ts). */
export function expectRoute(site: HttpSite, req: ModelRequest): HttpExpect {
  let url: URL;
  try {
    url = new URL(req.target, 'http://localhost');
  } catch {
    return BAD_REQUEST;
  }
  const matches = (r: ModelRoute) =>
    r.path.endsWith('/*') ? url.pathname.startsWith(r.path.slice(0, -1)) : url.pathname === r.path;
  const table = routes(site);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const route = table.find((r) => r.method === method && matches(r));
  if (route) return route.outcome(url.pathname, req);
  return table.some(matches) ? METHOD_NOT_ALLOWED : NOT_FOUND;
}

const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** A WebSocket upgrade: machi's router for the path, then the ws library's handshake checks on /mqtt. */
export function expectUpgrade(
  req: ModelRequest & { upgrade: string; key?: string; version?: string; protocol?: string },
): HttpExpect {
  let url: URL;
  try {
    url = new URL(req.target, 'http://localhost');
  } catch {
    return BAD_REQUEST;
  }
  if (url.pathname !== '/mqtt') return NOT_FOUND;
  if (req.method !== 'GET') return wsRefused(405);
  if (req.upgrade.toLowerCase() !== 'websocket') return wsRefused(400);
  if (req.key === undefined || !WS_KEY.test(req.key)) return wsRefused(400);
  if (req.version !== '13' && req.version !== '8') return wsRefused(400);
  if (
    req.protocol !== undefined &&
    !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(, ?[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/.test(req.protocol)
  )
    return wsRefused(400);
  if (
    req.protocol !== undefined &&
    new Set(req.protocol.split(/, ?/)).size !== req.protocol.split(/, ?/).length
  )
    return wsRefused(400);
  return { kind: 'http', statuses: [101], closeAfterUpgrade: true };
}

// ---- the requests ----

type Header = [string, string] | string | Buffer;
const BASE_HEADERS: Array<[string, string]> = [
  ['Host', '127.0.0.1'],
  ['User-Agent', 'machi-fuzz'],
  ['Connection', 'close'],
];

interface Ctx {
  rng: Rng;
  site: HttpSite;
}

/** A target the site serves (or plausibly might), with the method it takes. */
function baseTarget({ rng, site }: Ctx): { method: string; target: string } {
  const file = (prefix: StaticPrefix) => {
    // Source maps are large and add nothing here.
    const names = [...site.staticFiles[prefix]].filter((n) => !n.endsWith('.map'));
    return `${prefix}${pick(rng, names.length ? names : ['x'])}`;
  };
  const sign = pick(rng, site.signs.length ? site.signs : ['x']);
  const r = int(rng, 0, 21);
  if (r < 4) return { method: 'POST', target: `/api/alerts/${fakeAlertId(rng, site)}/ack` };
  const targets = [
    '/healthz',
    '/readyz',
    '/metrics',
    '/office',
    '/office/config.json',
    file('/office/assets/'),
    file('/assets/'),
    '/vendor/mqtt.min.js',
    file('/vendor/leaflet/'),
    file('/vendor/leaflet/images/'),
    `/signage/${sign}`,
    `/signage/${sign}/`,
    `/signage/${sign}/config.json`,
    file('/signage/assets/'),
    file('/signage/messages/'),
    '/',
    '/mqtt',
    '/api/alerts',
  ];
  return { method: 'GET', target: pick(rng, targets) };
}

/** An alert id that is never open: a real area's id format on a day long past, or made up. */
function fakeAlertId(rng: Rng, site: HttpSite): string {
  return rng.next() < 0.5
    ? `${pick(rng, site.areas.length ? site.areas : ['x'])}-2001${String(int(rng, 1, 12)).padStart(2, '0')}01T000000Z`
    : `fz-${slug(rng, int(rng, 1, 24))}`;
}

function request(
  method: string,
  target: string,
  headers: Header[],
  extra: Partial<RawRequest> & { version?: string } = {},
): RawRequest {
  return {
    head: requestHead(`${method} ${target} ${extra.version ?? 'HTTP/1.1'}`, headers),
    body: extra.body,
    afterUpgrade: extra.afterUpgrade,
  };
}

const summary = (method: string, target: string) =>
  `${method} ${target.length > 80 ? `${target.slice(0, 60)}…(${target.length} chars)` : target}`;

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

const KNOWN_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'MKCOL',
  'COPY',
  'LOCK',
  'PURGE',
  'LINK',
  'SEARCH',
  'REPORT',
  'M-SEARCH',
  'NOTIFY',
  'QUERY',
];
/** Tokens Node's parser refuses as methods. */
const BAD_METHODS = [
  'FOO',
  'get',
  'Post',
  'BREW',
  'G3T',
  'GETX',
  'DELETEE',
  'X'.repeat(40),
  '\u00c4\u00d6',
  '-',
];

function methodCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const { target } = baseTarget(ctx);
  const r = rng.next();
  if (r < 0.08) {
    const authority = pick(rng, ['127.0.0.1:22', 'example.com:443', target]);
    return {
      family,
      request: request('CONNECT', authority, BASE_HEADERS),
      expect: METHOD_NOT_ALLOWED,
      summary: summary('CONNECT', authority),
    };
  }
  if (r < 0.3) {
    const method = pick(rng, BAD_METHODS);
    return {
      family,
      request: request(method, target, BASE_HEADERS),
      expect: BAD_REQUEST,
      summary: summary(method, target),
    };
  }
  const method = pick(rng, KNOWN_METHODS);
  return {
    family,
    request: request(method, target, BASE_HEADERS),
    expect: expectRoute(site, { method, target }),
    summary: summary(method, target),
  };
}

const DOTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2e',
  '.%2e',
  '%2e',
  '..%2f..',
  '%2e%2e%2f%2e%2e',
  '..\\..',
  '...',
  '..;',
  '%5c..',
];
const AIMS = [
  'package.json',
  'etc/passwd',
  'src/config/config.ts',
  '.env',
  'healthz',
  'office',
  'config.json',
  '',
];

function dotPathCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const { method, target } = baseTarget(ctx);
  const parts = target.split('/');
  const at = int(rng, 1, parts.length);
  const dots = Array.from({ length: int(rng, 1, 6) }, () => pick(rng, DOTS));
  const tail = rng.next() < 0.5 ? [pick(rng, AIMS)] : parts.slice(at);
  const path = [...parts.slice(0, at), ...dots, ...tail].join('/');
  const t = path.startsWith('/') ? path : `/${path}`;
  const auth = method === 'POST' && rng.next() < 0.5 ? basic(`office:${site.officePassword}`) : undefined;
  const headers: Header[] = auth ? [...BASE_HEADERS, ['Authorization', auth]] : BASE_HEADERS;
  return {
    family,
    request: request(method, t, headers),
    expect: expectRoute(site, { method, target: t, authorization: auth }),
    summary: summary(method, t),
  };
}

function nulPathCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const { method, target } = baseTarget(ctx);
  const at = int(rng, 1, target.length);
  // Raw control bytes never reach a route: Node's parser refuses them in the request line.
  const raw = rng.next() < 0.25;
  const insert = raw
    ? pick(rng, ['\u0000', '\u0001', '\u007f', '\t'])
    : pick(rng, ['%00', '%00.js', '%2500', '%0a', '%0d%0a', '%00/']);
  const t = target.slice(0, at) + insert + target.slice(at);
  return {
    family,
    request: request(method, t, BASE_HEADERS),
    expect: raw ? BAD_REQUEST : expectRoute(site, { method, target: t }),
    summary: summary(method, JSON.stringify(t).slice(1, -1)),
  };
}

/** Node refuses a request head (request line and headers) above 16 KiB; these stay clear of the edge. */
const HEAD_OK_MAX = 15_000;
const HEAD_REFUSED_MIN = 17_000;

function longPathCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const { method, target } = baseTarget(ctx);
  const refused = rng.next() < 0.35;
  const length = refused ? int(rng, HEAD_REFUSED_MIN, 80_000) : int(rng, 8_500, HEAD_OK_MAX - 500);
  const unit = pick(rng, ['a', 'x/', '../', '%2e%2e/', '%41', '/']);
  const padding = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
  const t =
    rng.next() < 0.5 ? `${target}${padding}` : `${target.slice(0, target.lastIndexOf('/') + 1)}${padding}`;
  return {
    family,
    request: request(method, t, BASE_HEADERS),
    expect: refused ? TOO_LARGE : expectRoute(site, { method, target: t }),
    summary: summary(method, t),
  };
}

const BAD_PERCENT = [
  '%',
  '%z',
  '%zz',
  '%E0%A4%A',
  '%C0%AF',
  '%FF',
  '%ED%A0%80',
  '%%',
  '%2',
  '%F0%9F%98',
  '%u0041',
];

function badPercentCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const { method, target } = baseTarget(ctx);
  const at = int(rng, 1, target.length);
  const t = target.slice(0, at) + pick(rng, BAD_PERCENT) + target.slice(at);
  return {
    family,
    request: request(method, t, BASE_HEADERS),
    expect: expectRoute(site, { method, target: t }),
    summary: summary(method, t),
  };
}

function authValue(rng: Rng, password: string): string | undefined {
  const variants: Array<() => string | undefined> = [
    () => undefined,
    () => 'Basic',
    () => 'Basic !!!!****',
    () => `Basic ${slug(rng, int(rng, 1, 40))}`,
    () => basic('office'),
    () => basic(`office:${slug(rng, 12)}`),
    () => basic(`office:${password}x`),
    () => basic(`Office:${password}`),
    () => basic(`machi-service:${slug(rng, 16)}`),
    () => `basic ${Buffer.from(`office:${password}`).toString('base64')}`,
    () => `Bearer ${slug(rng, 32)}`,
    () => `Digest username="office", realm="machi"`,
    () => basic(':'),
    () =>
      `Basic ${Buffer.concat([Buffer.from('office:'), randomBytes(rng, int(rng, 1, 30))]).toString('base64')}`,
    () => `Basic ${'A'.repeat(int(rng, 1000, HEAD_OK_MAX - 1000))}`,
    () => `${basic(`office:${password}`)}${pick(rng, ['====', '!', ' x', '%3D'])}`,
    () => basic(`office:${password}`),
  ];
  return pick(rng, variants)();
}

function authCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const target = `/api/alerts/${fakeAlertId(rng, site)}/${pick(rng, ['ack', 'ack', 'nack', 'ack/x', ''])}${rng.next() < 0.3 ? '?by=fz' : ''}`;
  if (rng.next() < 0.12) {
    const huge = `Basic ${'A'.repeat(int(rng, HEAD_REFUSED_MIN, 60_000))}`;
    return {
      family,
      request: request('POST', target, [...BASE_HEADERS, ['Authorization', huge]]),
      expect: TOO_LARGE,
      summary: `POST ${target} (Authorization of ${huge.length} bytes)`,
    };
  }
  const auth = authValue(rng, site.officePassword);
  const headers: Header[] = auth === undefined ? BASE_HEADERS : [...BASE_HEADERS, ['Authorization', auth]];
  return {
    family,
    request: request('POST', target, headers),
    expect: expectRoute(site, { method: 'POST', target, authorization: auth }),
    summary: `POST ${target} (Authorization: ${auth === undefined ? 'none' : auth.slice(0, 40)})`,
  };
}

function bodyOnGetCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  let { target } = baseTarget(ctx);
  if (target.startsWith('/api/')) target = '/healthz';
  const body =
    rng.next() < 0.5
      ? randomBytes(rng, int(rng, 1, 4000))
      : Buffer.from(JSON.stringify({ by: slug(rng, 8) }));
  const chunked = rng.next() < 0.4;
  const head = requestHead(`GET ${target} HTTP/1.1`, [
    ...BASE_HEADERS,
    chunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(body.length)],
  ]);
  const framed = chunked
    ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
    : body;
  return {
    family,
    request: { head: Buffer.concat([head, framed]) },
    expect: expectRoute(site, { method: 'GET', target }),
    summary: `GET ${target} with a ${body.length}-byte body${chunked ? ' (chunked)' : ''}`,
  };
}

function hugeBodyCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const target = `/api/alerts/${fakeAlertId(rng, site)}/ack`;
  const auth = pick(rng, [undefined, basic(`office:${site.officePassword}`), basic('office:nope')]);
  const size = int(rng, 64 * 1024, 32 * 1024 * 1024);
  const chunked = rng.next() < 0.3;
  const contentType = pick(rng, [
    'application/json',
    'application/octet-stream',
    'text/plain',
    'multipart/form-data; boundary=x',
  ]);
  // Kept alive: the answer comes before the body is read, and a server that closes a connection
  // the client is still sending on resets it, which can wipe the answer out of the client's
  // buffer before it is read (TCP, not machi). Kept alive, Node reads and discards the body.
  const headers: Header[] = [
    ...BASE_HEADERS.filter(([name]) => name !== 'Connection'),
    ['Content-Type', contentType],
    chunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(size)],
    ...(auth ? [['Authorization', auth] as [string, string]] : []),
  ];
  const head = requestHead(`POST ${target} HTTP/1.1`, headers);
  return {
    family,
    // Chunked: one giant chunk, never finished; the answer must come without waiting for it.
    request: {
      head: chunked ? Buffer.concat([head, Buffer.from(`${size.toString(16)}\r\n`)]) : head,
      body: { size, fill: pick(rng, ['x', '{', '\u0000']), chunk: 64 * 1024 },
    },
    expect: expectRoute(site, { method: 'POST', target, authorization: auth, contentType }),
    summary: `POST ${target} with a ${size}-byte body${chunked ? ' (chunked)' : ''}${auth ? '' : ' (no credentials)'}`,
  };
}

const QUERIES = [
  '%',
  '%zz',
  'by=%ff%fe',
  '&&&==&',
  'a[b][c]=1',
  'by',
  'by=a&by=b',
  '%00=%00',
  '__proto__[x]=1',
  'by=',
  '?',
  '#frag',
  ';;',
  'constructor=1',
];

function queryCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const { method, target } = baseTarget(ctx);
  const q = rng.next() < 0.15 ? `by=${'x'.repeat(int(rng, 100, 8000))}` : pick(rng, QUERIES);
  const t = `${target}?${q}`;
  return {
    family,
    request: request(method, t, BASE_HEADERS),
    expect: expectRoute(site, { method, target: t }),
    summary: summary(method, t),
  };
}

const BAD_JSON = [
  '{',
  '{"by":',
  '{"by":"x",}',
  "{'by':'x'}",
  'null',
  '[]',
  '{"by":NaN}',
  '\u0000',
  '{"__proto__":{"x":1}}',
];

function badJsonCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const target = `/api/alerts/${fakeAlertId(rng, site)}/ack`;
  const body =
    rng.next() < 0.2 ? Buffer.from('['.repeat(int(rng, 1000, 12_000))) : Buffer.from(pick(rng, BAD_JSON));
  const auth = rng.next() < 0.5 ? basic(`office:${site.officePassword}`) : undefined;
  const head = requestHead(`POST ${target} HTTP/1.1`, [
    ...BASE_HEADERS,
    ['Content-Type', 'application/json'],
    ['Content-Length', String(body.length)],
    ...(auth ? [['Authorization', auth] as [string, string]] : []),
  ]);
  return {
    family,
    request: { head: Buffer.concat([head, body]) },
    expect: expectRoute(site, {
      method: 'POST',
      target,
      authorization: auth,
      contentType: 'application/json',
    }),
    summary: `POST ${target} with ${body.length} bytes of bad JSON`,
  };
}

/** Requests Node's parser refuses before any route sees them, and the odd forms it lets through. */
function framingCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const { method, target } = baseTarget(ctx);
  const line = `${method} ${target} HTTP/1.1`;
  const route = expectRoute(site, { method, target });
  const refused = (name: string, head: Buffer): HttpInput => ({
    family,
    request: { head },
    expect: BAD_REQUEST,
    summary: `${summary(method, target)}: ${name}`,
  });
  // Under Node's header-count limit the route answers; over it the parser refuses.
  const manyHeaders = (min: number, max: number, expect: HttpExpect): HttpInput => {
    const n = int(rng, min, max);
    const extra = Array.from({ length: n }, (_, i) => `X-F${i}: ${slug(rng, 3)}`);
    return {
      family,
      request: { head: requestHead(line, [...BASE_HEADERS, ...extra]) },
      expect,
      summary: `${summary(method, target)}: ${n} headers`,
    };
  };
  const cases: Array<() => HttpInput> = [
    () =>
      refused(
        'Content-Length with Transfer-Encoding',
        requestHead(line, [...BASE_HEADERS, ['Content-Length', '3'], ['Transfer-Encoding', 'chunked']]),
      ),
    () =>
      refused(
        'bad Content-Length',
        requestHead(line, [
          ...BASE_HEADERS,
          ['Content-Length', pick(rng, ['abc', '-1', '1e3', '0x10', '2, 2', '+5'])],
        ]),
      ),
    () =>
      refused(
        'two Content-Lengths',
        requestHead(line, [
          ...BASE_HEADERS,
          ['Content-Length', '1'],
          ['Content-Length', String(int(rng, 1, 9))],
        ]),
      ),
    () =>
      refused(
        'header without a colon',
        requestHead(line, [...BASE_HEADERS, pick(rng, ['X-Fuzz', 'X Fuzz', ': x', 'X-Fuzz : y'])]),
      ),
    () => refused('folded header', requestHead(line, [...BASE_HEADERS, 'X-Fuzz: a', ' b'])),
    () => refused('LF line ends', requestHead(line, BASE_HEADERS, '\n')),
    () => refused('bare CR', Buffer.from(`${line}\rHost: x\r\r`)),
    () =>
      refused(
        'bad version',
        requestHead(
          `${method} ${target} ${pick(rng, ['HTTP/1.2', 'HTTP/3.1', 'HTTP/1', 'HTTP/x.y', 'HTTPS/1.1', 'http/1.1'])}`,
          BASE_HEADERS,
        ),
      ),
    () => refused('HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')),
    () =>
      refused(
        'control byte in a header',
        requestHead(line, [
          ...BASE_HEADERS,
          `X-Fuzz: a${pick(rng, ['\u0000', '\u0001', '\u001b', '\u007f'])}b`,
        ]),
      ),
    () =>
      refused(
        'non-token header name',
        requestHead(line, [...BASE_HEADERS, `${pick(rng, ['X\u00e9', '(x)', 'X@Y', 'X/Y', '{}'])}: y`]),
      ),
    () => {
      // No upper-case letters (so no method), and not a blank line first (which the parser skips).
      const bytes = randomBytes(rng, int(rng, 1, 200)).map((b) => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b));
      if (bytes[0] === 0x0d || bytes[0] === 0x0a) bytes[0] = 0x00;
      return refused('random bytes', Buffer.concat([bytes, Buffer.from('\r\n\r\n')]));
    },
    () =>
      refused(
        'TLS hello',
        Buffer.from([
          0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a,
        ]),
      ),
    () => refused('authority form', requestHead(`${method} 127.0.0.1:80 HTTP/1.1`, BASE_HEADERS)),
    () => refused('no Host header', requestHead(line, [['Connection', 'close']])),
    () => ({
      family,
      request: {
        head: requestHead(line, [
          ...BASE_HEADERS,
          ['Expect', pick(rng, ['200-ok', 'x', '100-continu', 'continue'])],
        ]),
      },
      expect: answer(417, 'MACHI_ERR_EXPECTATION_FAILED'),
      summary: `${summary(method, target)}: unmet Expect`,
    }),
    () => ({
      family,
      request: { head: requestHead(line, [...BASE_HEADERS, ['Expect', '100-continue']]) },
      expect: route,
      summary: `${summary(method, target)}: Expect 100-continue`,
    }),
    () => ({
      family,
      request: request(method, target, BASE_HEADERS, { version: pick(rng, ['HTTP/1.0', 'HTTP/2.0']) }),
      expect: route,
      summary: `${summary(method, target)}: other version`,
    }),
    () => {
      const abs = `http://${pick(rng, ['evil.example', '127.0.0.1:1', 'x'])}${target}`;
      return {
        family,
        request: request(method, abs, BASE_HEADERS),
        expect: expectRoute(site, { method, target: abs }),
        summary: summary(method, abs),
      };
    },
    () => ({
      family,
      request: request('OPTIONS', '*', BASE_HEADERS),
      expect: expectRoute(site, { method: 'OPTIONS', target: '*' }),
      summary: 'OPTIONS *',
    }),
    () => manyHeaders(200, 1500, route),
    () => manyHeaders(2500, 6000, TOO_LARGE),
    () => {
      // Node's parser takes the head, hands the request on, then fails on the framing: whichever
      // answers first (a route that answers at once, or the parse error) is the answer.
      const te = pick(rng, ['identity', 'gzip', 'x', 'deflate']);
      return {
        family,
        request: { head: requestHead(line, [...BASE_HEADERS, ['Transfer-Encoding', te]]) },
        expect: { kind: 'http', statuses: [...route.statuses, 400], mayCloseUnanswered: true },
        summary: `${summary(method, target)}: Transfer-Encoding ${te}`,
      };
    },
    () => {
      // A broken chunk after a head the route answers at once: the answer may already be out.
      const head = requestHead(line, [...BASE_HEADERS, ['Transfer-Encoding', 'chunked']]);
      const body = Buffer.from(
        pick(rng, ['zz\r\nab\r\n0\r\n\r\n', '-1\r\n\r\n', '5\r\nab\r\n', 'ffffffffffffffffff\r\n']),
      );
      return {
        family,
        request: { head: Buffer.concat([head, body]) },
        expect: { kind: 'http', statuses: [...route.statuses, 400], mayCloseUnanswered: true },
        summary: `${summary(method, target)}: broken chunk`,
      };
    },
  ];
  return pick(rng, cases)();
}

function headerCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const { method, target } = baseTarget(ctx);
  const route = expectRoute(site, { method, target });
  const r = rng.next();
  if (r < 0.3) {
    const size = int(rng, HEAD_REFUSED_MIN, 100_000);
    return {
      family,
      request: request(method, target, [...BASE_HEADERS, ['X-Fuzz', 'a'.repeat(size)]]),
      expect: TOO_LARGE,
      summary: `${summary(method, target)}: a ${size}-byte header`,
    };
  }
  const odd: Array<[string, string]> = [
    ['X-Forwarded-For', pick(rng, ['::1, evil', '%00', '1.1.1.1'.repeat(100)])],
    ['Content-Type', pick(rng, ['', ';;;', 'application/json; charset=ebcdic', 'x'.repeat(3000)])],
    ['Cookie', pick(rng, ['a=b; '.repeat(500), '=', ';'])],
    ['Accept', '*/*;q=NaN'],
    ['Range', pick(rng, ['bytes=-1', 'bytes=999999999999-', 'lines=1-2'])],
    ['If-None-Match', '"x"'.repeat(200)],
    ['X-Fuzz', Buffer.from(randomBytes(rng, 40).filter((b) => b >= 0x80)).toString('latin1')],
  ];
  const header = pick(rng, odd);
  return {
    family,
    request: request(method, target, [...BASE_HEADERS, header]),
    expect: route,
    summary: `${summary(method, target)}: ${header[0]}`,
  };
}

/** Frames no WebSocket peer may send a server: unmasked, reserved bits, reserved opcodes. */
const BAD_FRAMES = [
  Buffer.from([0x82, 0x02, 0x10, 0x00]),
  Buffer.from([0xf2, 0x80, 0, 0, 0, 0]),
  Buffer.from([0x83, 0x80, 1, 2, 3, 4]),
  Buffer.from([0x8b, 0x80, 1, 2, 3, 4]),
  Buffer.from([0x09, 0xfe, 0xff, 0xff, 1, 2, 3, 4]),
];

function upgradeCase(ctx: Ctx, family: string): HttpInput {
  const { rng, site } = ctx;
  const validKey = Buffer.from(randomBytes(rng, 16)).toString('base64');
  const method = rng.next() < 0.85 ? 'GET' : pick(rng, ['POST', 'PUT', 'HEAD', 'OPTIONS']);
  const target = pick(rng, [
    '/mqtt',
    '/mqtt',
    '/mqtt',
    '/mqtt?x=1',
    '/mqtt/',
    '/MQTT',
    '/mqttx',
    '/',
    '/healthz',
    '//',
    '/%2fmqtt',
    `/signage/${pick(rng, site.signs)}`,
  ]);
  const upgrade =
    rng.next() < 0.8 ? 'websocket' : pick(rng, ['h2c', 'WebSocket', 'websocket2', 'tls/1.0', 'x']);
  const key = pick(rng, [
    validKey,
    validKey,
    validKey,
    undefined,
    'short',
    `${validKey.slice(0, -2)}!!`,
    'x'.repeat(200),
  ]);
  const version = pick(rng, ['13', '13', '13', '8', undefined, '12', 'abc', '-1']);
  const protocol = pick(rng, [undefined, undefined, 'mqtt', 'mqtt, mqttv3.1', '@@', 'mqtt, mqtt', 'a b']);
  const headers: Header[] = [
    ['Host', '127.0.0.1'],
    ['Connection', 'Upgrade'],
    ['Upgrade', upgrade],
    ...(key === undefined ? [] : [['Sec-WebSocket-Key', key] as [string, string]]),
    ...(version === undefined ? [] : [['Sec-WebSocket-Version', version] as [string, string]]),
    ...(protocol === undefined ? [] : [['Sec-WebSocket-Protocol', protocol] as [string, string]]),
  ];
  return {
    family,
    request: request(method, target, headers, { afterUpgrade: pick(rng, BAD_FRAMES) }),
    expect: expectUpgrade({ method, target, upgrade, key, version, protocol }),
    summary: `${method} ${target} Upgrade: ${upgrade} (key ${key === validKey ? 'valid' : String(key).slice(0, 12)}, version ${version}, protocol ${protocol})`,
  };
}

/** Family, weight, maker (within the HTTP channel). */
export const HTTP_FAMILIES: ReadonlyArray<
  readonly [string, number, (ctx: Ctx, family: string) => HttpInput]
> = [
  ['http-method', 4, methodCase],
  ['http-dot-path', 3, dotPathCase],
  ['http-nul-path', 2, nulPathCase],
  ['http-long-path', 2, longPathCase],
  ['http-bad-percent', 2, badPercentCase],
  ['http-auth', 4, authCase],
  ['http-body-on-get', 2, bodyOnGetCase],
  ['http-huge-body', 1, hugeBodyCase],
  ['http-query', 2, queryCase],
  ['http-bad-json', 2, badJsonCase],
  ['http-framing', 4, framingCase],
  ['http-headers', 2, headerCase],
  ['http-upgrade', 3, upgradeCase],
];

export function httpInput(rng: Rng, site: HttpSite, family: string): HttpInput {
  const entry = HTTP_FAMILIES.find(([name]) => name === family);
  if (!entry) throw new Error(`no HTTP family ${family}`);
  return entry[2]({ rng, site }, family);
}

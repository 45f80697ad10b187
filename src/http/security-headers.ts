// Headers on every answer of machi's HTTP listeners, and their TLS (HTTP_TLS_CERT/KEY). The pages
// load only their own scripts and styles, talk only to their own origin (fetch, SSE, /mqtt over
// WebSocket) and may not be framed: a payload that slips into the DOM as markup still cannot run.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';

export interface HttpSecurity {
  tls?: { cert: Buffer; key: Buffer };
  headers: Record<string, string>;
}

/** The office map's tile server as a CSP source (`{s}` subdomains become a wildcard). */
function tileSource(tileUrl: string | undefined): string[] {
  const origin = tileUrl?.match(/^https?:\/\/[^/]+/)?.[0];
  return origin ? [origin.replace(/\/\/[^.]*\{s\}[^.]*\./, '//*.')] : [];
}

export function securityHeaders(config: Config): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // data: for the signs' QR codes (an SVG data URL).
    ["img-src 'self' data:", ...tileSource(config.office.tileUrl)].join(' '),
    "connect-src 'self'",
    // mqtt.min.js runs its keepalive timers in a blob: worker, so a console left in a background
    // tab keeps its connection (browsers throttle a hidden page's own timers to once a minute).
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    // Only over TLS: a browser ignores it on plain HTTP, and a proxy in front owns it there.
    ...(config.http.tls ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

export function httpSecurity(config: Config): HttpSecurity {
  const tls = config.http.tls;
  return {
    tls: tls && { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) },
    headers: securityHeaders(config),
  };
}

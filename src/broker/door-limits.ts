// Small limits at the broker's doors: a token bucket (connect rate, dead-letter rates), open
// connections per source address, the keepalive a client may ask for, and the Origin a browser may come from.
import type { IncomingMessage } from 'node:http';

/** `rate` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private at = Date.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Token buckets by key, the least recently used forgotten beyond `maxKeys`. */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string, now = Date.now()): boolean {
    let b = this.buckets.get(key);
    if (b) this.buckets.delete(key);
    else {
      b = new TokenBucket(this.rate, this.burst);
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(key, b);
    return b.take(now);
  }
}

/** Open connections per source address, capped. */
export class ConnectionsPerAddress {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts a new connection; false (and not counted) when the address is at its cap. */
  add(address: string): boolean {
    const n = this.open.get(address) ?? 0;
    if (n >= this.max) return false;
    this.open.set(address, n + 1);
    return true;
  }

  remove(address: string): void {
    const n = (this.open.get(address) ?? 1) - 1;
    if (n <= 0) this.open.delete(address);
    else this.open.set(address, n);
  }
}

/**
 * The keepalive the broker holds a client to: MQTT 3.1.1 cannot tell the client, so one asking for
 * none (0) or more than `max` seconds is held to `max` (silent for 1.5× that, it is disconnected).
 */
export const clampKeepalive = (asked: number, max: number): number =>
  asked <= 0 || asked > max ? max : asked;

/**
 * May a WebSocket upgrade with this request go ahead? Without an Origin header (not a browser): yes.
 * A browser's Origin must be the page's own (same host as the request) or on the allow-list.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === req.headers.host;
  } catch {
    return false;
  }
}

// HTTP/1.1 by hand, for the fuzzer's HTTP families: requests written byte for byte (so they can be
// wrong in ways no HTTP client allows) over a raw TCP socket, and a reader for the answer.
import { connect } from 'node:net';

/** A request as bytes, with an optional body streamed after the head (huge bodies are not held). */
export interface RawRequest {
  head: Buffer;
  /** Body bytes sent after the head, in chunks of `chunk` bytes until `size` (stops once answered). */
  body?: { size: number; fill: string; chunk: number };
  /** Sent once the server answers 101 (the request was a WebSocket upgrade it accepted). */
  afterUpgrade?: Buffer;
}

export interface RawResponse {
  /** Undefined when nothing parseable came back. */
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The server closed the connection. */
  closed: boolean;
  /** No complete answer within the time allowed. */
  timedOut: boolean;
  ms: number;
}

/** The head of a request: request line and header lines as given (CRLF unless `eol` says otherwise). */
export function requestHead(
  requestLine: string | Buffer,
  headers: Array<[string, string] | string | Buffer>,
  eol = '\r\n',
): Buffer {
  const lines = [requestLine, ...headers.map((h) => (Array.isArray(h) ? `${h[0]}: ${h[1]}` : h))];
  return Buffer.concat([
    ...lines.flatMap((l) => [Buffer.from(l as string), Buffer.from(eol)]),
    Buffer.from(eol),
  ]);
}

/** Status, headers and as much of the body as is there (by content-length, else up to the close). */
export function parseResponse(
  bytes: Buffer,
  headRequest = false,
): Omit<RawResponse, 'closed' | 'timedOut' | 'ms'> & {
  complete: boolean;
} {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return { headers: {}, body: Buffer.alloc(0), complete: false };
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? Number.NaN);
  // An interim answer (100 Continue) precedes the real one.
  if (status >= 100 && status < 200 && status !== 101)
    return parseResponse(bytes.subarray(end + 4), headRequest);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(end + 4);
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  // 1xx (101 Switching Protocols), 204, 304 and answers to HEAD have no body.
  const noBody = headRequest || status < 200 || status === 204 || status === 304;
  const body = noBody ? Buffer.alloc(0) : length === undefined ? rest : rest.subarray(0, length);
  const complete = noBody || (length !== undefined && rest.length >= length);
  return { status: Number.isNaN(status) ? undefined : status, headers, body, complete };
}

/**
 * Sends `req` on its own connection and waits for a complete answer, the close, or `timeoutMs`.
 * Write errors (the server answered and closed while a body was still going out) are expected.
 * After a 101, `req.afterUpgrade` goes out on the upgraded connection and the wait is for the close.
 */
export function sendRaw(port: number, req: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const started = Date.now();
  const headRequest = req.head.subarray(0, 5).toString('latin1') === 'HEAD ';
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let closed = false;
    let settled = false;
    let upgraded = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseResponse(received, headRequest);
      resolve({
        status: parsed.status,
        headers: parsed.headers,
        body: parsed.body,
        closed,
        timedOut: timedOut && (!parsed.complete || upgraded),
        ms: Date.now() - started,
      });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parseResponse(received, headRequest);
      if (!parsed.complete || parsed.status === undefined) return;
      if (parsed.status !== 101) finish(false);
      else if (!upgraded) {
        // The new protocol's turn: garbage on it must end in a close, not a wedged connection.
        upgraded = true;
        socket.write(req.afterUpgrade ?? Buffer.alloc(0));
      }
    });
    socket.on('close', () => {
      closed = true;
      finish(false);
    });
    socket.once('connect', async () => {
      socket.write(req.head);
      const body = req.body;
      if (!body) return;
      const block = Buffer.alloc(Math.min(body.chunk, body.size), body.fill);
      for (let sent = 0; sent < body.size && !settled && received.length === 0; sent += block.length) {
        const piece = block.subarray(0, Math.min(block.length, body.size - sent));
        if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
    });
  });
}

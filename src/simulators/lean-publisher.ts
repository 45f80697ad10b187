// A minimal MQTT 3.1.1 QoS 1 publisher for load generation: CONNECT with a username and password,
// PUBLISH at QoS 1, PUBACKs matched by packet id; no subscriptions, keep-alive or reconnects.
// Measured here it spends a fraction of MQTT.js's CPU per message; on a machine whose cores are
// shared by the generator and the system under test, that CPU goes to what is being measured.
import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { BrokerTrust } from '../runtime/component.ts';

export interface LeanConnectOptions {
  host: string;
  port: number;
  clientId: string;
  username: string;
  password: string;
  localAddress?: string;
  connectTimeoutMs: number;
  /** Set: MQTT over TLS, trusting this CA (or Node's own) and checking the broker's name. */
  tls?: BrokerTrust;
}

const PUBLISH_QOS1 = 0x32;
const CONNECT = 0x10;
const CONNACK = 0x2;
const PUBACK = 0x4;

const lengthBytes = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);

/** Writes MQTT's variable-length "remaining length" at `at`; returns the offset after it. */
function writeLength(buf: Buffer, at: number, n: number): number {
  let rest = n;
  let i = at;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    buf[i++] = byte;
  } while (rest > 0);
  return i;
}

function connectPacket(o: LeanConnectOptions): Buffer {
  const strings = [o.clientId, o.username, o.password].map((s) => Buffer.from(s, 'utf8'));
  // Protocol name "MQTT", level 4, flags: username, password, clean session; keep-alive 0 (off).
  const header = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 0]);
  const remaining = header.length + strings.reduce((sum, s) => sum + 2 + s.length, 0);
  const buf = Buffer.alloc(1 + lengthBytes(remaining) + remaining);
  buf[0] = CONNECT;
  let at = writeLength(buf, 1, remaining);
  at += header.copy(buf, at);
  for (const s of strings) {
    at = buf.writeUInt16BE(s.length, at);
    at += s.copy(buf, at);
  }
  return buf;
}

export class LeanPublisher {
  private readonly acks = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private rest: Buffer | undefined;
  private closedWith: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', (err) => this.close(err));
    socket.on('close', () => this.close(new Error('connection closed')));
  }

  /** Resolves once the broker accepted the CONNECT. */
  static open(o: LeanConnectOptions): Promise<LeanPublisher> {
    return new Promise((resolve, reject) => {
      const at = { host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) };
      const socket = o.tls
        ? connectTls({ ...at, ...o.tls, ...(isIP(o.host) ? {} : { servername: o.host }) })
        : connect(at);
      socket.setNoDelay(true);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new Error(`no CONNACK within ${o.connectTimeoutMs} ms`)),
        o.connectTimeoutMs,
      );
      socket.once('error', fail);
      socket.once(o.tls ? 'secureConnect' : 'connect', () => socket.write(connectPacket(o)));
      socket.once('data', (chunk: Buffer) => {
        clearTimeout(timer);
        socket.off('error', fail);
        // CONNACK: 0x20, length 2, session-present flags, return code.
        if (chunk.length < 4 || (chunk[0] as number) >> 4 !== CONNACK)
          return fail(new Error('expected a CONNACK'));
        if (chunk[3] !== 0) return fail(new Error(`connection refused (return code ${chunk[3]})`));
        const publisher = new LeanPublisher(socket);
        if (chunk.length > 4) publisher.read(chunk.subarray(4));
        resolve(publisher);
      });
    });
  }

  /** Sends a QoS 1 PUBLISH; resolves on its PUBACK, rejects if the connection closes first. */
  publish(topic: string, payload: string): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    let id = this.nextId;
    while (this.acks.has(id)) id = (id % 65_535) + 1;
    this.nextId = (id % 65_535) + 1;
    const topicBytes = Buffer.byteLength(topic);
    const remaining = 2 + topicBytes + 2 + Buffer.byteLength(payload);
    const buf = Buffer.allocUnsafe(1 + lengthBytes(remaining) + remaining);
    buf[0] = PUBLISH_QOS1;
    let at = writeLength(buf, 1, remaining);
    at = buf.writeUInt16BE(topicBytes, at);
    at += buf.write(topic, at);
    at = buf.writeUInt16BE(id, at);
    buf.write(payload, at);
    return new Promise((resolve, reject) => {
      this.acks.set(id, { resolve, reject });
      this.socket.write(buf);
    });
  }

  /**
   * Sends DISCONNECT and closes. A broker that is behind reads the DISCONNECT only after its backlog,
   * and a paused socket may never close from its side: after `graceMs` the socket is destroyed.
   */
  end(graceMs = 1000): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      const timer = setTimeout(() => this.socket.destroy(), graceMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end(Buffer.from([0xe0, 0]));
    });
  }

  /** Splits the stream into packets; only PUBACKs are expected after the CONNACK. */
  private read(chunk: Buffer): void {
    let buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    while (buf.length >= 2) {
      let length = 0;
      let multiplier = 1;
      let at = 1;
      let byte: number;
      do {
        if (at >= buf.length) {
          this.rest = buf;
          return;
        }
        byte = buf[at++] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
      } while (byte & 0x80);
      if (buf.length < at + length) break;
      if ((buf[0] as number) >> 4 === PUBACK && length >= 2) {
        const id = buf.readUInt16BE(at);
        const ack = this.acks.get(id);
        this.acks.delete(id);
        ack?.resolve();
      }
      buf = buf.subarray(at + length);
    }
    if (buf.length > 0) this.rest = buf;
  }

  private close(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const ack of this.acks.values()) ack.reject(err);
    this.acks.clear();
    this.socket.destroy();
  }
}

// MQTT 3.1.1 bytes by hand, for the fuzzer's raw-socket cases: well-formed packets to start from
// (then broken on purpose) and a reader for what the broker answers. Pure; no sockets here.

/** The remaining-length varint. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A length-prefixed field: UTF-8 text, or raw bytes (to send invalid UTF-8). */
export function lengthPrefixed(value: string | Buffer): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length & 0xffff);
  return Buffer.concat([len, body]);
}

export function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), varint(body.length), body]);
}

export function connectPacket(opts: {
  clientId: string;
  username?: string;
  password?: string;
  protocolName?: string;
  level?: number;
  flags?: number;
  /** A last will, QoS 1: published by the broker if the connection drops without DISCONNECT. */
  will?: { topic: string; payload: Buffer };
}): Buffer {
  let flags = 0x02; // clean session
  if (opts.username !== undefined) flags |= 0x80;
  if (opts.password !== undefined) flags |= 0x40;
  if (opts.will) flags |= 0x04 | 0x08;
  const body = Buffer.concat([
    lengthPrefixed(opts.protocolName ?? 'MQTT'),
    Buffer.from([opts.level ?? 4, opts.flags ?? flags, 0, 30]), // keep-alive 30 s
    lengthPrefixed(opts.clientId),
    ...(opts.will ? [lengthPrefixed(opts.will.topic), lengthPrefixed(opts.will.payload)] : []),
    ...(opts.username !== undefined ? [lengthPrefixed(opts.username)] : []),
    ...(opts.password !== undefined ? [lengthPrefixed(opts.password)] : []),
  ]);
  return packet(0x10, body);
}

export function publishPacket(opts: {
  topic: string | Buffer;
  payload: Buffer;
  qos: number;
  packetId?: number;
}): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(opts.packetId ?? 1);
  const body = Buffer.concat([lengthPrefixed(opts.topic), ...(opts.qos > 0 ? [id] : []), opts.payload]);
  return packet(0x30 | ((opts.qos & 3) << 1), body);
}

export function subscribePacket(
  filters: Array<{ filter: string | Buffer; qos: number }>,
  packetId = 1,
): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(packetId);
  const body = Buffer.concat([
    id,
    ...filters.flatMap((f) => [lengthPrefixed(f.filter), Buffer.from([f.qos])]),
  ]);
  return packet(0x82, body);
}

/** What the broker sent back on a raw socket, packet by packet. */
export interface RawReplies {
  /** CONNACK return codes (0 = accepted). */
  connack: number[];
  /** Packet ids the broker acknowledged with PUBACK or PUBREC. */
  acked: number[];
  /** SUBACK return codes. */
  suback: number[];
  other: number;
}

export function readReplies(bytes: Buffer): RawReplies {
  const replies: RawReplies = { connack: [], acked: [], suback: [], other: 0 };
  let i = 0;
  while (i < bytes.length) {
    const type = (bytes[i] ?? 0) >> 4;
    let len = 0;
    let mult = 1;
    let j = i + 1;
    for (; j < bytes.length && j < i + 5; j++) {
      const b = bytes[j] ?? 0;
      len += (b & 0x7f) * mult;
      mult *= 128;
      if ((b & 0x80) === 0) break;
    }
    const start = j + 1;
    const body = bytes.subarray(start, start + len);
    if (body.length < len) break; // cut off by the close
    if (type === 2) replies.connack.push(body[1] ?? -1);
    else if (type === 4 || type === 5) replies.acked.push(body.readUInt16BE(0));
    else if (type === 9) replies.suback.push(...body.subarray(2));
    else replies.other++;
    i = start + len;
  }
  return replies;
}

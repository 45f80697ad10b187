// The wire-level packet size guard: it follows MQTT fixed headers across any chunking and drops
// the connection as soon as a packet declares more than the limit.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guardPacketSize, maxPacketBytes } from '../../src/broker/packet-guard.ts';

const LIMIT = 1000;

/** A PUBLISH-typed packet with `size` body bytes (remaining length as a varint). */
function packetOf(size: number): Buffer {
  const len: number[] = [];
  let n = size;
  do {
    len.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x30, ...len]), Buffer.alloc(size, 0x41)]);
}

function feed(chunks: Buffer[]) {
  const stream = new PassThrough();
  const refused: number[] = [];
  guardPacketSize(stream, LIMIT, (declared) => refused.push(declared));
  stream.resume();
  for (const c of chunks) if (!stream.destroyed) stream.write(c);
  return { stream, refused };
}

const bytewise = (b: Buffer) => [...b].map((x) => Buffer.from([x]));

describe('guardPacketSize', () => {
  it('lets packets up to the limit through, however they are chunked', async () => {
    const stream = Buffer.concat([
      packetOf(0),
      packetOf(127),
      packetOf(128),
      packetOf(LIMIT),
      Buffer.from([0xc0, 0]),
    ]);
    for (const chunks of [
      [stream],
      bytewise(stream),
      [stream.subarray(0, 3), stream.subarray(3, 200), stream.subarray(200)],
    ]) {
      const { stream: s, refused } = feed(chunks);
      await new Promise((r) => setImmediate(r));
      expect(refused).toEqual([]);
      expect(s.destroyed).toBe(false);
    }
  });

  it('drops the connection when a packet declares more than the limit, before its body arrives', async () => {
    const big = packetOf(LIMIT + 1).subarray(0, 3);
    for (const chunks of [
      [Buffer.concat([packetOf(10), big])],
      bytewise(Buffer.concat([packetOf(10), big])),
    ]) {
      const { stream, refused } = feed(chunks);
      await new Promise((r) => setImmediate(r));
      expect(refused).toEqual([LIMIT + 1]);
      expect(stream.destroyed).toBe(true);
    }
  });

  it('refuses the largest length MQTT can declare (256 MiB) from its header alone', async () => {
    const { stream, refused } = feed([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])]);
    await new Promise((r) => setImmediate(r));
    expect(refused).toHaveLength(1);
    expect(stream.destroyed).toBe(true);
  });

  it('keeps room for oversized payloads to be dead-lettered', () => {
    expect(maxPacketBytes(8192)).toBe(1024 * 1024);
    expect(maxPacketBytes(4 * 1024 * 1024)).toBeGreaterThan(4 * 1024 * 1024 + 65_535);
  });
});

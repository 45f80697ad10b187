// patches/kafkajs+2.2.4.patch writes a record without headers in one pass. These tests hold it to
// kafkajs's own generic encoding (rebuilt here from its Encoder primitives) and to its decoder.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type Bytes = string | Buffer | null;
interface RecordInput {
  offsetDelta: number;
  timestampDelta: number;
  key: Bytes;
  value: Bytes;
  headers?: Record<string, string>;
}
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: RecordInput) => {
  buffer: Buffer;
};
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  d: unknown,
  batch: { firstOffset: string; firstTimestamp: string },
) => { key: Buffer | null; value: Buffer | null; offset: string; headers: object };
const Encoder = require('kafkajs/src/protocol/encoder') as {
  new (): {
    writeVarInt(v: number): unknown;
    writeInt8(v: number): unknown;
    writeVarLong(v: number): unknown;
    writeVarIntBytes(v: Bytes): unknown;
    writeVarIntArray(v: unknown[]): unknown;
    buffer: Buffer;
  };
  sizeOfVarInt(v: number): number;
  sizeOfVarLong(v: number): number;
  sizeOfVarIntBytes(v: Bytes): number;
};
const Decoder = require('kafkajs/src/protocol/decoder') as new (
  b: Buffer,
) => { readVarInt(): number; offset: number };

/** Decodes one record: its length prefix, then what the decoder reads after it. */
function decode(encoded: Buffer) {
  const d = new Decoder(encoded);
  const length = d.readVarInt();
  expect(encoded.length - d.offset).toBe(length);
  return decodeRecord(d, batch);
}

/** kafkajs's generic encoding of a record with no headers. */
function reference({ offsetDelta, timestampDelta, key, value }: RecordInput): Buffer {
  const sizeOfBody =
    1 +
    Encoder.sizeOfVarLong(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    Encoder.sizeOfVarInt(0);
  const e = new Encoder();
  e.writeVarInt(sizeOfBody);
  e.writeInt8(0);
  e.writeVarLong(timestampDelta);
  e.writeVarInt(offsetDelta);
  e.writeVarIntBytes(key);
  e.writeVarIntBytes(value);
  e.writeVarIntArray([]);
  return e.buffer;
}

/** A small deterministic generator, so a failure reproduces. */
function lcg(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

const batch = { firstOffset: '0', firstTimestamp: '0' };

describe('patched kafkajs record encoder', () => {
  it('writes the same bytes as the generic encoder for keys, values and deltas of every size', () => {
    const rnd = lcg(7);
    const texts = ['', 'fs-load-1', 'é水位', 'x'.repeat(127), 'y'.repeat(128), 'z'.repeat(20_000)];
    const deltas = [0, 1, -1, 63, 64, -65, 5000, 2 ** 20, -(2 ** 31), 2 ** 31 - 1];
    for (let i = 0; i < 2000; i++) {
      const pick = (): Bytes => {
        const t = texts[rnd(texts.length)] as string;
        const k = rnd(3);
        return k === 0 ? null : k === 1 ? t : Buffer.from(t);
      };
      const input: RecordInput = {
        offsetDelta: i < 10 ? (deltas[i] as number) : rnd(10_000),
        timestampDelta: deltas[rnd(deltas.length)] as number,
        key: pick(),
        value: pick(),
      };
      expect(Record(input).buffer.equals(reference(input))).toBe(true);
    }
  });

  it("round-trips through kafkajs's record decoder", () => {
    const value = JSON.stringify({ v: 1, reading: { level: 12.5, note: '冠水' } });
    const encoded = Record({ offsetDelta: 42, timestampDelta: 0, key: 'takeo-flood-07', value }).buffer;
    const decoded = decode(encoded);
    expect(decoded.key?.toString()).toBe('takeo-flood-07');
    expect(decoded.value?.toString()).toBe(value);
    expect(decoded.offset).toBe('42');
  });

  it('still encodes records with headers through the generic path', () => {
    const withHeaders = Record({
      offsetDelta: 1,
      timestampDelta: 0,
      key: 'k',
      value: 'v',
      headers: { a: 'b' },
    });
    const decoded = decode(withHeaders.buffer);
    expect(decoded.headers).toEqual({ a: Buffer.from('b') });
  });
});

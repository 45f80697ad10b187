// A compact LPWA-style frame, sent as an ASCII hex string (as LoRaWAN/Sigfox gateways forward it).
// Big-endian. Byte 0 version (1), byte 1 message type, then per type:
//   1 flood (15 B):     u32 time, u16 seq, u8 flags (bit0 wet, bit1 depth present), u8 stage,
//                       u16 depth mm, u16 battery cV (0xFFFF unknown), i8 rssi dBm (127 unknown)
//   2 crowd (16 B):     u32 interval start, u16 duration s, u16 seq, u16 in, u16 out,
//                       u16 occupancy (0xFFFF unknown)
//   3 heartbeat (11 B): u32 time, u16 seq, u16 battery cV (0xFFFF unknown), i8 rssi dBm (127 unknown)
// Times are Unix seconds. The frame has no device id: the topic names the device.
import type { CanonicalReading } from '../schemas/readings.ts';
import { Rejection } from '../schemas/reasons.ts';
import type { VendorAdapter } from './adapter.ts';
import { epochToIso, isoToEpoch, kindOf } from './kinds.ts';

const VERSION = 1;
const TYPES = { flood: 1, crowd: 2, heartbeat: 3 } as const;
const LENGTHS: Record<number, number> = { 1: 15, 2: 16, 3: 11 };
const UNKNOWN_U16 = 0xffff;
const UNKNOWN_RSSI = 127;

const optU16 = (v: number) => (v === UNKNOWN_U16 ? undefined : v);
const battery = (cv: number) => (cv === UNKNOWN_U16 ? undefined : cv / 100);
const rssi = (v: number) => (v === UNKNOWN_RSSI ? undefined : v);

export const lpwaHex: VendorAdapter = {
  format: 'lpwa-hex',
  text: true,
  decode(payload, ctx) {
    const hex = payload.toString('utf8').trim();
    if (!/^([0-9a-fA-F]{2})+$/.test(hex))
      throw new Rejection('PAYLOAD_MALFORMED', 'expected an even-length hex string');
    const b = Buffer.from(hex, 'hex');
    if (b[0] !== VERSION) throw new Rejection('PAYLOAD_MALFORMED', `unknown frame version ${b[0]}`);
    const type = b[1] ?? 0;
    if (LENGTHS[type] === undefined) throw new Rejection('PAYLOAD_MALFORMED', `unknown message type ${type}`);
    if (b.length !== LENGTHS[type]) {
      throw new Rejection(
        'PAYLOAD_MALFORMED',
        `type ${type} frame must be ${LENGTHS[type]} bytes, got ${b.length}`,
      );
    }
    const kind = kindOf(ctx.message);
    if (type !== TYPES[kind])
      throw new Rejection('TOPIC_INVALID', `frame type ${type} does not match a ${kind} topic`);
    const deviceId = ctx.device.id;
    if (kind === 'flood') {
      const flags = b.readUInt8(8);
      return {
        kind,
        deviceId,
        time: epochToIso(b.readUInt32BE(2)),
        seq: b.readUInt16BE(6),
        wet: (flags & 1) === 1,
        stage: b.readUInt8(9),
        depthCm: flags & 2 ? b.readUInt16BE(10) / 10 : undefined,
        batteryV: battery(b.readUInt16BE(12)),
        rssiDbm: rssi(b.readInt8(14)),
      };
    }
    if (kind === 'crowd') {
      const start = b.readUInt32BE(2);
      return {
        kind,
        deviceId,
        intervalStart: epochToIso(start),
        intervalEnd: epochToIso(start + b.readUInt16BE(6)),
        seq: b.readUInt16BE(8),
        peopleIn: b.readUInt16BE(10),
        peopleOut: b.readUInt16BE(12),
        occupancy: optU16(b.readUInt16BE(14)),
      };
    }
    return {
      kind,
      deviceId,
      time: epochToIso(b.readUInt32BE(2)),
      seq: b.readUInt16BE(6),
      batteryV: battery(b.readUInt16BE(8)),
      rssiDbm: rssi(b.readInt8(10)),
    };
  },
  encode(reading: CanonicalReading) {
    const b = Buffer.alloc(LENGTHS[TYPES[reading.kind]] ?? 0);
    b.writeUInt8(VERSION, 0);
    b.writeUInt8(TYPES[reading.kind], 1);
    const cv = (v: number | undefined) => (v === undefined ? UNKNOWN_U16 : Math.round(v * 100));
    if (reading.kind === 'flood') {
      b.writeUInt32BE(isoToEpoch(reading.time), 2);
      b.writeUInt16BE(reading.seq & 0xffff, 6);
      b.writeUInt8((reading.wet ? 1 : 0) | (reading.depthCm !== undefined ? 2 : 0), 8);
      b.writeUInt8(reading.stage ?? 0, 9);
      b.writeUInt16BE(Math.round((reading.depthCm ?? 0) * 10), 10);
      b.writeUInt16BE(cv(reading.batteryV), 12);
      b.writeInt8(reading.rssiDbm === undefined ? UNKNOWN_RSSI : Math.round(reading.rssiDbm), 14);
    } else if (reading.kind === 'crowd') {
      const start = isoToEpoch(reading.intervalStart);
      b.writeUInt32BE(start, 2);
      b.writeUInt16BE(isoToEpoch(reading.intervalEnd) - start, 6);
      b.writeUInt16BE(reading.seq & 0xffff, 8);
      b.writeUInt16BE(reading.peopleIn, 10);
      b.writeUInt16BE(reading.peopleOut, 12);
      b.writeUInt16BE(reading.occupancy ?? UNKNOWN_U16, 14);
    } else {
      b.writeUInt32BE(isoToEpoch(reading.time), 2);
      b.writeUInt16BE((reading.seq ?? 0) & 0xffff, 6);
      b.writeUInt16BE(cv(reading.batteryV), 8);
      b.writeInt8(reading.rssiDbm === undefined ? UNKNOWN_RSSI : Math.round(reading.rssiDbm), 10);
    }
    return Buffer.from(b.toString('hex'));
  },
};

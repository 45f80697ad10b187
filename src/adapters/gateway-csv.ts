// One CSV line per reading, as a pole-receiver gateway forwards it; empty fields are unknown.
//   F,<deviceId>,<unix s>,<seq>,<wet 0|1>,<stage>,<depthCm>,<batteryV>,<rssiDbm>
//   C,<deviceId>,<start unix s>,<end unix s>,<seq>,<in>,<out>,<occupancy>
//   H,<deviceId>,<unix s>,<seq>,<batteryV>,<rssiDbm>
import type { CanonicalReading } from '../schemas/readings.ts';
import { Rejection } from '../schemas/reasons.ts';
import type { VendorAdapter } from './adapter.ts';
import { epochToIso, isoToEpoch, kindOf } from './kinds.ts';

const RECORD = { flood: 'F', crowd: 'C', heartbeat: 'H' } as const;
const COLUMNS = { F: 9, C: 8, H: 6 } as const;

/** A numeric column: empty → undefined; anything not a finite decimal number → SCHEMA_INVALID. */
function num(value: string | undefined, column: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(value))
    throw new Rejection('SCHEMA_INVALID', `${column}: "${value.slice(0, 20)}" is not a number`);
  return Number(value);
}

function required(value: string | undefined, column: string): number {
  const n = num(value, column);
  if (n === undefined) throw new Rejection('SCHEMA_INVALID', `${column} is required`);
  return n;
}

export const gatewayCsv: VendorAdapter = {
  format: 'gateway-csv',
  text: true,
  decode(payload, ctx) {
    const cols = payload.toString('utf8').trim().split(',');
    const record = cols[0] as keyof typeof COLUMNS;
    if (!(record in COLUMNS))
      throw new Rejection('PAYLOAD_MALFORMED', `unknown record type "${String(record).slice(0, 8)}"`);
    if (cols.length !== COLUMNS[record]) {
      throw new Rejection(
        'PAYLOAD_MALFORMED',
        `record ${record} needs ${COLUMNS[record]} columns, got ${cols.length}`,
      );
    }
    const kind = kindOf(ctx.message);
    if (record !== RECORD[kind])
      throw new Rejection('TOPIC_INVALID', `record ${record} does not match a ${kind} topic`);
    const deviceId = cols[1];
    if (kind === 'flood') {
      const wet = cols[4];
      if (wet !== '0' && wet !== '1') throw new Rejection('SCHEMA_INVALID', 'wet must be 0 or 1');
      return {
        kind,
        deviceId,
        time: epochToIso(required(cols[2], 'time')),
        seq: required(cols[3], 'seq'),
        wet: wet === '1',
        stage: num(cols[5], 'stage'),
        depthCm: num(cols[6], 'depthCm'),
        batteryV: num(cols[7], 'batteryV'),
        rssiDbm: num(cols[8], 'rssiDbm'),
      };
    }
    if (kind === 'crowd') {
      return {
        kind,
        deviceId,
        intervalStart: epochToIso(required(cols[2], 'intervalStart')),
        intervalEnd: epochToIso(required(cols[3], 'intervalEnd')),
        seq: required(cols[4], 'seq'),
        peopleIn: required(cols[5], 'peopleIn'),
        peopleOut: required(cols[6], 'peopleOut'),
        occupancy: num(cols[7], 'occupancy'),
      };
    }
    return {
      kind,
      deviceId,
      time: epochToIso(required(cols[2], 'time')),
      seq: num(cols[3], 'seq'),
      batteryV: num(cols[4], 'batteryV'),
      rssiDbm: num(cols[5], 'rssiDbm'),
    };
  },
  encode(reading: CanonicalReading) {
    const s = (v: number | undefined) => (v === undefined ? '' : String(v));
    const cols =
      reading.kind === 'flood'
        ? [
            'F',
            reading.deviceId,
            isoToEpoch(reading.time),
            reading.seq,
            reading.wet ? 1 : 0,
            s(reading.stage),
            s(reading.depthCm),
            s(reading.batteryV),
            s(reading.rssiDbm),
          ]
        : reading.kind === 'crowd'
          ? [
              'C',
              reading.deviceId,
              isoToEpoch(reading.intervalStart),
              isoToEpoch(reading.intervalEnd),
              reading.seq,
              reading.peopleIn,
              reading.peopleOut,
              s(reading.occupancy),
            ]
          : [
              'H',
              reading.deviceId,
              isoToEpoch(reading.time),
              s(reading.seq),
              s(reading.batteryV),
              s(reading.rssiDbm),
            ];
    return Buffer.from(cols.join(','));
  },
};

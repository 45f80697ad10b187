// One field of a valid payload changed, in each vendor format: machi-json (raw JSON text for the
// value), gateway-csv (the column's text) and lpwa-hex (non-hex text, or a field at its widest).
import type { CanonicalReading } from '../../../../src/schemas/readings.ts';
import type { ReasonCode } from '../../../../src/schemas/reasons.ts';
import { int, pick } from '../../fuzz-random.ts';
import { dead, type Expectation, type Own, type PayloadCase } from './input.ts';

/** A field by JSON name, with its CSV column. */
export type Field = [string, number];

/** Numeric fields per reading kind. */
export const NUMERIC: Record<CanonicalReading['kind'], Field[]> = {
  flood: [
    ['seq', 3],
    ['stage', 5],
    ['depthCm', 6],
    ['batteryV', 7],
    ['rssiDbm', 8],
  ],
  crowd: [
    ['seq', 4],
    ['peopleIn', 5],
    ['peopleOut', 6],
    ['occupancy', 7],
  ],
  heartbeat: [
    ['seq', 3],
    ['batteryV', 4],
    ['rssiDbm', 5],
  ],
};

export const TIME_FIELDS: Record<CanonicalReading['kind'], Field[]> = {
  flood: [['time', 2]],
  crowd: [
    ['intervalStart', 2],
    ['intervalEnd', 3],
  ],
  heartbeat: [['time', 2]],
};

/** The machi-json payload with one field's value replaced by raw JSON text. */
export function jsonWith(own: Own, field: string, raw: string): Buffer {
  const fields: Record<string, unknown> = JSON.parse(own.valid.toString('utf8'));
  const parts = Object.entries({ ...fields, [field]: null }).map(([k, v]) =>
    k === field ? `${JSON.stringify(k)}:${raw}` : `${JSON.stringify(k)}:${JSON.stringify(v)}`,
  );
  return Buffer.from(`{${parts.join(',')}}`);
}

/** The gateway-csv payload with one column's text replaced. */
export function csvWith(own: Own, column: number, text: string): Buffer {
  const cols = own.valid.toString('utf8').split(',');
  cols[column] = text;
  return Buffer.from(cols.join(','));
}

/** One field changed: raw JSON text for machi-json, column text for gateway-csv; lpwa-hex has `hex`. */
export function fieldCase(
  own: Own,
  [name, column]: Field,
  json: { raw: string; expect: Expectation },
  csv: { text: string; expect: Expectation },
  hex: () => PayloadCase,
): PayloadCase {
  if (own.d.vendor === 'machi-json') return { payload: jsonWith(own, name, json.raw), expect: json.expect };
  if (own.d.vendor === 'gateway-csv') return { payload: csvWith(own, column, csv.text), expect: csv.expect };
  return hex();
}

/** lpwa-hex: one byte of the hex text made non-hex. */
export function hexNotHex(own: Own): PayloadCase {
  const text = own.valid.toString('utf8').split('');
  text[int(own.rng, 0, text.length - 1)] = pick(own.rng, ['g', 'Z', ' ', '-', 'x', '\u00e9']);
  return { payload: Buffer.from(text.join('')), expect: dead('PAYLOAD_MALFORMED') };
}

/** lpwa-hex: a field set to the largest value its width holds; every one of these is out of range. */
export function hexExtreme(own: Own): PayloadCase {
  const frame = Buffer.from(own.valid.toString('utf8'), 'hex');
  const options: Array<[number, Buffer, ReasonCode]> =
    own.reading.kind === 'flood'
      ? [
          [2, Buffer.from([0xff, 0xff, 0xff, 0xff]), 'TIME_IN_FUTURE'],
          [9, Buffer.from([0xff]), 'VALUE_OUT_OF_RANGE'],
          [12, Buffer.from([0xff, 0xfe]), 'VALUE_OUT_OF_RANGE'],
          [14, Buffer.from([0x7e]), 'VALUE_OUT_OF_RANGE'],
        ]
      : own.reading.kind === 'crowd'
        ? [
            [2, Buffer.from([0xff, 0xff, 0xff, 0x00]), 'TIME_IN_FUTURE'],
            [6, Buffer.from([0, 0]), 'INTERVAL_INVALID'],
          ]
        : [
            [2, Buffer.from([0xff, 0xff, 0xff, 0xff]), 'TIME_IN_FUTURE'],
            [8, Buffer.from([0xff, 0xfe]), 'VALUE_OUT_OF_RANGE'],
            [10, Buffer.from([0x7e]), 'VALUE_OUT_OF_RANGE'],
          ];
  const [offset, bytes, reason] = pick(own.rng, options);
  bytes.copy(frame, offset);
  return { payload: Buffer.from(frame.toString('hex')), expect: dead(reason) };
}

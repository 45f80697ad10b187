// Payloads with one field's value broken: wrong types, huge numbers, not-a-number spellings, deep
// nesting, bad dates and prototype keys, in each vendor format (./vendor-formats.ts).
import { int, pick } from '../../fuzz-random.ts';
import {
  BAD_DATES,
  HUGE_CSV,
  HUGE_JSON,
  NAN_BARE,
  NAN_CSV,
  NAN_STRINGS,
  WRONG_TYPE_JSON,
} from './bad-values.ts';
import { dead, type PayloadFamilies } from './input.ts';
import { mutate } from './mutate.ts';
import {
  csvWith,
  fieldCase,
  hexExtreme,
  hexNotHex,
  jsonWith,
  NUMERIC,
  TIME_FIELDS,
} from './vendor-formats.ts';

export const FIELD_PAYLOADS: PayloadFamilies = {
  'wrong-type': (own) => {
    const { rng, reading } = own;
    if (rng.next() < 0.2 && reading.kind === 'flood') {
      return fieldCase(
        own,
        ['wet', 4],
        { raw: pick(rng, ['1', '"true"', 'null', '[]']), expect: dead('SCHEMA_INVALID') },
        { text: pick(rng, ['2', 'yes', 'true', '']), expect: dead('SCHEMA_INVALID') },
        () => hexNotHex(own),
      );
    }
    const timeField = rng.next() < 0.3;
    return fieldCase(
      own,
      pick(rng, timeField ? TIME_FIELDS[reading.kind] : NUMERIC[reading.kind]),
      {
        raw: pick(rng, timeField ? ['1764000000', 'true', 'null', '[]', '{}'] : WRONG_TYPE_JSON),
        expect: dead('SCHEMA_INVALID'),
      },
      { text: pick(rng, ['abc', 'true', '[]', '{}']), expect: dead('SCHEMA_INVALID') },
      () => hexNotHex(own),
    );
  },
  'huge-number': (own) =>
    fieldCase(
      own,
      pick(own.rng, NUMERIC[own.reading.kind]),
      // 1e999 parses to Infinity, which is a type error rather than a range error.
      { raw: pick(own.rng, HUGE_JSON), expect: dead('VALUE_OUT_OF_RANGE', 'SCHEMA_INVALID') },
      { text: pick(own.rng, HUGE_CSV), expect: dead('VALUE_OUT_OF_RANGE') },
      () => hexExtreme(own),
    ),
  'nan-string': (own) =>
    fieldCase(
      own,
      pick(own.rng, NUMERIC[own.reading.kind]),
      own.rng.next() < 0.3
        ? { raw: pick(own.rng, NAN_BARE), expect: dead('PAYLOAD_MALFORMED') }
        : { raw: pick(own.rng, NAN_STRINGS), expect: dead('SCHEMA_INVALID') },
      { text: pick(own.rng, NAN_CSV), expect: dead('SCHEMA_INVALID') },
      () => hexNotHex(own),
    ),
  'deep-nesting': (own) => {
    const depth = int(own.rng, 10, Math.floor(own.ctx.maxPayloadBytes / 6));
    if (own.d.vendor !== 'machi-json')
      return { payload: Buffer.from('['.repeat(depth)), expect: dead('PAYLOAD_MALFORMED') };
    const variant = int(own.rng, 0, 2);
    if (variant === 0)
      return { payload: Buffer.from('['.repeat(depth) + ']'.repeat(depth)), expect: dead('SCHEMA_INVALID') };
    if (variant === 1)
      return { payload: Buffer.from('{"a":'.repeat(depth)), expect: dead('PAYLOAD_MALFORMED') };
    const [field] = pick(own.rng, NUMERIC[own.reading.kind]);
    const raw = '['.repeat(Math.min(depth, 2000)) + ']'.repeat(Math.min(depth, 2000));
    return { payload: jsonWith(own, field, raw), expect: dead('SCHEMA_INVALID') };
  },
  'bad-date': (own) =>
    own.d.vendor === 'machi-json'
      ? {
          payload: jsonWith(own, pick(own.rng, TIME_FIELDS[own.reading.kind])[0], pick(own.rng, BAD_DATES)),
          expect: dead('SCHEMA_INVALID'),
        }
      : own.d.vendor === 'gateway-csv'
        ? {
            payload: csvWith(own, pick(own.rng, TIME_FIELDS[own.reading.kind])[1], pick(own.rng, NAN_CSV)),
            expect: dead('SCHEMA_INVALID'),
          }
        : hexNotHex(own),
  'prototype-keys': (own) =>
    own.d.vendor === 'machi-json'
      ? { payload: jsonWith(own, '__proto__', `{"seq":1,"polluted":true}`), expect: { kind: 'processed' } }
      : { payload: mutate(own.rng, own.valid), expect: { kind: 'processed' } },
};

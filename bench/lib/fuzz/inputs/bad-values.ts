// Values no field accepts, as raw JSON text or CSV column text: wrong types, numbers out of every
// range, not-a-number spellings and broken dates.

export const WRONG_TYPE_JSON = [
  '"7"',
  'true',
  'null',
  '[]',
  '{}',
  '[1,2]',
  '{"value":1}',
  '"2026-11-24T06:00:00Z"',
];
/** Out of range for every numeric field (seq has no maximum but must be a safe integer). */
export const HUGE_JSON = ['1e308', '-1e308', '1e999', '-1e999', '9007199254740993', '1e21', '-4294967296'];
export const HUGE_CSV = ['99999999999999999999999', '18446744073709551616', '-18446744073709551616'];
/** Not-a-number strings are a type error; the bare words are not JSON at all. */
export const NAN_STRINGS = [
  '"NaN"',
  '"Infinity"',
  '"-Infinity"',
  '"-0"',
  '"1e3"',
  '"0x10"',
  '" 1"',
  '""',
  '"null"',
];
export const NAN_BARE = ['NaN', 'Infinity', '-Infinity', 'undefined', '0x10', '+1', '.5', '01'];
export const NAN_CSV = [
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '1e3',
  '+1',
  '.5',
  '1.',
  'abc',
  'null',
  '\u0661\u0662',
  'true',
];
export const BAD_DATES = [
  '"2026-02-30T00:00:00Z"',
  '"2026-11-24T24:00:01Z"',
  '"2026-11-24 06:00:00Z"',
  '"2026-11-24T06:00:00"',
  '"+275760-09-13T00:00:00.000Z"',
  '"2026-11-24T06:00:00+25:00"',
  '"2026-W48"',
  '""',
  '1764000000',
];

// The one catalogue of codes (src/schemas/reasons.ts): dead letters take only refusal codes, and
// errors carry their code's retriable flag from the catalogue, never one of their own.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KafkaRefusedError, KafkaUnavailableError } from '../../src/bus/batch-producer.ts';
import { DeadLetter } from '../../src/schemas/dead-letter.ts';
import { ERRORS, MachiError, REASON_CODES, Rejection } from '../../src/schemas/reasons.ts';

describe('error catalogue', () => {
  it('gives dead letters only the codes of refused input, none of them retriable', () => {
    expect(REASON_CODES).toContain('RECORD_INVALID');
    expect(REASON_CODES).not.toContain('KAFKA_UNAVAILABLE');
    for (const code of REASON_CODES) expect(ERRORS[code].retriable).toBe(false);
    expect(DeadLetter.shape.reason.options).toEqual(REASON_CODES);
  });

  it("gives Kafka's failures one code each, with the catalogue's retriable flag", () => {
    const unavailable = new KafkaUnavailableError('no answer');
    const refused = new KafkaRefusedError('MESSAGE_TOO_LARGE');
    expect([unavailable.code, unavailable.retriable]).toEqual(['KAFKA_UNAVAILABLE', true]);
    expect([refused.code, refused.retriable]).toEqual(['KAFKA_REFUSED', false]);
    expect(unavailable).toBeInstanceOf(MachiError);
  });

  it('makes a rejection an error with its reason as code', () => {
    const r = new Rejection('SCHEMA_INVALID', 'seq is missing');
    expect([r.code, r.reason, r.retriable, r.message]).toEqual([
      'SCHEMA_INVALID',
      'SCHEMA_INVALID',
      false,
      'SCHEMA_INVALID: seq is missing',
    ]);
  });
});

describe('MACHI_ERR_ codes', () => {
  it('are all in the catalogue: every one written anywhere under src/', () => {
    const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const unknown = files.flatMap((f) =>
      [...readFileSync(join('src', f), 'utf8').matchAll(/MACHI_ERR_([A-Z][A-Z_]*[A-Z])/g)]
        .map((m) => m[1] as string)
        .filter((code) => !(code in ERRORS))
        .map((code) => `${f}: MACHI_ERR_${code}`),
    );
    expect(unknown).toEqual([]);
  });
});

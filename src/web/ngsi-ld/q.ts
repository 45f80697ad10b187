// The basics of NGSI-LD's `q` filter: terms `attr<op>value` joined by `;` (and), with ==, !=, >,
// >=, <, <=; a value is a number, true/false, or a string (quoted, or an ISO date-time as is).
// Compared with an entity's key-values; an attribute the entity lacks fails the term.

export type Op = '==' | '!=' | '>=' | '<=' | '>' | '<';
export interface Term {
  attr: string;
  op: Op;
  value: string | number | boolean;
}

const TERM = /^([A-Za-z_][A-Za-z0-9_]*)(==|!=|>=|<=|>|<)(.+)$/;

function literal(text: string): string | number | boolean | undefined {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^"[^"]*"$/.test(text)) return text.slice(1, -1);
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(text)) return text;
  return undefined;
}

/** The terms of `q`, or an error text. */
export function parseQ(q: string): Term[] | { error: string } {
  if (q.length > 1000) return { error: 'q is longer than 1000 characters' };
  const terms: Term[] = [];
  for (const part of q.split(';')) {
    const m = TERM.exec(part.trim());
    const value = m?.[3] === undefined ? undefined : literal(m[3]);
    if (!m || value === undefined)
      return { error: `q: cannot read "${part.slice(0, 80)}" (expected attr==value, >, <, ... joined by ;)` };
    terms.push({ attr: m[1] as string, op: m[2] as Op, value });
  }
  return terms;
}

function holds(actual: unknown, { op, value }: Term): boolean {
  if (typeof actual !== typeof value) return op === '!=';
  const a = actual as string | number | boolean;
  switch (op) {
    case '==':
      return a === value;
    case '!=':
      return a !== value;
    case '>':
      return a > value;
    case '>=':
      return a >= value;
    case '<':
      return a < value;
    case '<=':
      return a <= value;
  }
}

export function matches(keyValues: Record<string, unknown>, terms: Term[]): boolean {
  return terms.every((t) => t.attr in keyValues && holds(keyValues[t.attr], t));
}

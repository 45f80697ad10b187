// Query strings checked against a zod schema: a route sees typed values or answers 400, nothing between.
import type { z } from 'zod';

export type QueryCheck<T> = { ok: true; data: T } | { ok: false; error: string };

/** `url`'s query parsed by `schema`; a repeated parameter is refused rather than one copy picked. */
export function parseQuery<S extends z.ZodType>(url: URL, schema: S): QueryCheck<z.output<S>> {
  const params = Object.fromEntries(url.searchParams);
  if (Object.keys(params).length !== [...url.searchParams.keys()].length)
    return { ok: false, error: 'a query parameter is repeated' };
  const parsed = schema.safeParse(params);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, error: `${issue?.path.join('.') || 'query'}: ${issue?.message}` };
}

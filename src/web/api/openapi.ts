// The OpenAPI 3.1 document of /api/v1, generated from the operations the plugin serves and the
// zod schemas their answers are checked against: the document cannot drift from the code.
import { z } from 'zod';
import { ApiError, apiSchemas } from './schemas.ts';

export interface Operation {
  /** OpenAPI path template, e.g. /api/v1/sites/{siteId} */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  pathParams?: Record<string, { description: string; schema: z.ZodType }>;
  query?: z.ZodObject;
  /** The JSON answer's schema (registered in apiSchemas), or a media type with a plain-text body. */
  ok: z.ZodType | { mediaType: string; description: string };
  /** The JSON answer's media type when not application/json (e.g. application/ld+json). */
  jsonType?: string;
  /** JSON answers that may also be asked for as CSV (`format=csv`). */
  csv?: boolean;
  errors: number[];
  /** Answers whose ETag/Cache-Control hold: served with `max-age` seconds. */
  maxAgeS: number;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid parameters (MACHI_ERR_INVALID_REQUEST) or a range too large (MACHI_ERR_RANGE_TOO_LARGE)',
  404: 'No such site, sensor or date (MACHI_ERR_NOT_FOUND)',
  429: 'Too many requests from this address (MACHI_ERR_RATE_LIMITED); see Retry-After',
  503: 'A data store did not answer, or the alert history is still being read (MACHI_ERR_UNAVAILABLE)',
};

const ref = (schema: z.ZodType) => {
  const id = apiSchemas.get(schema)?.id;
  if (!id) throw new Error('an answer schema is not registered in apiSchemas');
  return { $ref: `#/components/schemas/${id}` };
};

/** JSON Schema for OpenAPI: the dialect 3.1 uses, without the per-document keywords. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

const headers = {
  ETag: {
    description: 'Strong validator of the body: send it back in If-None-Match',
    schema: { type: 'string' },
  },
  'Cache-Control': { description: 'public, max-age=N', schema: { type: 'string' } },
};

function parameters(op: Operation) {
  const inPath = Object.entries(op.pathParams ?? {}).map(([name, p]) => ({
    name,
    in: 'path',
    required: true,
    description: p.description,
    schema: jsonSchema(p.schema, 'input'),
  }));
  const query = op.query
    ? (jsonSchema(op.query, 'input') as { properties?: object; required?: string[] })
    : {};
  const inQuery = Object.entries(query.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: query.required?.includes(name) ?? false,
    schema,
  }));
  return [...inPath, ...inQuery];
}

function responses(op: Operation) {
  const content =
    op.ok instanceof z.ZodType
      ? {
          [op.jsonType ?? 'application/json']: { schema: ref(op.ok) },
          ...(op.csv ? { 'text/csv': { schema: { type: 'string' } } } : {}),
        }
      : { [op.ok.mediaType]: { schema: { type: 'string' } } };
  const description = op.ok instanceof z.ZodType ? 'OK' : op.ok.description;
  const errors = Object.fromEntries(
    [...op.errors, 429].map((status) => [
      String(status),
      {
        description: ERROR_TEXT[status] ?? 'Error',
        content: { 'application/json': { schema: ref(ApiError) } },
      },
    ]),
  );
  return {
    '200': { description, headers, content },
    '304': { description: 'Not modified: the If-None-Match ETag is still current' },
    ...errors,
  };
}

export function openApiDocument(operations: Operation[], serverUrl: string) {
  // Components: every registered schema, referring to each other by $ref.
  const { schemas } = z.toJSONSchema(apiSchemas, {
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  const components = Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]),
  );
  const paths: Record<string, object> = {};
  for (const op of operations)
    paths[op.path] = {
      get: {
        operationId: op.operationId,
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        parameters: parameters(op),
        responses: responses(op),
      },
    };
  return {
    openapi: '3.1.0',
    info: {
      title: 'machi open data: Takeo City congestion and flood sensors',
      version: '1.0.0',
      description:
        'Read-only public data of Takeo City: sites with their congestion now and forecast, counts per 15 minutes ' +
        'and per hour, flood sensors, public flood alerts. The same data is served as NGSI-LD under /ngsi-ld/v1.',
      license: { name: 'CC BY 4.0', url: 'https://creativecommons.org/licenses/by/4.0/' },
    },
    servers: [{ url: serverUrl }],
    paths,
    components: { schemas: components },
  };
}

// Checks machi's answers against its own OpenAPI 3.1 document, with real validators: the document
// against the OpenAPI 3.1 meta-schema (@seriousme/openapi-schema-validator), each JSON body against
// the schema the document gives its path and status (ajv, in JSON Schema 2020-12, OpenAPI 3.1's dialect).
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

interface Doc {
  paths: Record<
    string,
    { get: { responses: Record<string, { content?: Record<string, { schema: object }> }> } }
  >;
}

const DOC_ID = 'https://machi.invalid/openapi.json';

export async function openApiChecker(doc: unknown) {
  const meta = await new Validator().validate(doc as Record<string, unknown>);
  if (!meta.valid)
    throw new Error(`not a valid OpenAPI document: ${JSON.stringify(meta.errors).slice(0, 800)}`);
  // strict off: the document's own keywords (openapi, paths, ...) sit beside the schemas.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addSchema({ ...(doc as object), $id: DOC_ID });
  const { paths } = doc as Doc;
  const templates = Object.keys(paths).map((t) => ({
    t,
    re: new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  /** Throws unless `body` (already parsed) is what the document promises for `path` and `status`. */
  return (path: string, status: number, body: unknown, mediaType = 'application/json') => {
    const template = templates.find((x) => x.re.test(path.split('?')[0] ?? ''))?.t;
    // A path outside the document (an unknown resource) may only answer with the documented error.
    if (!template && status < 400) throw new Error(`${path} is not in the OpenAPI document`);
    const pointer = template
      ? `${DOC_ID}#/paths/${template.replaceAll('~', '~0').replaceAll('/', '~1')}/get/responses/${status}/content/${mediaType.replace('/', '~1')}/schema`
      : `${DOC_ID}#/components/schemas/Error`;
    const validate = ajv.getSchema(pointer);
    if (!validate) throw new Error(`the OpenAPI document has no schema at ${pointer}`);
    if (!validate(body)) throw new Error(`${path} ${status}: ${ajv.errorsText(validate.errors)}`);
  };
}

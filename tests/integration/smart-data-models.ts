// Validators of FIWARE Smart Data Models read from ../shared/smart-data-models (never copied into
// the repository), set up as its README says: ajv's draft 2020-12 class, the models' annotation
// keywords declared, ajv-formats plus idn-email, every schema registered under its published URL
// so each $ref resolves to a local file and nothing is fetched.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { sharedPath } from '../support/shared-dir.ts';

export const SDM_DIR = sharedPath('smart-data-models');
const PUBLISHED = 'https://smart-data-models.github.io/';
const MODEL_DIRS: Record<string, string> = {
  CrowdFlowObserved: 'dataModel.Transportation/CrowdFlowObserved',
  FloodMonitoring: 'dataModel.Environment/FloodMonitoring',
  Device: 'dataModel.Device/Device',
  Alert: 'dataModel.Alert/Alert',
};

function schemaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return schemaFiles(path);
    return name === 'schema.json' || name.endsWith('-schema.json') ? [path] : [];
  });
}

export function smartDataModels() {
  const ajv = new Ajv2020({ allErrors: true, strictTypes: false });
  ajv.addVocabulary(['$schemaVersion', 'modelTags']);
  addFormats.default(ajv);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  for (const file of schemaFiles(SDM_DIR)) {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as { $id?: string };
    const url = PUBLISHED + relative(SDM_DIR, file).split('\\').join('/');
    // Registered under its URL only; its own $id (Alert's differs in case) is dropped to avoid a clash.
    const { $id: _, ...rest } = schema;
    ajv.addSchema(rest, url);
  }
  /** Throws unless `entity` (key-values) is valid for the model its `type` names. */
  return (entity: Record<string, unknown>) => {
    const dir = MODEL_DIRS[String(entity.type)];
    if (!dir) throw new Error(`no Smart Data Model for type ${String(entity.type)}`);
    const validate = ajv.getSchema(`${PUBLISHED}${dir}/schema.json`);
    if (!validate) throw new Error(`schema of ${dir} did not compile`);
    if (!validate(entity)) throw new Error(`${String(entity.id)}: ${ajv.errorsText(validate.errors)}`);
  };
}

/** A normalized entity reduced to key-values as the README says (value / object, DateTime unwrapped). */
export function reduceNormalized(entity: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(entity)) {
    if (name === 'id' || name === 'type' || name === '@context') {
      out[name] = a;
      continue;
    }
    const attr = a as { type: string; value?: unknown; object?: unknown };
    const value = attr.type === 'Relationship' ? attr.object : attr.value;
    const dt = value as { '@type'?: string; '@value'?: unknown } | null;
    out[name] = dt && typeof dt === 'object' && dt['@type'] === 'DateTime' ? dt['@value'] : value;
  }
  return out;
}

type SchemaNode = {
  $ref?: string;
  properties?: Record<string, unknown>;
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
};

/** A `$ref` (published URL and JSON pointer) read from the local copy. */
function resolveRef(ref: string): SchemaNode {
  const [url = '', pointer = ''] = ref.split('#');
  let node = JSON.parse(readFileSync(join(SDM_DIR, url.slice(PUBLISHED.length)), 'utf8')) as unknown;
  for (const part of pointer.split('/').filter(Boolean)) node = (node as Record<string, unknown>)[part];
  return node as SchemaNode;
}

function propertyNames(node: SchemaNode, into: Set<string>): Set<string> {
  if (node.$ref) propertyNames(resolveRef(node.$ref), into);
  for (const name of Object.keys(node.properties ?? {})) into.add(name);
  for (const sub of [...(node.allOf ?? []), ...(node.anyOf ?? []), ...(node.oneOf ?? [])])
    propertyNames(sub, into);
  return into;
}

/** Every attribute name the model of `type` defines (its own and, through $ref, the common ones). */
export function modelAttributes(type: string): Set<string> {
  const dir = MODEL_DIRS[type];
  if (!dir) throw new Error(`no Smart Data Model for type ${type}`);
  const schema = JSON.parse(readFileSync(join(SDM_DIR, dir, 'schema.json'), 'utf8')) as SchemaNode;
  return propertyNames(schema, new Set());
}

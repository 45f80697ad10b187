// docs/configuration.md, generated from the zod schemas of config.ts so the reference cannot drift
// from what machi accepts: `npm run docs:config` writes it, tests/unit/config-docs.test.ts compares.
// Type, range and default come from zod's JSON Schema export; the words from `.describe()`/`.meta()`.
import { z } from 'zod';
import { EnvSchema, SECRET_VARIABLES, ToolEnvSchema } from './config.ts';

export const CONFIGURATION_DOC = 'docs/configuration.md';

/** The JSON Schema keywords zod writes for machi's settings, plus the `unset` metadata key. */
interface Property {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  format?: string;
  pattern?: string;
  description?: string;
  /** What leaving an optional setting unset means, where that is more than "off". */
  unset?: string;
}

const BOOLEAN_WORDS = ['0', '1', 'true', 'false', 'yes', 'no'];
const code = (value: unknown) => `\`${String(value)}\``;

function accepts(p: Property): string {
  if (p.enum) {
    const boolean = p.enum.length === BOOLEAN_WORDS.length && BOOLEAN_WORDS.every((w) => p.enum?.includes(w));
    return boolean ? '`true` or `false` (also `1`/`0`, `yes`/`no`)' : p.enum.map(code).join(', ');
  }
  if (p.type === 'integer' || p.type === 'number') {
    // zod writes a positive integer as > 0, and an unbounded one up to MAX_SAFE_INTEGER.
    const min = p.type === 'integer' && p.exclusiveMinimum !== undefined ? p.exclusiveMinimum + 1 : p.minimum;
    const max = p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER ? p.maximum : undefined;
    if (min !== undefined && max !== undefined) return `${p.type} ${min}–${max}`;
    if (min !== undefined) return `${p.type} ≥ ${min}`;
    if (p.exclusiveMinimum !== undefined) return `${p.type} > ${p.exclusiveMinimum}`;
    return p.type;
  }
  if (p.format === 'uri') return 'URL';
  if (p.pattern) return `text matching ${code(p.pattern)}`;
  if (p.minLength !== undefined && p.minLength > 1) return `text, ${p.minLength}+ characters`;
  return 'text';
}

/** The default as one would type it; a transformed setting's (a list, a flag) from parsing nothing. */
function defaultOf(p: Property, parsed: unknown): string {
  const value = p.default ?? parsed;
  if (value === undefined) return p.unset ?? 'unset';
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return text === '' ? 'none' : code(text);
}

function table(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, Property>;
  };
  const defaults = schema.parse({}) as Record<string, unknown>;
  const rows = Object.entries(json.properties).map(([name, p]) => {
    if (!p.description) throw new Error(`${name} has no .describe() in src/config/config.ts`);
    const secret = SECRET_VARIABLES.has(name) ? ' (secret)' : '';
    const cells = [`${code(name)}${secret}`, defaultOf(p, defaults[name]), accepts(p), p.description];
    return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  });
  return ['| variable | default | accepts | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function configurationReference(): string {
  return `# Configuration

<!-- Generated from src/config/config.ts by \`npm run docs:config\`: edit the schema, not this file. -->

Every setting is an environment variable, validated at start-up by one zod schema
([\`src/config/config.ts\`](../src/config/config.ts)); this page is generated from it, and a unit
test fails when the two differ. A bad value stops start-up with a message naming the variable, what
was expected and what was given; settings that only work together name the missing half; secrets
are never echoed. An empty value counts as unset. \`machi config\` prints the effective values and
the mode, with secrets and webhook paths masked.

Production mode (the default) refuses to start with any secret shipped in this repository, a short
or shared one, anonymous access or the demo registry: [security.md](security.md#production-mode),
which also explains the broker's door limits and the office's login bans.

${table(EnvSchema)}

## Read outside the configuration

The native stack's folders and the demo registry's seed are read where they are used, not by
\`loadConfig\`:

${table(ToolEnvSchema)}
`;
}

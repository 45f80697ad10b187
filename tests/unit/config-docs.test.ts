// The configuration reference cannot drift from the schemas: docs/configuration.md is what
// src/config/reference.ts generates from them, and every MACHI_ variable src/ reads is in one.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EnvSchema, ToolEnvSchema } from '../../src/config/config.ts';
import { CONFIGURATION_DOC, configurationReference } from '../../src/config/reference.ts';

it('docs/configuration.md is what the schemas generate', () => {
  const committed = readFileSync(CONFIGURATION_DOC, 'utf8');
  expect(committed, `${CONFIGURATION_DOC} is out of date: run \`npm run docs:config\``).toBe(
    configurationReference(),
  );
});

it('every MACHI_ variable read from the environment in src/ is in a schema, so it is documented', () => {
  const known = new Set([...Object.keys(EnvSchema.shape), ...Object.keys(ToolEnvSchema.shape)]);
  const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const unknown = files.flatMap((f) =>
    [...readFileSync(join('src', f), 'utf8').matchAll(/env\.(MACHI_[A-Z0-9_]+)/g)]
      .map((m) => m[1] as string)
      .filter((name) => !known.has(name))
      .map((name) => `${f}: ${name}`),
  );
  expect(unknown).toEqual([]);
});

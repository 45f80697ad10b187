// The configuration reference cannot drift from the one schema: every variable of EnvSchema is named
// in docs/operations.md's Configuration section, or (door limits, bans) in docs/security.md.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { EnvSchema } from '../../src/config/config.ts';

it('names every setting of the schema in the docs', () => {
  const operations = readFileSync('docs/operations.md', 'utf8')
    .split('## Configuration')[1]
    ?.split('\n## ')[0];
  const security = readFileSync('docs/security.md', 'utf8');
  const documented = `${operations}\n${security}`;
  const missing = Object.keys(EnvSchema.shape).filter((name) => !documented.includes(`\`${name}\``));
  expect(missing).toEqual([]);
});

// `npm run docs:config`: writes docs/configuration.md from the zod schemas (src/config/reference.ts).
import { writeFileSync } from 'node:fs';
import { CONFIGURATION_DOC, configurationReference } from '../src/config/reference.ts';

writeFileSync(CONFIGURATION_DOC, configurationReference());
console.log(`wrote ${CONFIGURATION_DOC}`);

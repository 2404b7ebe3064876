/** Writes src/core/generated/ampersand-api.ts from the vendored spec: `npm run generate:api`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { generatedTypesFile, renderAmpersandApiTypes } from './ampersand-api-types.js';

mkdirSync(dirname(generatedTypesFile), { recursive: true });
writeFileSync(generatedTypesFile, await renderAmpersandApiTypes());
console.log(`wrote ${relative(process.cwd(), generatedTypesFile)}`);

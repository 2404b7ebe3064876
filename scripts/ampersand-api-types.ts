/**
 * Renders the Ampersand payload types from the vendored OpenAPI spec with
 * openapi-typescript. The generator script writes the result to the source
 * tree; test/spec/generated-types.test.ts renders it again in memory with the
 * very same options and fails when the committed file differs, so the types
 * cannot drift from the spec they claim to describe.
 */
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const specFile = fileURLToPath(new URL('../spec/ampersand-api.bundled.json', import.meta.url));
export const generatedTypesFile = fileURLToPath(new URL('../src/core/generated/ampersand-api.ts', import.meta.url));
export const generateCommand = 'npm run generate:api';

const header = `/**
 * GENERATED FILE, do not edit. Types of the Ampersand Platform API, rendered by
 * openapi-typescript from spec/ampersand-api.bundled.json (see spec/SOURCE.md).
 * To change them, refresh the spec and run \`${generateCommand}\`
 * (scripts/generate-ampersand-api.ts); test/spec/generated-types.test.ts fails
 * when this file is stale. Types only: it emits no code.
 */

`;

/** The generated file's text: the header, then every path, schema and operation of the spec. */
export async function renderAmpersandApiTypes(): Promise<string> {
  // Readonly, as everything the core hands around; no runtime enums, so the file stays types-only.
  const ast = await openapiTS(new URL(`file://${specFile}`), { immutable: true, silent: true });
  return header + astToString(ast);
}

/**
 * The committed Ampersand API types are what the vendored spec generates today:
 * the test renders them again in memory, with the generator script's own
 * function and options, and compares. A refreshed spec or a new
 * openapi-typescript that changes the output fails here until someone runs
 * the generator and commits its result.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateCommand, generatedTypesFile, renderAmpersandApiTypes } from '../../scripts/ampersand-api-types.js';

/** The first line where the two texts differ (1-based), with both versions of it, or undefined when they are equal. */
function firstDifference(committed: string, fresh: string): string | undefined {
  if (committed === fresh) return undefined;
  const a = committed.split('\n');
  const b = fresh.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? '(end of file)')}, generated ${JSON.stringify(b[at] ?? '(end of file)')}`;
}

describe('the generated Ampersand API types', () => {
  const committed = readFileSync(generatedTypesFile, 'utf8');

  it('are what the vendored spec generates now', async () => {
    const difference = firstDifference(committed, await renderAmpersandApiTypes());
    expect(difference, `src/core/generated/ampersand-api.ts is stale (${difference}): run \`${generateCommand}\` and commit the result`).toBeUndefined();
  });

  it('are types only, so the core gains no code from them (no enum or value arrays)', () => {
    // Every top-level declaration the generator writes starts at column 0 with `export`.
    const declarations = committed.split('\n').filter((line) => /^\S/.test(line) && !/^(\/\*\*| \*|\}|\};)/.test(line));
    expect(declarations.length).toBeGreaterThan(0);
    expect(declarations.filter((line) => !/^export (interface|type) /.test(line))).toEqual([]);
  });
});

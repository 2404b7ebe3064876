/**
 * The production build (what the Docker image ships) holds no simulator code:
 * tsconfig.build.json leaves src/simulator out, and no production module
 * imports it (an import would pull the file back into the program).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('the production build', () => {
  it('compiles no file of src/simulator, directly or through an import', () => {
    const files = execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--listFilesOnly'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => !f.includes('/node_modules/') && f.trim() !== '');
    expect(files.some((f) => f.includes('/src/main.ts'))).toBe(true);
    // The on-call CLI ships too: the image runs it as `node dist/src/cli/main.js`.
    expect(files.some((f) => f.includes('/src/cli/main.ts'))).toBe(true);
    expect(files.filter((f) => f.includes('/src/simulator/'))).toEqual([]);
  });

  it('is what the Dockerfile compiles', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/RUN npx tsc -p tsconfig\.build\.json && test ! -e dist\/src\/simulator/);
    expect(dockerfile).not.toContain('npm run build');
  });
});

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readServiceBuild, serviceBuild } from '../src/service-version.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ahm-version-'));
  // As in the image: package.json in /app, the code in /app/dist/src.
  mkdirSync(join(root, 'dist', 'src'), { recursive: true });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const writePackage = (fields: Record<string, unknown>): void => writeFileSync(join(root, 'package.json'), JSON.stringify(fields));
const fromDist = () => readServiceBuild(join(root, 'dist', 'src'));

describe('readServiceBuild', () => {
  it('reads the version and the revision the image build wrote as gitHead, two levels up', () => {
    writePackage({ name: 'ampersand-health-monitor', version: '1.2.3', gitHead: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567' });
    expect(fromDist()).toEqual({ version: '1.2.3', revision: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567' });
  });

  it('reports the revision of a checkout, which has no gitHead, as unknown', () => {
    writePackage({ name: 'ampersand-health-monitor', version: '1.2.3' });
    expect(fromDist()).toEqual({ version: '1.2.3', revision: 'unknown' });
  });

  it('reports a gitHead that is no revision (spaces, quotes, too long, not a string) as unknown', () => {
    for (const gitHead of ['a b', '"}', 'x'.repeat(65), '', 42]) {
      writePackage({ name: 'ampersand-health-monitor', version: '1.2.3', gitHead });
      expect(fromDist().revision, JSON.stringify(gitHead)).toBe('unknown');
    }
  });

  it('skips a package.json that is not ours, and answers unknown when it finds none', () => {
    writePackage({ name: 'something-else', version: '9.9.9', gitHead: 'abc' });
    expect(fromDist()).toEqual({ version: 'unknown', revision: 'unknown' });
  });
});

describe('serviceBuild', () => {
  it('reads this checkout: the version of package.json, and no revision', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(serviceBuild()).toEqual({ version: pkg.version, revision: 'unknown' });
  });
});

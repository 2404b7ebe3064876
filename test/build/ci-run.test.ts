/**
 * .ci/run, the CI entry point, on a machine where the container's Node cannot
 * be fetched from the npm registry: it must say so at once, not after the
 * whole suite has run for many minutes under the machine's Node.
 *
 * The script runs for real, with fakes of npm, npx and promtool first on its
 * PATH (they record what they were asked to do; `npm pack` fails as a registry
 * without the node-linux package would), an empty cache directory and the
 * test's own Redis, so it installs nothing and runs no test.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/redis.js';

let dir: string;

/** A fake command that appends its arguments to `calls`, and fails when they match the shell pattern `failOn`. */
function fake(name: string, failOn?: string): void {
  const file = join(dir, 'bin', name);
  const fail = failOn === undefined ? '' : `case "$*" in ${failOn}) echo "npm error 404 Not Found" >&2; exit 1 ;; esac\n`;
  writeFileSync(file, `#!/bin/sh\necho "${name} $*" >> "${join(dir, 'calls')}"\n${fail}exit 0\n`);
  chmodSync(file, 0o755);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahm-ci-run-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'cache'));
  fake('npm', 'pack*');
  fake('npx');
  fake('promtool');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs .ci/run with the fakes first on its PATH; returns its result and the commands the fakes were asked to run. */
function runCi(): { status: number | null; stderr: string; calls: string[] } {
  const run = spawnSync('bash', ['.ci/run'], {
    env: {
      PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? ''}`,
      HOME: dir,
      XDG_CACHE_HOME: join(dir, 'cache'),
      REDIS_URL,
      // Chromium is the machine's business here: the script only checks that one is named.
      CHROMIUM_PATH: '/bin/true',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const calls = existsSync(join(dir, 'calls'))
    ? readFileSync(join(dir, 'calls'), 'utf8')
        .split('\n')
        .filter((c) => c !== '')
    : [];
  return { status: run.status, stderr: run.stderr, calls };
}

const containerNodeVersion = /^container_node_version=(\S+)$/m.exec(readFileSync('.ci/run', 'utf8'))?.[1] ?? '';

describe('.ci/run', () => {
  it('runs the suite, then the suite again with the cached container Node first on the PATH, the rules and the faults', () => {
    const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
    const nodeBin = join(dir, 'cache', 'ampersand-health-monitor', `node-v${containerNodeVersion}-linux-${arch}`, 'bin');
    mkdirSync(nodeBin, { recursive: true });
    writeFileSync(join(nodeBin, 'node'), `#!/bin/sh\necho v${containerNodeVersion}\n`);
    chmodSync(join(nodeBin, 'node'), 0o755);
    // npx records the PATH it was given, to show the container's Node comes first.
    writeFileSync(join(dir, 'bin', 'npx'), `#!/bin/sh\necho "npx $* PATH=\${PATH%%:*}" >> "${join(dir, 'calls')}"\n`);
    const { status, calls } = runCi();
    expect(status).toBe(0);
    expect(calls.map((c) => c.replace(/ test\/\S+/g, ''))).toEqual([
      'npm ci --no-audit --no-fund',
      'npm test',
      `npx vitest run PATH=${nodeBin}`,
      'npm run test:rules',
      'npm run test:faults',
    ]);
    // The files run again under the container's Node exist (a renamed one would be silently skipped otherwise).
    const again = [...(calls[2] ?? '').matchAll(/ (test\/\S+)/g)].map((m) => m[1] ?? '');
    expect(again.length).toBeGreaterThan(10);
    for (const file of again) expect(existsSync(file), file).toBe(true);
  });

  describe('when the Node of the image cannot be fetched from the npm registry', () => {
    it('fails with a line saying so before it runs any test', () => {
      const run = runCi();
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain(`could not fetch node-linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}@${containerNodeVersion} from the npm registry`);
      expect(run.calls.filter((c) => /^npm (test|run)|^npx /.test(c))).toEqual([]);
    });
  });
});

/**
 * The CLI as a program: its help, its exit 2 for a bad command line or
 * configuration (the service's lines), the .env it reads, and the `bin`
 * entry and `npm run cli` that run it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../src/config.js';
import { CLI_PATH, linesOf, runCli } from '../helpers/cli.js';
import { REDIS_URL, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';
import { spawnWithOutput } from '../helpers/spawn.js';

const goodEnv = { AMPERSAND_API_KEY: 'amp-usage-key-1234', AMPERSAND_PROJECT_ID: 'proj-1', REDIS_URL, QUEUE_PREFIX: uniquePrefix() };

describe('the ampersand-health-monitor command line', () => {
  it('prints the help of the program and of every command, exit 0, without any configuration', async () => {
    const runs = await Promise.all(
      [
        ['--help'],
        ['status', '--help'],
        ['check', '-h'],
        ['dead-letters', '--help'],
        ['dead-letters', 'list', '--help'],
        ['dead-letters', 'replay', '--help'],
        ['silences', '--help'],
      ].map((args) => runCli(args, {})),
    );
    for (const run of runs) expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const [main, status, check, deadLetters, list, replay, silences] = runs.map((r) => r.stdout);
    expect(main).toMatch(/^Usage: ampersand-health-monitor <command> \[options\]\n/);
    expect(main).toMatch(/\n {2}status +the current state/);
    expect(main).toMatch(/\n {2}history +an installation's firing episodes/);
    expect(main).toMatch(/\n {2}silences +the silences and maintenance windows of MONITOR_CONFIG/);
    expect(silences).toMatch(/^Usage: ampersand-health-monitor silences \[--at TIME\] \[--json\]\n/);
    expect(silences).toContain('Nothing is written: the file is the source of truth.');
    expect(status).toMatch(/^Usage: ampersand-health-monitor status \[--unhealthy\] \[--integration ID\] \[--json\]\n/);
    expect(status).toContain('Default: every installation.');
    expect(check).toMatch(/^Usage: ampersand-health-monitor check \[--integration ID\] \[--no-redis\] \[--json\]\n/);
    expect(check).toContain('Exit codes: 0 nothing needs attention; 1 an installation needs attention;');
    expect(deadLetters).toMatch(/^Usage: ampersand-health-monitor dead-letters <list\|replay>/);
    expect(list).toMatch(/^Usage: ampersand-health-monitor dead-letters list \[--json\]\n/);
    expect(replay).toMatch(/^Usage: ampersand-health-monitor dead-letters replay \(--all \| ID\.\.\.\)\n/);
  });

  it('refuses a bad command line with one line on stderr and exit 2, before it reads the configuration', async () => {
    const runs = await Promise.all([['frobnicate'], ['status', '--verbose'], ['check', 'int-1'], []].map((args) => runCli(args, {})));
    expect(runs.map((r) => [r.code, r.stdout, linesOf(r.stderr).length])).toEqual([
      [2, '', 1],
      [2, '', 1],
      [2, '', 1],
      [2, '', 1],
    ]);
    expect(runs[0]?.stderr).toBe('ampersand-health-monitor: unknown command "frobnicate"; see ampersand-health-monitor --help\n');
    expect(runs[1]?.stderr).toBe("ampersand-health-monitor status: unknown option '--verbose'; see ampersand-health-monitor status --help\n");
  });

  it('refuses a bad configuration with the lines the service prints, exit 2', async () => {
    const env = { AMPERSAND_PROJECT_ID: 'p', POLL_INTERVAL_SECONDS: 'often', REDIS_URL: 'http://:pw-in-url-77@x' };
    const expected = readConfig(env);
    if (!(expected instanceof ConfigError)) throw new Error('the configuration should be refused');
    const { code, stdout, stderr } = await runCli(['status'], env);
    expect({ code, stdout, stderr }).toEqual({ code: 2, stdout: '', stderr: `${expected.message}\n` });
    expect(stderr).toContain('POLL_INTERVAL_SECONDS must be a number from 0.1 to 86400, got "often"');
    expect(stderr).not.toContain('pw-in-url-77');
  });

  it('reads a .env in its working directory, and the environment wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahm-cli-env-'));
    try {
      writeFileSync(join(dir, '.env'), 'AMPERSAND_PROJECT_ID=from-file\nPOLL_INTERVAL_SECONDS=often\nQUEUE_PREFIX=bad prefix\n');
      const { code, stderr } = await runCli(['status'], { QUEUE_PREFIX: 'good' }, dir);
      expect(code).toBe(2);
      expect(stderr).toContain('AMPERSAND_API_KEY is required');
      expect(stderr).toContain('POLL_INTERVAL_SECONDS must be a number');
      expect(stderr).not.toContain('AMPERSAND_PROJECT_ID');
      expect(stderr).not.toContain('QUEUE_PREFIX');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a .env it cannot read with one line and exit 2, as a bad configuration, not as a bug', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahm-cli-env-'));
    try {
      // Unreadable in a way that holds for root too (the tests may run as root): a directory named .env.
      mkdirSync(join(dir, '.env'));
      const { code, stdout, stderr } = await runCli(['status'], goodEnv, dir);
      expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
      expect(linesOf(stderr)).toEqual([expect.stringMatching(/^ampersand-health-monitor: cannot read \.env in .+ \(.+\); fix it or remove it$/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says in one line, exit 3, when Redis refuses a command, as when it cannot be reached: no fatal line, no exit 4', async () => {
    // Another program's keys under the same QUEUE_PREFIX: a read of the wrong type is refused.
    const prefix = uniquePrefix();
    const redis = connect();
    try {
      await redis.set(`${prefix}:state:integrations`, 'not a set');
      await redis.set(`${prefix}:state:dead:ids`, 'not a list');
      const runs = await Promise.all(
        [['status'], ['dead-letters', 'list'], ['dead-letters', 'replay', '--all']].map((args) => runCli(args, { ...goodEnv, QUEUE_PREFIX: prefix })),
      );
      for (const [i, command] of ['status', 'dead-letters list', 'dead-letters replay'].entries()) {
        const run = runs[i];
        expect({ code: run?.code, stdout: run?.stdout }).toEqual({ code: 3, stdout: '' });
        expect(linesOf(run?.stderr ?? '').filter((line) => !line.includes('integration names not shown'))).toEqual([
          expect.stringMatching(
            new RegExp(
              `^ampersand-health-monitor ${command}: Redis refused a command \\(WRONGTYPE .+\\)\\. Is REDIS_URL the service's Redis, and QUEUE_PREFIX=${prefix} its prefix\\?$`,
            ),
          ),
        ]);
      }
    } finally {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  });

  it('warns on stderr about a variable of ours it does not know, and goes on', async () => {
    const { code, stderr } = await runCli(['dead-letters', 'list'], { ...goodEnv, SLACK_WEBHOK_URL: 'x' });
    expect(code).toBe(0);
    expect(linesOf(stderr)).toEqual([
      'ampersand-health-monitor: warning: SLACK_WEBHOK_URL is not a variable this service reads (ignored); did you mean SLACK_WEBHOOK_URL?',
    ]);
  });

  it('is a bin entry: the built file has a node shebang, is executable, and runs by itself', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin?: Record<string, string>; scripts?: Record<string, string> };
    expect(pkg.bin).toEqual({ 'ampersand-health-monitor': 'dist/src/cli/main.js' });
    expect(readFileSync(CLI_PATH, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env node');
    expect(statSync(CLI_PATH).mode & 0o111).toBe(0o111);
    const child = spawn(CLI_PATH, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    expect({ code, out }).toEqual({
      code: 0,
      out: `ampersand-health-monitor ${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}\n`,
    });
  });

  it('runs as npm run cli -- …', async () => {
    const { child, output } = spawnWithOutput('npm', ['run', '--silent', 'cli', '--', 'dead-letters', 'list'], goodEnv);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, output: output() }).toEqual({ code: 0, output: 'No dead letters.\n' });
  });
});

/**
 * `silences`, run as the built CLI: the rules of the monitor configuration
 * file that MONITOR_CONFIG names, each with its state at --at, and the file's
 * problems (the service's own validator) with exit 2.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linesOf, runCli } from '../helpers/cli.js';

const env = { AMPERSAND_API_KEY: 'amp-silences-key-5678', AMPERSAND_PROJECT_ID: 'proj-1', REDIS_URL: 'redis://127.0.0.1:6379' };
let dir: string;

const file = async (name: string, text: string): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

const yaml = `silences:
  - match: { installationId: inst-1 }
    until: 2026-12-01T12:00:00Z
    reason: customer migrating
  - match: { groupRef: org-old }
    until: 2026-11-01T00:00:00Z
maintenance:
  - match: { provider: salesforce }
    cron: "0 2 * * SUN"
    durationMinutes: 120
    timezone: Europe/Berlin
    reason: Salesforce release
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ahm-cli-silences-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ampersand-health-monitor silences', () => {
  it('lists each rule with its state at --at: active until, expired, next start in its time zone and in UTC', async () => {
    const path = await file('monitor.yaml', yaml);
    // Tuesday 1 December 2026, 10:00 UTC: the first silence is active, the second expired, the window next starts on Sunday 6th.
    const { code, stdout, stderr } = await runCli(['silences', '--at', '2026-12-01T10:00:00Z'], { ...env, MONITOR_CONFIG: path });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = linesOf(stdout);
    expect(lines[0]).toBe(`Silences and maintenance windows of ${path} at 2026-12-01T10:00:00Z`);
    expect(lines[2]).toMatch(/^RULE\s+MATCH\s+STATE\s+REASON$/);
    const rows = lines.slice(3, 6).map((line) => line.split(/\s{2,}/));
    expect(rows).toEqual([
      ['silences[0]', 'installationId=inst-1', 'active until 2026-12-01T12:00:00Z (2 h left)', 'customer migrating'],
      ['silences[1]', 'groupRef=org-old', 'expired at 2026-11-01T00:00:00Z', '-'],
      [
        'maintenance[0]',
        'provider=salesforce',
        'next at 2026-12-06 02:00 UTC+1 (2026-12-06T01:00:00Z, in 4 d 15 h); "0 2 * * SUN" Europe/Berlin, 120 min',
        'Salesforce release',
      ],
    ]);
    expect(lines.at(-1)).toBe('1 of 3 in force.');
  });

  it('shows a window in force until the end of its occurrence, in summer time, as JSON', async () => {
    const path = await file('monitor.yaml', yaml);
    // Sunday 5 April 2026, 01:00 UTC = 03:00 CEST: in the window that began at 02:00 CEST.
    const { code, stdout } = await runCli(['silences', '--json', '--at', '2026-04-05T01:00:00Z'], { ...env, MONITOR_CONFIG: path });
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toEqual({
      at: '2026-04-05T01:00:00.000Z',
      file: path,
      silences: [
        { rule: 'silences[0]', match: { installationId: 'inst-1' }, until: '2026-12-01T12:00:00.000Z', reason: 'customer migrating', state: 'active' },
        { rule: 'silences[1]', match: { groupRef: 'org-old' }, until: '2026-11-01T00:00:00.000Z', reason: null, state: 'active' },
      ],
      maintenance: [
        {
          rule: 'maintenance[0]',
          match: { provider: 'salesforce' },
          cron: '0 2 * * SUN',
          durationMinutes: 120,
          timezone: 'Europe/Berlin',
          reason: 'Salesforce release',
          state: 'active',
          activeUntil: '2026-04-05T02:00:00.000Z',
        },
      ],
    });
  });

  it('refuses a file the service would refuse, one line per problem naming its place, and exits 2', async () => {
    const path = await file(
      'bad.yaml',
      'silences:\n  - match: { instalationId: x }\n    until: tomorrow\nmaintenance:\n  - match: {}\n    cron: "0 2 * *"\n    durationMinutes: 60\n    timezone: Mars/Olympus\n',
    );
    const { code, stdout, stderr } = await runCli(['silences'], { ...env, MONITOR_CONFIG: path });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const problems = linesOf(stderr);
    expect(problems.some((l) => l.startsWith(`  - MONITOR_CONFIG: ${path}: silences[0].match.instalationId`))).toBe(true);
    expect(problems.some((l) => l.startsWith(`  - MONITOR_CONFIG: ${path}: silences[0].until`))).toBe(true);
    expect(problems.some((l) => l.startsWith(`  - MONITOR_CONFIG: ${path}: maintenance[0].cron`))).toBe(true);
    expect(problems.some((l) => l.startsWith(`  - MONITOR_CONFIG: ${path}: maintenance[0].timezone`))).toBe(true);
  });

  it('says that nothing is muted without MONITOR_CONFIG, and refuses an --at that is not a time', async () => {
    const none = await runCli(['silences'], env);
    expect({ code: none.code, stdout: none.stdout }).toEqual({
      code: 0,
      stdout: 'MONITOR_CONFIG is not set: there are no silences or maintenance windows, and nothing is muted.\n',
    });
    const bad = await runCli(['silences', '--at', 'next tuesday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--at "next tuesday" is not a time');
  });
});

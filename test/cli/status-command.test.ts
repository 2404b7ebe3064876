/**
 * `status`, run as the built CLI against the state the real service wrote in
 * Redis (the harness runs it against the fake Ampersand).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStores } from '../../src/adapters/redis/stores.js';
import { buildProblem } from '../../src/simulator/fixtures.js';
import { installationSpec } from '../helpers/builders.js';
import { linesOf, runCli } from '../helpers/cli.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

// Longer than the GROUP column, shorter than what the service stores of a name (256 characters).
const hostileGroup = `Evil\n\u001b[31mRED\u001b[0m\u001b]0;pwned\u0007 Corp\u202e${'x'.repeat(150)}`;

let h: Harness;
let cliEnv: Record<string, string | undefined>;

/** Waits until the stored snapshot of `integrationId` has `installationId` in `health`. */
async function storedHealth(integrationId: string, installationId: string, health: string): Promise<void> {
  const { snapshots } = createRedisStores({ redis: h.redis, prefix: h.prefix });
  await waitFor(
    `${installationId} ${health} in Redis`,
    async () => (await snapshots.load(integrationId))?.snapshot?.get(installationId)?.healthStatus === health,
  );
}

beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [
    installationSpec('a'),
    installationSpec('b', { healthStatus: 'unhealthy', groupName: hostileGroup, groupRef: 'org-evil' }),
    installationSpec('c'),
  ]);
  h.ampersand.setIntegration('int-2', 'hubspot', [
    installationSpec('x', { integrationId: 'int-2', connectionStatus: 'bad_credentials', lastOperationStatus: 'failure' }),
  ]);
  cliEnv = { ...h.env({ AMPERSAND_INTEGRATION_IDS: 'int-1,int-2' }), LOG_LEVEL: 'info' };
  await h.start({ AMPERSAND_INTEGRATION_IDS: 'int-1,int-2' });
  await storedHealth('int-2', 'x', 'healthy');
  // After the baseline: a change the service sees between two polls, so its "since" is exact.
  h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
  await storedHealth('int-1', 'a', 'unhealthy');
});

afterEach(async () => {
  await h.stop();
});

describe('ampersand-health-monitor status', () => {
  it('prints one row per integration, then every installation worst first, with group, statuses and since when', async () => {
    const { code, stdout, stderr } = await runCli(['status'], cliEnv);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = linesOf(stdout);
    expect(lines[0]).toMatch(new RegExp(`^State in Redis \\(QUEUE_PREFIX=${h.prefix}\\) at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
    expect(lines[2]).toMatch(/^INTEGRATION\s+INSTALLATIONS\s+NEED ATTENTION\s+HEALTH\s+LAST POLL$/);
    expect(lines[3]).toMatch(/^int-1\s+3\s+2\s+healthy 1, unhealthy 2\s+\S+Z \(\d+ s ago\)$/);
    expect(lines[4]).toMatch(/^int-2\s+1\s+1\s+healthy 1\s+/);
    expect(lines[6]).toMatch(/^INTEGRATION\s+INSTALLATION\s+GROUP\s+HEALTH\s+LAST OPERATION\s+CONNECTION\s+SINCE$/);
    const rows = lines.slice(7).map((line) => line.split(/\s{2,}/));
    // Two problems first; then the longest standing (b since the baseline, a since it turned); healthy last.
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['int-2', 'x'],
      ['int-1', 'b'],
      ['int-1', 'a'],
      ['int-1', 'c'],
    ]);
    expect(rows[0]).toEqual([
      'int-2',
      'x',
      'Customer x (org-x)',
      'healthy',
      'failure',
      'bad_credentials',
      expect.stringMatching(/^≥ \S+Z \(first seen \d+ s ago\)$/),
    ]);
    expect(rows[2]).toEqual(['int-1', 'a', 'Customer a (org-a)', 'unhealthy', 'success', 'working', expect.stringMatching(/^\S+Z \(\d+ s ago\)$/)]);
  });

  it('names the integrations the API names, and shows the ids from Redis alone when the API cannot be read', async () => {
    h.ampersand.setIntegration('int-2', 'hubspot', h.ampersand.installations('int-2'), 'HubSpot contacts');
    const named = await runCli(['status', '--integration', 'int-2'], cliEnv);
    expect({ code: named.code, stderr: named.stderr }).toEqual({ code: 0, stderr: '' });
    expect(linesOf(named.stdout)[3]).toMatch(/^HubSpot contacts \(int-2\)\s+1\s+1\s+/);
    const offline = await runCli(['status', '--integration', 'int-2'], { ...cliEnv, AMPERSAND_API_URL: 'http://127.0.0.1:9/v1' });
    expect(offline.code).toBe(0);
    expect(offline.stderr).toMatch(/^ampersand-health-monitor status: integration names not shown \(.+\); ids only\n$/);
    expect(linesOf(offline.stdout)[3]).toMatch(/^int-2\s+1\s+1\s+/);
  });

  it('says why the names are not shown in one line without the escape sequences of a hostile API error', async () => {
    // A 401 is not retried, so the look-up fails at once with the API's problem text in its message.
    const problem = buildProblem(401, 'Unauthorized\u001b]0;pwned\u0007', 'key\u001b[2J\u001b[31m revoked\u009b1m\u202e');
    h.ampersand.setStickyFault({ kind: 'status', status: 401, problem });
    const { code, stderr } = await runCli(['status', '--integration', 'int-2'], cliEnv);
    expect(code).toBe(0);
    expect(linesOf(stderr)).toEqual([
      expect.stringMatching(/^ampersand-health-monitor status: integration names not shown \(.*Unauthorized.*revoked.*\); ids only$/),
    ]);
    // eslint-disable-next-line no-control-regex -- control characters are what must not be there
    expect(stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });

  it('keeps a hostile group name on its row, cut short and without a control character; --json keeps it whole', async () => {
    const { stdout } = await runCli(['status', '--unhealthy'], cliEnv);
    // eslint-disable-next-line no-control-regex -- control characters are what must not be there
    expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    const row = linesOf(stdout).find((line) => line.startsWith('int-1') && line.includes('Evil'));
    expect(row).toMatch(/^int-1\s+b\s+Evil RED Corpx+… {2}unhealthy\s+success\s+working\s+≥ /);
    expect(linesOf(stdout)).toHaveLength(7 + 3);
    const json = await runCli(['status', '--json', '--integration', 'int-1'], cliEnv);
    const parsed = JSON.parse(json.stdout) as { installations: { installationId: string; groupName: string }[] };
    expect(parsed.installations.find((i) => i.installationId === 'b')?.groupName).toBe(hostileGroup);
    expect(json.stdout).not.toContain('\u001b');
  });

  it('shows only those needing attention with --unhealthy, and one integration with --integration', async () => {
    const unhealthy = await runCli(['status', '--unhealthy'], cliEnv);
    expect(
      linesOf(unhealthy.stdout)
        .slice(7)
        .map((line) => line.split(/\s+/).slice(0, 2)),
    ).toEqual([
      ['int-2', 'x'],
      ['int-1', 'b'],
      ['int-1', 'a'],
    ]);
    const one = await runCli(['status', '--integration', 'int-2', '--unhealthy'], cliEnv);
    expect(linesOf(one.stdout).slice(3)).toEqual([
      expect.stringMatching(/^int-2 /),
      '',
      expect.stringMatching(/^INTEGRATION/),
      expect.stringMatching(/^int-2\s+x\s/),
    ]);
  });

  it('prints stable JSON fields with --json', async () => {
    const { code, stdout } = await runCli(['status', '--json', '--integration', 'int-2'], cliEnv);
    expect(code).toBe(0);
    const isoTime = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.parse(stdout)).toEqual({
      generatedAt: isoTime,
      integrations: [
        {
          integrationId: 'int-2',
          projectId: 'proj-1',
          lastSuccessAt: isoTime,
          readable: true,
          total: 1,
          needingAttention: 1,
          byHealth: { healthy: 1 },
          byLastOperation: { failure: 1 },
          byConnection: { bad_credentials: 1 },
        },
      ],
      installations: [
        {
          integrationId: 'int-2',
          projectId: 'proj-1',
          installationId: 'x',
          groupRef: 'org-x',
          groupName: 'Customer x',
          provider: 'salesforce',
          healthStatus: 'healthy',
          lastOperationStatus: 'failure',
          connectionStatus: 'bad_credentials',
          problems: ['last_operation_status', 'connection_status'],
          since: { at: isoTime, exact: false },
          muted: null,
        },
      ],
    });
  });

  it('exits 1 with one line for an integration that has no stored state', async () => {
    const { code, stdout, stderr } = await runCli(['status', '--integration', 'int-9'], cliEnv);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(linesOf(stderr)).toEqual([
      `ampersand-health-monitor status: no stored state for integration "int-9" under QUEUE_PREFIX=${h.prefix} (stored: int-1, int-2)`,
    ]);
  });

  it('says so when nothing is stored under the prefix', async () => {
    const { code, stdout } = await runCli(['status'], { ...cliEnv, QUEUE_PREFIX: `${h.prefix}-empty` });
    expect(code).toBe(0);
    expect(stdout).toBe(
      `No stored state under QUEUE_PREFIX=${h.prefix}-empty: the service has not polled yet, or it runs with another QUEUE_PREFIX or REDIS_URL.\n`,
    );
  });

  it('exits 3 with one line naming REDIS_URL, password hidden, when Redis cannot be reached', async () => {
    const { code, stdout, stderr } = await runCli(['status'], { ...cliEnv, REDIS_URL: 'redis://:hunter2secret@127.0.0.1:1' });
    expect({ code, stdout }).toEqual({ code: 3, stdout: '' });
    expect(linesOf(stderr)).toEqual([
      expect.stringMatching(
        /^ampersand-health-monitor status: Redis is not reachable at REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(.+\)\. Is the service's Redis up/,
      ),
    ]);
    expect(stderr).not.toContain('hunter2secret');
  });
});

describe('ampersand-health-monitor status with the silences of MONITOR_CONFIG', () => {
  it('names what mutes an installation now, its reason and its end, in a MUTED column and in --json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ahm-status-silences-'));
    try {
      const path = join(dir, 'monitor.yaml');
      await writeFile(path, 'silences:\n  - match: { installationId: a }\n    until: 2999-01-01T00:00:00Z\n    reason: customer migrating\n');
      const { code, stdout, stderr } = await runCli(['status', '--unhealthy'], { ...cliEnv, MONITOR_CONFIG: path });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const lines = linesOf(stdout);
      expect(lines[6]).toMatch(/\s+SINCE\s+MUTED$/);
      const row = (id: string): string | undefined => lines.find((l) => l.split(/\s{2,}/)[1] === id);
      expect(row('a')).toMatch(/\s{2}silences\[0\] until 2999-01-01T00:00:00Z \(customer migrating\)$/);
      expect(row('b')).toMatch(/\s{2}-$/);
      const json = await runCli(['status', '--json'], { ...cliEnv, MONITOR_CONFIG: path });
      const installations = (JSON.parse(json.stdout) as { installations: { installationId: string; muted: unknown }[] }).installations;
      expect(installations.find((i) => i.installationId === 'a')?.muted).toEqual({
        by: 'silences[0]',
        kind: 'silence',
        reason: 'customer migrating',
        until: '2999-01-01T00:00:00.000Z',
        also: [],
      });
      expect(installations.find((i) => i.installationId === 'c')?.muted).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

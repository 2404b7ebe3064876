/**
 * `check`, run as the built CLI against the fake Ampersand, with the stored
 * snapshots written by the Redis stores, without Redis, and with a wrong key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStores } from '../../src/adapters/redis/stores.js';
import { diffSnapshots } from '../../src/core/diff.js';
import { installationSpec, state } from '../helpers/builders.js';
import { linesOf, runCli } from '../helpers/cli.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { dumpPrefix } from '../helpers/redis.js';

let h: Harness;
let cliEnv: Record<string, string | undefined>;

/** Every key under the prefix with its value, parsed: a hash compares whatever order Redis lists its fields in. */
async function stateUnderPrefix(): Promise<Record<string, unknown>> {
  const lines = await dumpPrefix(h.redis, h.prefix);
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(' ')), JSON.parse(line.slice(line.indexOf(' ') + 1)) as unknown]));
}

/** The rows of the table that follows the line `title`, split into cells. */
function tableAfter(stdout: string, title: string): string[][] {
  const lines = linesOf(stdout);
  const start = lines.indexOf(title);
  if (start === -1) throw new Error(`no "${title}" in:\n${stdout}`);
  const end = lines.indexOf('', start + 1);
  return lines.slice(start + 2, end === -1 ? undefined : end).map((line) => line.split(/\s{2,}/));
}

beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b')]);
  h.ampersand.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2' })]);
  cliEnv = { ...h.env({ AMPERSAND_INTEGRATION_IDS: '' }), LOG_LEVEL: 'info' };
});

afterEach(async () => {
  await h.stop();
});

/** A stored snapshot of int-1 with a and b healthy, as the service's baseline writes it (and nothing in the outbox). */
async function storeBaseline(): Promise<void> {
  const { snapshots } = createRedisStores({ redis: h.redis, prefix: h.prefix });
  const snapshot = diffSnapshots(undefined, [state('a'), state('b')], Date.now() - 3_600_000).next;
  const committed = await snapshots.commit({
    integrationId: 'int-1',
    expectedVersion: undefined,
    version: 1,
    lineage: 'L1',
    projectId: 'proj-1',
    snapshot,
    nowMs: Date.now() - 60_000,
    outbox: [],
  });
  expect(committed.committed).toBe(true);
}

describe('ampersand-health-monitor check', () => {
  it('reads MONITOR_CONFIG as the service does: a file that cannot be read, or one without projects and no AMPERSAND_PROJECT_ID, exits 2 naming it', async () => {
    const missing = await runCli(['check', '--no-redis'], { ...cliEnv, MONITOR_CONFIG: '/nonexistent/monitor.yaml' });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('MONITOR_CONFIG: /nonexistent/monitor.yaml: cannot be read (there is no such file)');
    const dir = mkdtempSync(join(tmpdir(), 'ahm-check-config-'));
    try {
      const file = join(dir, 'monitor.yaml');
      writeFileSync(file, 'silences: []\n');
      const { code, stdout, stderr } = await runCli(['check', '--no-redis'], { ...cliEnv, AMPERSAND_PROJECT_ID: '', MONITOR_CONFIG: file });
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain('AMPERSAND_PROJECT_ID is required when the MONITOR_CONFIG file has no `projects`');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(h.ampersand.requests).toEqual([]);
  });

  it('discovers the integrations, and exits 0 when nothing needs attention', async () => {
    const { code, stdout, stderr } = await runCli(['check'], cliEnv);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(linesOf(stdout)[0]).toMatch(/^Checked 2 integration\(s\) of project proj-1 at \S+Z, compared with the snapshots the service keeps in Redis\.$/);
    expect(tableAfter(stdout, '').length).toBeGreaterThan(0);
    expect(stdout).toContain('\nNothing needs attention.\n\nNothing would alert.\n\nExit 0: nothing needs attention.\n');
  });

  it('compares with the stored snapshot: lists what needs attention and what would alert, exits 1, and writes nothing', async () => {
    await storeBaseline();
    h.ampersand.update('int-1', 'a', { lastOperationStatus: 'failure' });
    h.ampersand.add('int-1', installationSpec('n', { connectionStatus: 'bad_credentials', groupName: 'New\nCo' }));
    const before = await stateUnderPrefix();
    // With the service's thresholds, as configured: one bad poll fires here (the default, 2, would make it pending).
    const { code, stdout } = await runCli(['check', '--integration', 'int-1'], { ...cliEnv, ALERT_AFTER_POLLS: '1' });
    expect(await stateUnderPrefix()).toEqual(before);
    expect(code).toBe(1);
    expect(tableAfter(stdout, '')[0]).toEqual(['int-1', '3', '2', 'healthy 3', expect.stringMatching(/^snapshot of \S+Z \(1 m ago\)$/)]);
    expect(tableAfter(stdout, 'Needing attention:').map((r) => r.slice(1, 3))).toEqual([
      ['a', 'Customer a (org-a)'],
      ['n', 'New Co (org-n)'],
    ]);
    expect(tableAfter(stdout, 'Would alert:')).toEqual([
      ['int-1', 'n', 'New Co (org-n)', 'problem', 'bad_credentials', '-', '-'],
      ['int-1', 'a', 'Customer a (org-a)', 'problem', 'operation_failing', '-', '-'],
    ]);
    expect(linesOf(stdout).at(-1)).toBe('Exit 1: 2 installation(s) need attention.');
  });

  it('reports everything that needs attention as a first look with --no-redis, and when Redis cannot be reached', async () => {
    await storeBaseline();
    h.ampersand.update('int-1', 'b', { healthStatus: 'unhealthy' });
    const noRedis = await runCli(['check', '--no-redis'], cliEnv);
    expect(noRedis.code).toBe(1);
    expect(linesOf(noRedis.stdout)[0]).toContain('without the snapshots in Redis (--no-redis): everything that needs attention is reported as a first look.');
    expect(tableAfter(noRedis.stdout, 'Would alert:')).toEqual([['int-1', 'b', 'Customer b (org-b)', 'first look', 'health_status', '-', 'unhealthy']]);
    const unreachable = await runCli(['check'], { ...cliEnv, REDIS_URL: 'redis://:hunter2secret@127.0.0.1:1' });
    expect(unreachable.code).toBe(1);
    expect(linesOf(unreachable.stdout)[0]).toMatch(
      /without the snapshots in Redis \(Redis is not reachable at REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(.+\)\): everything/,
    );
    expect(tableAfter(unreachable.stdout, 'Would alert:')).toEqual(tableAfter(noRedis.stdout, 'Would alert:'));
    expect(unreachable.stdout + unreachable.stderr).not.toContain('hunter2secret');
  });

  it('prints one line and exits 3 when the API key is refused, never showing the key, with discovery and with configured ids', async () => {
    const wrongKey = 'amp-wrong-key-5e6f7a8b';
    for (const ids of ['', 'int-1,int-2']) {
      const { code, stdout, stderr } = await runCli(['check', '--no-redis'], { ...cliEnv, AMPERSAND_API_KEY: wrongKey, AMPERSAND_INTEGRATION_IDS: ids });
      expect({ ids, code, stdout }).toEqual({ ids, code: 3, stdout: '' });
      expect(linesOf(stderr)).toEqual([
        expect.stringMatching(/^ampersand-health-monitor check: .*HTTP 401 unauthorized.*the API key \(AMPERSAND_API_KEY\) was rejected/),
      ]);
      expect(stderr).not.toContain(wrongKey);
    }
  });

  it('exits 3, over 1, when an integration cannot be read, and names why in its row', async () => {
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    const { code, stdout } = await runCli(['check', '--no-redis'], { ...cliEnv, AMPERSAND_INTEGRATION_IDS: 'int-1,int-gone' });
    expect(code).toBe(3);
    const rows = tableAfter(stdout, '');
    expect(rows[0]?.slice(0, 3)).toEqual(['int-1', '2', '1']);
    expect(rows[1]?.slice(0, 3)).toEqual(['int-gone', '-', '-']);
    expect(rows[1]?.[3]).toMatch(/^cannot be read: GET \/projects\/proj-1\/integrations\/int-gone\/installations: HTTP 404 not_found/);
    expect(linesOf(stdout).at(-1)).toBe('Exit 3: 1 integration(s) could not be read.');
  });

  it('prints stable JSON fields with --json, with the exit code it exits with', async () => {
    await storeBaseline();
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    const { code, stdout } = await runCli(['check', '--json'], { ...cliEnv, AMPERSAND_INTEGRATION_IDS: 'int-1,int-gone', ALERT_AFTER_POLLS: '1' });
    expect(code).toBe(3);
    const isoTime = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.parse(stdout)).toEqual({
      checkedAt: isoTime,
      projectId: 'proj-1',
      comparedWithRedis: true,
      withoutRedis: null,
      integrations: [
        {
          integrationId: 'int-1',
          ok: true,
          comparedWith: isoTime,
          storedStateUnreadable: null,
          total: 2,
          needingAttention: 1,
          byHealth: { healthy: 1, unhealthy: 1 },
          byLastOperation: { success: 2 },
          byConnection: { working: 2 },
          wouldAlert: [
            expect.objectContaining({
              installationId: 'a',
              groupRef: 'org-a',
              groupName: 'Customer a',
              provider: 'salesforce',
              condition: 'unhealthy',
              event: 'fire',
            }),
          ],
        },
        { integrationId: 'int-gone', ok: false, error: { reason: 'not_found', status: 404, message: expect.stringContaining('HTTP 404 not_found') } },
      ],
      installations: [
        expect.objectContaining({ integrationId: 'int-1', installationId: 'a', problems: ['health_status'], since: { at: isoTime, exact: true } }),
      ],
      exitCode: 3,
    });
  });
});

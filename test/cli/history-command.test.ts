/**
 * `history`, run as the built CLI against the episode log the real service
 * wrote in Redis while an installation went bad and came back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { linesOf, runCli } from '../helpers/cli.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
let cliEnv: Record<string, string | undefined>;

beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b')]);
  const fast = { ALERT_AFTER_POLLS: '1', RESOLVE_AFTER_POLLS: '1' };
  cliEnv = { ...h.env(fast), LOG_LEVEL: 'info' };
  await h.start(fast);
  await waitFor('two polls', () => h.ampersand.requests.length >= 2);
  h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
  await waitFor('the firing', () => h.texts().some((t) => t.includes('[FIRING')));
  h.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
  await waitFor('the recovery', () => h.texts().some((t) => t.includes('[RESOLVED')));
});

afterEach(async () => {
  await h.stop();
});

describe('ampersand-health-monitor history', () => {
  it('prints the episodes of an installation, newest first, with how each ended', async () => {
    const { code, stdout, stderr } = await runCli(['history', 'a'], cliEnv);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = linesOf(stdout);
    expect(lines[0]).toBe('Episodes of installation "a", newest first (the last 30 days)');
    expect(lines[2]).toMatch(/^INTEGRATION\s+CONDITION\s+BEGAN\s+FIRED\s+ENDED\s+LASTED\s+OPERATION\s+ERROR$/);
    expect(lines[3]?.split(/\s{2,}/).slice(0, 2)).toEqual(['int-1', 'unhealthy']);
    expect(lines[3]).toMatch(/\S+Z \(recovered\)/);
    expect(lines).toHaveLength(4);
  });

  it('gives the same with --json, and nothing for an installation without episodes', async () => {
    const json = await runCli(['history', 'a', '--json', '--integration', 'int-1'], cliEnv);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { installationId: string; episodes: Record<string, unknown>[] };
    expect(parsed.installationId).toBe('a');
    expect(parsed.episodes).toEqual([
      expect.objectContaining({ integrationId: 'int-1', condition: 'unhealthy', reason: 'recovered', durationMs: expect.any(Number) as number }),
    ]);
    const none = await runCli(['history', 'b'], cliEnv);
    expect({ code: none.code, out: none.stdout }).toEqual({ code: 0, out: 'No episode recorded for installation "b" in the last 30 days.\n' });
  });

  it('refuses no installation id, or two, with one line and exit 2', async () => {
    const missing = await runCli(['history'], cliEnv);
    expect({ code: missing.code, err: missing.stderr }).toEqual({
      code: 2,
      err: 'ampersand-health-monitor history: no installation id given; see ampersand-health-monitor history --help\n',
    });
    expect((await runCli(['history', 'a', 'b'], cliEnv)).code).toBe(2);
  });
});

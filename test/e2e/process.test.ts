/**
 * The service as a process, as operators run it: `npm start` from the built
 * output. Checks the start-up contract (bad config names itself, exit 2) and
 * the shutdown contract (SIGTERM to `npm start` reaches node; exit 0 in 10 s).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, freePort, type Harness } from '../helpers/harness.js';
import { spawnWithOutput } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a')]);
});
afterEach(async () => {
  await h.stop();
});

const npmStart = (env: Record<string, string | undefined>) => spawnWithOutput('npm', ['start', '--silent'], env);

describe('npm start', () => {
  it('refuses a bad configuration with one line per variable and exit code 2', async () => {
    const { child, output } = npmStart({ AMPERSAND_PROJECT_ID: 'p', POLL_INTERVAL_SECONDS: 'often', DASHBOARD_URL: 'javascript:alert(1)' });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(output()).toContain('AMPERSAND_API_KEY is required');
    expect(output()).toContain('POLL_INTERVAL_SECONDS must be a number from 0.1 to 86400, got "often"');
    expect(output()).toContain('DASHBOARD_URL must be an http:// or https:// URL of the Grafana dashboard');
  });

  it('refuses a bad MONITOR_CONFIG file with one line per problem, naming its place in the file, and exit code 2; the webhook is never shown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahm-monitor-config-'));
    try {
      const file = join(dir, 'monitor.yaml');
      const secret = 'https://hooks.slack.com/services/T000/B000/monitor-config-secret';
      writeFileSync(
        file,
        `routes:\n  - match: { provider: hubspot }\n    webhookUrl: ${secret}\n    mention: "@here"\nsilences:\n  - match: {}\n    until: tomorrow\n`,
      );
      const env = { ...h.env({ METRICS_PORT: String(await freePort()) }), MONITOR_CONFIG: file };
      const { child, output } = npmStart(env);
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(2);
      expect(output()).toContain(`MONITOR_CONFIG: ${file}: routes[0].mention`);
      expect(output()).toContain(`MONITOR_CONFIG: ${file}: silences[0].until must be a date and time with its offset`);
      expect(output()).not.toContain('monitor-config-secret');
      expect(output()).not.toContain('started');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a MONITOR_CONFIG that names no file, with exit code 2', async () => {
    const env = { ...h.env({ METRICS_PORT: String(await freePort()) }), MONITOR_CONFIG: '/nonexistent/monitor.yaml' };
    const { child, output } = npmStart(env);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(output()).toContain('MONITOR_CONFIG: /nonexistent/monitor.yaml: cannot be read (there is no such file)');
  });

  it('reads a .env in its working directory, and the environment wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahm-env-'));
    try {
      writeFileSync(join(dir, '.env'), 'AMPERSAND_PROJECT_ID=from-file\nPOLL_INTERVAL_SECONDS=often\nMETRICS_PORT=0\n');
      const { child, output } = spawnWithOutput(process.execPath, [resolve('dist/src/main.js')], { METRICS_PORT: '9464' }, dir);
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(2);
      expect(output()).toContain('AMPERSAND_API_KEY is required');
      expect(output()).toContain('POLL_INTERVAL_SECONDS must be a number from 0.1 to 86400, got "often"');
      expect(output()).not.toContain('AMPERSAND_PROJECT_ID');
      expect(output()).not.toContain('METRICS_PORT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('polls, and exits 0 within 10 s of SIGTERM', async () => {
    const env = { ...h.env({ METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }) };
    const { child, output } = npmStart(env);
    await waitFor('the first poll', () => output().includes('baseline taken'), 20_000);
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(output()).toContain('"msg":"stopped"');
  });

  it('warns at start about a variable of ours it does not know, naming the closest one', async () => {
    const env = {
      ...h.env({ METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' }),
      SLACK_WEBHOK_URL: 'https://hooks.slack.com/services/T/B/typoSecret42',
    };
    const { child, output } = npmStart(env);
    await waitFor('the start line', () => output().includes('ampersand-health-monitor started'), 20_000);
    child.kill('SIGTERM');
    await once(child, 'exit');
    const warning = output()
      .split('\n')
      .find((line) => line.includes('SLACK_WEBHOK_URL'));
    expect(warning).toContain('"level":"warn"');
    expect(warning).toContain('SLACK_WEBHOK_URL is not a variable this service reads (ignored); did you mean SLACK_WEBHOOK_URL?');
    expect(output()).not.toContain('typoSecret42');
  });
});

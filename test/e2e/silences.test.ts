/**
 * Silences and maintenance windows, end to end: the real service, started
 * from a monitor configuration file (MONITOR_CONFIG, read by loadConfig as
 * the entry point reads it), with the fake Ampersand, the fake Slack and a
 * real Redis. An installation a rule covers goes bad: nothing is sent, the
 * episode log says what silenced it, ampersand_alerts_silenced_total counts
 * it, the firing gauge still counts it. When the rule ends (the injectable
 * clock moves past it) while the installation is still bad, the alert is sent
 * once, saying what held it back.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { decodeEpisodeLog } from '../../src/core/episodes.js';
import { loadConfig } from '../../src/load-config.js';
import { startMonitor } from '../../src/main.js';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { captureLogs } from '../helpers/logger.js';
import { waitFor, sleep } from '../helpers/wait.js';

const HOUR = 3_600_000;
let h: Harness;
let dir: string;
/** The service's clock: real time moved by `offsetMs`, so that a test can step past a silence's end. */
let offsetMs = 0;
const clock = (): Date => new Date(Date.now() + offsetMs);

beforeEach(async () => {
  h = await createHarness();
  dir = await mkdtemp(join(tmpdir(), 'ahm-silences-'));
  offsetMs = 0;
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b')], 'Salesforce account sync');
});
afterEach(async () => {
  await h.stop();
  await rm(dir, { recursive: true, force: true });
});

const version = async (): Promise<number> => Number(await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v'));
async function polls(n: number): Promise<void> {
  const from = await version();
  await waitFor(`${n} more polls`, async () => (await version()) >= from + n);
}
const episodes = async (installationId: string) => decodeEpisodeLog(await h.redis.hget(`${h.prefix}:state:episodes:int-1`, installationId));
const metric = async (name: string, labels: Record<string, string>): Promise<number | undefined> => sample(await h.metrics(), name, labels);

/** Starts the service with `yaml` as its monitor configuration file, through loadConfig as the entry point does, and waits for the baseline. */
async function start(yaml: string): Promise<void> {
  const path = join(dir, 'monitor.yaml');
  await writeFile(path, yaml);
  const loaded = await loadConfig(h.env({ POLL_INTERVAL_SECONDS: '0.5', UPSTREAM_DEGRADED_AFTER_CYCLES: '1000', MONITOR_CONFIG: path }));
  if (loaded instanceof ConfigError) throw new Error(loaded.message);
  const logs = captureLogs();
  const monitor = await startMonitor(loaded.config, { logger: logs.logger, httpPort: 0, now: clock });
  h.monitors.push({ monitor, logs });
  await waitFor('the baseline', async () => (await version()) > 0);
}

describe('a silence', () => {
  it('holds the alert of an installation it covers, records and counts it, and sends it once when it expires while still bad', async () => {
    const until = new Date(Date.now() + HOUR).toISOString();
    await start(`silences:\n  - match: { installationId: a }\n    until: ${until}\n    reason: customer migrating\n`);
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the muted firing in the episode log', async () => (await episodes('a')).length === 1);
    await polls(3);
    expect(h.slack.messages).toHaveLength(0);
    const [episode] = await episodes('a');
    expect(episode).toMatchObject({
      condition: 'unhealthy',
      silenced: { by: 'silences[0]', kind: 'silence', reason: 'customer migrating', until: Date.parse(until) },
    });
    expect(episode?.notifiedAt).toBeUndefined();
    const labels = { integration_id: 'int-1', condition: 'unhealthy', kind: 'silence' };
    expect(await metric('ampersand_alerts_silenced_total', labels)).toBe(1);
    expect(await metric('ampersand_alerts_firing', { integration_id: 'int-1', condition: 'unhealthy' })).toBe(1);
    expect(h.monitors[0]?.logs.text()).toContain('alert: a unhealthy fire (not sent: muted by silences[0])');

    // An installation the silence does not cover alerts as usual meanwhile.
    h.ampersand.update('int-1', 'b', { connectionStatus: 'bad_credentials' });
    await waitFor("b's firing", () => h.slack.messages.length === 1);
    expect(h.texts()[0]).toContain('credentials rejected — Customer b (org-b)');

    offsetMs = 2 * HOUR;
    await waitFor('the firing held back', () => h.slack.messages.length === 2);
    expect(h.texts()[1]).toBe('[FIRING:1] Salesforce account sync (int-1): Salesforce installation unhealthy — Customer a (org-a)');
    expect(JSON.stringify(h.slack.messages[1]?.body.blocks)).toContain('(held back by silence silences[0] (customer migrating) until now)');
    // The provider's display name from GET /providers, beside its id. The catalog is cached for an hour: read for b's
    // message, and again for this one, the clock having moved two hours; not for the polls without a message.
    expect(JSON.stringify(h.slack.messages[1]?.body.blocks)).toContain('provider Salesforce (`salesforce`)');
    expect(h.ampersand.requests.filter((r) => r.path === '/v1/providers')).toHaveLength(2);
    await polls(3);
    await sleep(200);
    expect(h.slack.messages).toHaveLength(2);
    expect((await episodes('a'))[0]?.notifiedAt).toBeGreaterThan(Date.parse(until));
    expect(await metric('ampersand_alerts_silenced_total', labels)).toBe(1);
  });
});

describe('a maintenance window', () => {
  it('holds the alert while it lasts and sends it once when it ends while still bad', async () => {
    // Every day 03:00 to 03:30 UTC; the clock is put at 03:10 today, then past 03:30.
    const today = new Date().toISOString().slice(0, 10);
    offsetMs = Date.parse(`${today}T03:10:00Z`) - Date.now();
    await start(
      'maintenance:\n  - match: { provider: salesforce, groupRef: org-a }\n    cron: "0 3 * * *"\n    durationMinutes: 30\n    timezone: UTC\n    reason: Salesforce upgrade\n',
    );
    h.ampersand.update('int-1', 'a', { lastOperationStatus: 'failure' });
    await waitFor('the muted firing in the episode log', async () => (await episodes('a')).length === 1);
    await polls(2);
    expect(h.slack.messages).toHaveLength(0);
    expect((await episodes('a'))[0]).toMatchObject({
      condition: 'operation_failing',
      silenced: { by: 'maintenance[0]', kind: 'maintenance', until: Date.parse(`${today}T03:30:00Z`) },
    });
    expect(await metric('ampersand_alerts_silenced_total', { integration_id: 'int-1', condition: 'operation_failing', kind: 'maintenance' })).toBe(1);
    // The status page says what mutes it, and until when.
    const page = await h.get('/');
    expect(page.body).toContain('muted by maintenance[0]');

    offsetMs = Date.parse(`${today}T03:31:00Z`) - Date.now();
    await waitFor('the firing held back', () => h.slack.messages.length === 1);
    expect(h.texts()[0]).toBe('[FIRING:1] Salesforce account sync (int-1): Salesforce reads failing — Customer a (org-a)');
    expect(JSON.stringify(h.slack.messages[0]?.body.blocks)).toContain('held back by maintenance window maintenance[0] (Salesforce upgrade) until now');
    await polls(3);
    expect(h.slack.messages).toHaveLength(1);
  });
});

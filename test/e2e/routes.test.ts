/**
 * Routes end to end (issue 8): two fake Slack webhooks, the default one
 * (SLACK_WEBHOOK_URL) and a route's, chosen by provider. Each route has its own
 * outbox lane: a revoked webhook on one route pauses only that lane, with its
 * messages kept in order, while the other route keeps delivering; once the
 * webhook works again they all arrive, in order, none lost, none twice. The
 * route's mention is on its firing messages, never on a recovery.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { Route } from '../../src/core/monitor-config.js';
import { decodeSnapshot } from '../../src/core/snapshot.js';
import { startMonitor, type Monitor } from '../../src/main.js';
import { startFakeSlack, type FakeSlack } from '../../src/simulator/fake-slack-server.js';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { captureLogs, type CapturedLogs } from '../helpers/logger.js';
import { sleep, waitFor } from '../helpers/wait.js';

let h: Harness;
/** The webhook of the route "hubspot-team". */
let routed: FakeSlack;
let monitor: Monitor | undefined;
let logs: CapturedLogs;

beforeEach(async () => {
  h = await createHarness();
  routed = await startFakeSlack();
  h.ampersand.setIntegration(
    'int-1',
    'salesforce',
    ['a', 'b'].map((id) => installationSpec(id)),
  );
  h.ampersand.setIntegration(
    'int-2',
    'hubspot',
    ['x', 'y'].map((id) => installationSpec(id, { integrationId: 'int-2', provider: 'hubspot' })),
  );
});
afterEach(async () => {
  await monitor?.close();
  monitor = undefined;
  await routed.close();
  await h.stop();
});

const route = (): Route => ({
  name: 'hubspot-team',
  match: { provider: 'hubspot' },
  webhookUrl: routed.webhookUrl,
  webhookSource: '$HUBSPOT_WEBHOOK_URL',
  mention: '<!subteam^S0123ABCD>',
});

/** The monitor with the route, each committed change alerting at once and sent as its own message. */
async function start(): Promise<void> {
  logs = captureLogs();
  const env = h.env({
    AMPERSAND_INTEGRATION_IDS: 'int-1,int-2',
    ALERT_AFTER_POLLS: '1',
    RESOLVE_AFTER_POLLS: '1',
    SLACK_OUTBOX_COALESCE: 'false',
  });
  const config = { ...parseConfig(env), monitor: { projects: undefined, routes: [route()], silences: [], maintenance: [] } };
  monitor = await startMonitor(config, { logger: logs.logger, httpPort: 0 });
}

const key = (name: string): string => `${h.prefix}:state:${name}`;

/** Changes one installation's health and waits until that change itself is committed. */
async function commit(integrationId: string, id: string, healthStatus: 'healthy' | 'unhealthy'): Promise<void> {
  h.ampersand.update(integrationId, id, { healthStatus });
  await waitFor(
    `${integrationId}/${id} ${healthStatus} committed`,
    async () => decodeSnapshot((await h.redis.hget(key(`snap:${integrationId}`), 'd')) ?? '')?.get(id)?.healthStatus === healthStatus,
  );
}

const get = async (path: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(`http://127.0.0.1:${monitor?.httpPort ?? 0}${path}`);
  return { status: res.status, body: await res.text() };
};
const texts = (slack: FakeSlack): string[] => slack.messages.map((m) => String(m.body.text));
const baselines = async (): Promise<void> => {
  await waitFor('both baselines', async () => (await h.redis.exists(key('snap:int-1'), key('snap:int-2'))) === 2);
};

describe('routing to two webhooks while one of them is revoked', () => {
  it('delivers the healthy route at once, pauses the revoked one in order, then delivers it all, none lost, none twice', async () => {
    await start();
    await baselines();
    routed.setStickyFault({ kind: 'status', status: 403, body: 'invalid_token' });

    await commit('int-2', 'x', 'unhealthy');
    await commit('int-2', 'y', 'unhealthy');
    await commit('int-2', 'x', 'healthy');
    await commit('int-1', 'a', 'unhealthy');

    // The default route is not held up by the revoked one.
    await waitFor('the salesforce alert on the default webhook', () => h.slack.messages.length === 1, 10_000);
    expect(texts(h.slack)[0]).toContain('Customer a (org-a)');
    await waitFor('the route found revoked', async () => (await h.redis.hget(key('lane:hubspot-team:slack'), 'up')) === '0');
    expect(routed.messages).toEqual([]);
    expect(await h.redis.llen(key('lane:hubspot-team:ids'))).toBe(3);

    // Each route's state, by name: in /metrics, /readyz (still ready: a receiver is not the process) and the status page.
    const metrics = (await get('/metrics')).body;
    expect(sample(metrics, 'ampersand_slack_up', { route: 'hubspot-team', target: '127.0.0.1' })).toBe(0);
    expect(sample(metrics, 'ampersand_slack_up', { route: 'default' })).toBe(1);
    expect(sample(metrics, 'ampersand_slack_outbox_messages', { route: 'hubspot-team' })).toBe(3);
    expect(sample(metrics, 'ampersand_slack_outbox_messages', { route: 'default' })).toBe(0);
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, slack: { state: 'ok' }, routes: { 'hubspot-team': { state: 'configuration_error' } } });
    const page = (await get('/')).body;
    expect(page).toContain('Route hubspot-team');
    // The route's webhook URL is a secret: never in a log line, /metrics, /readyz or the page.
    const secret = new URL(routed.webhookUrl).pathname;
    for (const text of [
      metrics,
      ready.body,
      page,
      logs
        .lines()
        .map((l) => JSON.stringify(l))
        .join('\n'),
    ])
      expect(text).not.toContain(secret);
    const paused = logs.lines().find((l) => String(l['msg']).includes('does not work'));
    expect(paused).toMatchObject({ route: 'hubspot-team' });
    expect(String(paused?.['msg'])).toContain('Check $HUBSPOT_WEBHOOK_URL and the channel.');

    routed.setStickyFault(undefined);
    await waitFor('the three messages of the revoked route', () => routed.messages.length === 3, 30_000);
    await sleep(1500);
    const delivered = texts(routed);
    expect(delivered).toHaveLength(3);
    expect(delivered[0]).toMatch(/^<!subteam\^S0123ABCD> \[FIRING:1\].*Customer x \(org-x\)/);
    expect(delivered[1]).toMatch(/^<!subteam\^S0123ABCD> \[FIRING:1\].*Customer y \(org-y\)/);
    expect(delivered[2]).toMatch(/^\[RESOLVED:1\].*Customer x \(org-x\)/);
    expect(delivered[2]).not.toContain('<!subteam');
    // Nothing of one route reached the other.
    expect(texts(h.slack).join('\n')).not.toContain('org-x');
    expect(h.slack.messages).toHaveLength(1);
    expect(await h.redis.llen(key('lane:hubspot-team:ids'))).toBe(0);
    expect(sample((await get('/metrics')).body, 'ampersand_slack_up', { route: 'hubspot-team' })).toBe(1);
  });
});

describe("a route's mention", () => {
  it('is on the firing message and not on the recovery', async () => {
    await start();
    await baselines();
    await commit('int-2', 'y', 'unhealthy');
    await waitFor('the firing', () => routed.messages.length === 1);
    await commit('int-2', 'y', 'healthy');
    await waitFor('the recovery', () => routed.messages.length === 2);
    const [firing, recovery] = routed.messages;
    expect(String(firing?.body.text)).toMatch(/^<!subteam\^S0123ABCD> \[FIRING:1\]/);
    expect((firing?.body.blocks as { text?: { text?: string } }[])[1]?.text?.text).toBe('<!subteam^S0123ABCD>');
    expect(recovery?.raw).not.toContain('subteam');
    // The default route has no mention.
    await commit('int-1', 'b', 'unhealthy');
    await waitFor('the default route firing', () => h.slack.messages.length === 1);
    expect(h.slack.messages[0]?.raw).not.toContain('subteam');
  });
});
